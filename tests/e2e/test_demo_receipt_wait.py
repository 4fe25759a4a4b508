"""The demo's last step waits for a signed checkpoint to cover each receipt: it says what
it waits for and for how long, instead of a silent pause."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.demo.run import CM_U, DemoGateway, StepFailed, verify_receipts


class _NoCheckpointYet(DemoGateway):
    """A gateway whose receipts never get a proof (no checkpoint is ever signed)."""

    def call(
        self, who: Any, method: str, path: str, body: Any = None, expect_status: int = 200
    ) -> Any:
        return {"index": 7, "leafHash": "00", "inclusionProof": None, "checkpoint": None}


@pytest.mark.usefixtures("context")
def test_waiting_for_a_checkpoint_reports_progress_then_fails_clearly(
    settings: Settings, context: GatewayContext
) -> None:
    heard: list[str] = []
    with httpx.Client() as client:
        gw = _NoCheckpointYet("http://unused", settings, client)
        gw.receipts.append(("disclosure", "d-1", CM_U))
        with pytest.raises(StepFailed, match="a signed checkpoint covers entry 7"):
            verify_receipts(gw, 1.2, heard.append)
    assert heard, "no progress while waiting"
    assert heard[0].startswith("Receipt 1 of 1 (log entry 7): waiting for the gateway's next")
    assert "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS" in heard[0]
    assert "giving up after 1 s" in heard[0]
