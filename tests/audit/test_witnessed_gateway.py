"""The gateway with witnesses, as partners and operators see it: receipts carry the cosigned
checkpoint (verifiable offline against the witnesses a partner trusts), readiness says when
audit writes fail, and a gateway whose audit keys went missing does not start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audit.anchors import anchor_from_note
from audit.keys import PSEUDONYM_KEY_FILE, SIGNING_KEY_FILE
from audit.merkle import verify_inclusion
from gateway.audit import AuditUnavailable
from gateway.audit.keyguard import AuditKeyError
from gateway.audit.testing import failing_audit_writes
from gateway.audit.wiring import key_dir
from gateway.config import Settings
from gateway.context import GatewayContext, build_context
from gateway.db import transaction

from .builders import disclosure
from .witnesses import RunningWitness, log_verifier, start_witness, witnessed

Auth = object


@pytest.fixture
def witness(context: GatewayContext, tmp_path: Path) -> Iterator[RunningWitness]:
    log = context.audit
    running = start_witness(tmp_path / "witness", "witness.mitros.test/kp", log)
    http = witnessed(log, [running], quorum=1)
    yield running
    http.close()


def _append(context: GatewayContext, count: int) -> None:
    log = context.audit
    with transaction(context.session_factory) as session:
        for number in range(count):
            log.append(session=session, entry=disclosure(number))


def test_a_receipt_carries_the_cosigned_checkpoint_and_verifies_offline(
    client: TestClient, context: GatewayContext, witness: RunningWitness, auth: Auth
) -> None:
    log = context.audit
    _append(context, 5)
    witness.down = True
    log.sign_checkpoint(context.session_factory)

    def headers() -> dict[str, str]:
        return auth("u-centraal", "casemanager")  # type: ignore[operator,no-any-return]

    unwitnessed = client.get("/v1/audit/receipts/3", headers=headers()).json()
    assert unwitnessed.get("checkpoint") is None  # signed, but without the quorum: not trusted

    witness.down = False
    log.sign_checkpoint(context.session_factory)
    receipt = client.get("/v1/audit/receipts/3", headers=headers()).json()
    signed_note = receipt["checkpoint"]["signedNote"]
    assert receipt["checkpoint"]["cosignatures"] == 1
    # Offline, with nothing but the pinned log key and the witness key the partner trusts.
    anchor = anchor_from_note(
        signed_note, log_verifier(log), source="the receipt", witness=witness.verifier
    )
    assert anchor.tree_size == 5
    verify_inclusion(
        3,
        anchor.tree_size,
        bytes.fromhex(receipt["leafHash"]),
        [bytes.fromhex(node) for node in receipt["inclusionProof"]],
        anchor.root_hash,
    )


def test_the_published_key_is_a_vkey_and_the_latest_checkpoint_a_signed_note(
    client: TestClient, context: GatewayContext, witness: RunningWitness, auth: Auth
) -> None:
    log = context.audit
    _append(context, 2)
    log.sign_checkpoint(context.session_factory)
    key = client.get(
        "/v1/audit/public-key",
        headers=auth("u-centraal", "casemanager"),  # type: ignore[operator]
    ).json()
    assert key["vkey"] == log_verifier(log).vkey()
    latest = client.get(
        "/v1/audit/checkpoints/latest",
        headers=auth("u-centraal", "casemanager"),  # type: ignore[operator]
    ).json()
    assert latest["note"] == f"{log.origin}\n2\n" + latest["note"].split("\n")[2] + (
        "\nprevious 0\n" + latest["note"].split("\n")[4] + "\n"
    )
    assert latest["signedNote"].count("\n\u2014 ") == 2  # the log's signature and the cosignature


def test_readiness_says_so_when_audit_writes_fail(
    client: TestClient, context: GatewayContext
) -> None:
    assert client.get("/v1/health/ready").status_code == 200
    with failing_audit_writes(context.audit), pytest.raises(AuditUnavailable):
        _append(context, 1)
    failing = client.get("/v1/health/ready")
    assert failing.status_code == 503
    assert failing.json()["checks"]["audit"] == (
        "audit writes are failing: nothing can be disclosed"
    )
    _append(context, 1)  # writes work again
    assert client.get("/v1/health/ready").status_code == 200


@pytest.mark.parametrize("name", [SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE])
def test_the_gateway_does_not_start_when_an_audit_key_went_missing(
    context: GatewayContext, settings: Settings, name: str
) -> None:
    """Before: the key was silently regenerated and a person's access report went from 34
    lines to 0 with readiness "ok"."""
    _append(context, 3)
    (key_dir(settings) / name).unlink()
    with pytest.raises(AuditKeyError, match=f"{name} is missing"):
        build_context(settings)
    assert not (key_dir(settings) / name).exists()
