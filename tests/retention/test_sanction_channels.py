"""The rule and dates of a case kept for a landlord's measure are withheld on every channel
from an officer whose partner was never shown the measure, not only on the case's own
retention route (review10 F1; docs/retention.md "What a reader is told of the landlord's
sanctions").

The probe: a Rijswijk case with the GGD in its team, moved to integrated-approach; the
landlord records a last-chance contract (30-11-2026); the case is closed. The GGD's privacy
officer read ``ruleId: null`` on ``GET /v1/cases/{id}/retention``, but ``R-3.4-zwaar`` and
``dueOn: 2028-11-30`` in the dry run (``GET /v1/retention/due``), and "Zwaardere overlast met
sancties ... Laatste sanctie opgelegd op 30-11-2026" on ``/privacy/bewaartermijnen``. R-A-
corporatie-meldingen gives the corporation's measures to the case manager and the wijkagent
only. Positive controls: the covenant's coordinating officer (the municipality, whose case
manager was shown the measure), the landlord's officer (its partner recorded it) and the
municipality's case manager read the rule and its dates, on every channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.context import GatewayContext
from gateway.core.dutch_date import dutch_today
from gateway.retention.service import SANCTION_WITHHELD_REASON
from gateway.web.retention_view import SANCTION_WITHHELD
from tests.cases.builders import RIJSWIJK_MUNICIPALITY
from tests.retention.sanction_cases import rijswijk_case_with_the_ggd
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
GGD_OFFICER = ("ggd-haaglanden", "privacy-officer")
COORDINATING_OFFICER = ("gemeente-rijswijk", "privacy-officer")
LANDLORD_OFFICER = ("rijswijk-wonen", "privacy-officer")
HEAVY_RULE = "Zwaardere overlast met sancties"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, response.text
    return response.json()


def _dry_run(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], as_of: str | None
) -> Any:
    """The dry run's item of the case for ``who``, or None when it is not listed."""
    params = {"asOf": as_of} if as_of else {}
    response = client.get("/v1/retention/due", params=params, headers=auth(*who))
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["caseId"] == case_id]
    return items[0] if items else None


def _page(browser: TestClient, who: tuple[str, str]) -> str:
    sign_in(browser, *who)
    response = browser.get("/privacy/bewaartermijnen")
    assert response.status_code == 200, response.text
    return response.text


def test_the_dry_run_names_the_sanction_rule_and_date_only_to_whom_the_state_does(
    client: TestClient, auth: Auth
) -> None:
    case_id = rijswijk_case_with_the_ggd(client, auth, measure_on="2026-11-30")
    # The probe: as of the due date, the GGD's officer read R-3.4-zwaar and 2028-11-30. Now
    # the case is not listed to it as of any day before it is due today (a listing as of a
    # day says it is due by then), and its own state says no more.
    for as_of in ("2028-11-30", "2028-11-29", "2030-01-01"):
        assert _dry_run(client, auth, case_id, GGD_OFFICER, as_of) is None, as_of
    state = _state(client, auth, case_id, GGD_OFFICER)
    assert (state["ruleId"], state["dueOn"], state["reason"]) == (
        None,
        None,
        SANCTION_WITHHELD_REASON,
    )
    # The positive controls: on the case route and in the dry run alike.
    for who in (COORDINATING_OFFICER, LANDLORD_OFFICER):
        item = _dry_run(client, auth, case_id, who, "2028-11-30")
        assert item is not None, who
        assert (item["ruleId"], item["dueOn"]) == ("R-3.4-zwaar", "2028-11-30"), who
        assert _dry_run(client, auth, case_id, who, "2028-11-29") is None, who
    for who in (COORDINATING_OFFICER, LANDLORD_OFFICER, RIJSWIJK_MUNICIPALITY):
        state = _state(client, auth, case_id, who)
        assert (state["ruleId"], state["sourceDate"], state["dueOn"]) == (
            "R-3.4-zwaar",
            "2026-11-30",
            "2028-11-30",
        ), who


def test_a_case_due_today_is_listed_without_its_rule_nor_its_date(
    client: TestClient, auth: Auth
) -> None:
    """Due today, its own state tells the officer "due": the dry run lists it, blank."""
    case_id = rijswijk_case_with_the_ggd(client, auth, measure_on="2024-06-01")
    assert _state(client, auth, case_id, GGD_OFFICER)["status"] == "due"
    for as_of in (None, dutch_today().isoformat()):
        item = _dry_run(client, auth, case_id, GGD_OFFICER, as_of)
        assert item is not None, as_of
        assert (item["ruleId"], item["dueOn"]) == (None, None), as_of
    # As of another day: the last sanction's day, found by a few tries, is not told.
    for as_of in ("2026-06-01", "2026-05-31"):
        assert _dry_run(client, auth, case_id, GGD_OFFICER, as_of) is None, as_of
    item = _dry_run(client, auth, case_id, COORDINATING_OFFICER, "2026-06-01")
    assert item is not None
    assert (item["ruleId"], item["dueOn"]) == ("R-3.4-zwaar", "2026-06-01")


def test_the_privacy_page_names_the_sanction_rule_and_date_only_to_whom_the_state_does(
    browser: TestClient, auth: Auth, context: GatewayContext
) -> None:
    case_id = rijswijk_case_with_the_ggd(browser, auth, measure_on="2026-11-30")
    from gateway.cases.models import CaseFile

    with context.session_factory() as session:
        reference = session.get_one(CaseFile, case_id).reference
    hidden = _page(browser, GGD_OFFICER)
    row = hidden[hidden.index(reference) :].split("</tr>", 1)[0]
    assert SANCTION_WITHHELD in row
    for told in (HEAVY_RULE, "R-3.4-zwaar", "Laatste sanctie", "30-11-2026", "30-11-2028"):
        assert told not in row, told
    # The positive controls.
    for who in (COORDINATING_OFFICER, LANDLORD_OFFICER):
        shown = _page(browser, who)
        row = shown[shown.index(reference) :].split("</tr>", 1)[0]
        assert HEAVY_RULE in row, who
        assert "Laatste sanctie opgelegd op 30-11-2026" in row, who
        assert "30-11-2028" in row, who
