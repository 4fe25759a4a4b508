"""Rijswijk's covenant keeps no police investigation status (no clause there depends on it,
review3): the police cannot record it (422 ``not-in-covenant``) and their summary carried
``investigationRunning: null`` and no ``withheld`` entry for it, which reads as "not recorded
yet", treated as running. Now the summary names the fields its covenant keeps nothing of in
``notInCovenant``, for every reader. Control: in Utrecht, where the antecedents depend on
it, the list is empty and the police's ``null`` is "not recorded yet"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.cases.builders import RIJSWIJK_LANDLORD, rijswijk_case_led_by_the_landlord
from tests.exchange.conftest import CASE_MANAGER, WIJKAGENT, open_utrecht_case

Auth = Callable[..., dict[str, str]]
RIJSWIJK_POLICE = ("politie-den-haag", "wijkagent")
NOT_KEPT = ["investigationRunning", "omConsents"]


def _summary(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    seen = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert seen.status_code == 200, seen.text
    return seen.json()


def test_rijswijks_summary_says_it_keeps_no_investigation_status(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_led_by_the_landlord(client, auth, team=("politie-den-haag",))
    police = _summary(client, auth, case_id, RIJSWIJK_POLICE)
    assert police["investigationRunning"] is None
    assert police["notInCovenant"] == NOT_KEPT
    assert "investigationRunning" not in police["withheld"]  # the police read it where kept
    refused = client.put(
        f"/v1/cases/{case_id}/investigation-status",
        json={"running": True},
        headers=auth(*RIJSWIJK_POLICE),
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("not-in-covenant")
    # Every reader is told the same: it is a fact of the covenant, not of the case.
    landlord = _summary(client, auth, case_id, RIJSWIJK_LANDLORD)
    assert landlord["notInCovenant"] == NOT_KEPT


def test_control_utrechts_summary_keeps_it(client: TestClient, auth: Auth) -> None:
    case = open_utrecht_case(client, auth)
    police = _summary(client, auth, case.case_id, WIJKAGENT)
    assert (police["investigationRunning"], police["notInCovenant"]) == (None, [])
    case.investigation(True)
    assert _summary(client, auth, case.case_id, WIJKAGENT)["investigationRunning"] is True
    assert _summary(client, auth, case.case_id, CASE_MANAGER)["notInCovenant"] == []
