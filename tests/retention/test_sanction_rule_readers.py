"""A reader who could not be shown the landlord's measures reads a case with a measure and
one without alike, on every channel (review11 N1; docs/retention.md "What a reader is told
of the landlord's sanctions").

Review10 F1 withheld the rule only where a hidden measure existed: the GGD (its zorgmedewerker
and its privacy officer) read "no rule" for a closed Rijswijk case with the landlord's
last-chance contract, and R-3.4-zonder-sancties with its date for one without, so "no rule"
meant "the landlord recorded a sanction"; after the sweep it read "Erased under rule
R-3.4-zwaar on ..." and the exchange's 410 carried ``ruleId: R-3.4-zwaar``. Now the rule is
withheld by who the reader is (its roles in the case's phases: R-A-corporatie-meldingen gives
the measures to the case manager and the wijkagent only), for every rule chosen by sanctions.
Positive controls: the municipality's case manager and officer and the landlord and its
officer read R-3.4-zwaar and R-3.4-zonder-sancties with their dates; the GGD reads the
open-case rule of an open case (not its dates: residual (b)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile
from gateway.context import GatewayContext
from gateway.retention.sanctions import ERASURE_WITHHELD_REASON, SANCTION_WITHHELD_REASON
from gateway.web.retention_view import SANCTION_WITHHELD
from tests.cases.builders import RIJSWIJK_LANDLORD, RIJSWIJK_MUNICIPALITY
from tests.retention.sanction_cases import ask_erased, rijswijk_case_with_the_ggd
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
GGD = ("ggd-haaglanden", "zorgmedewerker")
GGD_OFFICER = ("ggd-haaglanden", "privacy-officer")
NOT_SHOWN = (GGD, GGD_OFFICER)
SHOWN = (
    RIJSWIJK_MUNICIPALITY,
    ("gemeente-rijswijk", "privacy-officer"),
    RIJSWIJK_LANDLORD,
    ("rijswijk-wonen", "privacy-officer"),
)
HEAVY, UNSANCTIONED = "R-3.4-zwaar", "R-3.4-zonder-sancties"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, response.text
    state = response.json()
    del state["caseId"]
    return state


def _records(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(*who))
    assert response.status_code == 200, response.text
    listed = response.json()
    return (
        listed["status"],
        listed["withheld"],
        sorted(
            {
                (r["kind"], r["status"], r["ruleId"], r["dueOn"], r["reason"])
                for r in listed["records"]
            }
        ),
    )


def _dry_run(client: TestClient, auth: Auth, who: tuple[str, str], as_of: str | None) -> Any:
    params = {"asOf": as_of} if as_of else {}
    response = client.get("/v1/retention/due", params=params, headers=auth(*who))
    assert response.status_code == 200, response.text
    return {i["caseId"]: i for i in response.json()["items"]}


def _row(page: str, reference: str) -> str:
    return page[page.index(reference) :].split("</tr>", 1)[0].replace(reference, "REF")


def _reference(context: GatewayContext, case_id: str) -> str:
    with context.session_factory() as session:
        return session.get_one(CaseFile, case_id).reference


def test_a_case_with_a_measure_and_one_without_read_alike_to_whom_the_measures_are_not_shown(
    client: TestClient, auth: Auth
) -> None:
    heavy = rijswijk_case_with_the_ggd(client, auth, measure_on="2026-11-30")
    light = rijswijk_case_with_the_ggd(client, auth, measure_on=None)
    for who in NOT_SHOWN:
        state = _state(client, auth, heavy, who)
        assert state == _state(client, auth, light, who), who
        assert (state["ruleId"], state["sourceDate"], state["dueOn"]) == (None, None, None)
        assert state["reason"] == SANCTION_WITHHELD_REASON
        assert "measure" not in state["reason"]
        assert _records(client, auth, heavy, who) == _records(client, auth, light, who), who
    # The dry run lists neither as of another day (nor today: neither is due).
    for as_of in (None, "2027-12-31", "2028-11-30", "2030-01-01"):
        listed = _dry_run(client, auth, GGD_OFFICER, as_of)
        assert {heavy, light}.isdisjoint(listed), as_of
    # The positive controls: on the state and in the dry run.
    for who in SHOWN:
        assert _state(client, auth, heavy, who)["ruleId"] == HEAVY, who
        assert _state(client, auth, heavy, who)["dueOn"] == "2028-11-30", who
        state = _state(client, auth, light, who)
        assert state["ruleId"] == UNSANCTIONED, who
        assert state["dueOn"] is not None, who
    for who in SHOWN[1::2]:
        listed = _dry_run(client, auth, who, "2030-01-01")
        assert (listed[heavy]["ruleId"], listed[heavy]["dueOn"]) == (HEAVY, "2028-11-30"), who
        assert listed[light]["ruleId"] == UNSANCTIONED, who


def test_the_privacy_page_rows_read_alike_to_the_ggds_officer(
    browser: TestClient, auth: Auth, context: GatewayContext
) -> None:
    heavy = rijswijk_case_with_the_ggd(browser, auth, measure_on="2026-11-30")
    light = rijswijk_case_with_the_ggd(browser, auth, measure_on=None)
    refs = (_reference(context, heavy), _reference(context, light))
    sign_in(browser, *GGD_OFFICER)
    page = browser.get("/privacy/bewaartermijnen").text
    rows = [_row(page, ref) for ref in refs]
    assert rows[0] == rows[1]
    assert SANCTION_WITHHELD in rows[0]
    assert "maatregel" not in rows[0]
    sign_in(browser, "gemeente-rijswijk", "privacy-officer")
    page = browser.get("/privacy/bewaartermijnen").text
    assert "Zwaardere overlast met sancties" in _row(page, refs[0])
    assert "Zonder sancties" in _row(page, refs[1])


def test_the_erased_state_and_the_410_read_alike_to_whom_the_measures_are_not_shown(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    heavy = rijswijk_case_with_the_ggd(client, auth, measure_on="2026-11-30")
    light = rijswijk_case_with_the_ggd(client, auth, measure_on=None)
    assert context.require_retention().sweep(as_of=date(2030, 1, 1)).redacted == 2
    for who in NOT_SHOWN:
        state = _state(client, auth, heavy, who)
        assert state == _state(client, auth, light, who), who
        assert (state["status"], state["ruleId"], state["erasedAt"]) == ("erased", None, None)
        assert state["reason"] == ERASURE_WITHHELD_REASON
    refused = {case_id: ask_erased(client, auth, case_id, GGD) for case_id in (heavy, light)}
    assert refused[heavy] == refused[light]
    assert (refused[heavy]["ruleId"], refused[heavy]["erasedAt"]) == (None, None)
    assert refused[heavy]["detail"] == ERASURE_WITHHELD_REASON
    # The positive controls: the state and the 410 name the rule and the day.
    for who in SHOWN:
        for case_id, rule in ((heavy, HEAVY), (light, UNSANCTIONED)):
            state = _state(client, auth, case_id, who)
            assert (state["status"], state["ruleId"]) == ("erased", rule), who
            assert state["erasedAt"] is not None, who
            assert state["reason"].startswith(f"Erased under rule {rule} on "), who
    for case_id, rule in ((heavy, HEAVY), (light, UNSANCTIONED)):
        told = ask_erased(client, auth, case_id, RIJSWIJK_MUNICIPALITY)
        assert told["ruleId"] == rule
        assert told["erasedAt"] is not None


def test_the_ggd_reads_the_open_case_rule_of_an_open_case(client: TestClient, auth: Auth) -> None:
    """The open-case rule is chosen by no sanction: named to everyone (control). Its dates
    run from the last activity, which can be a landlord's measure, so the GGD reads none
    (residual (b); tests/retention/test_open_case_dates_readers.py)."""
    case_id = rijswijk_case_with_the_ggd(client, auth, measure_on="2026-11-30", closed=False)
    for who in (*NOT_SHOWN, *SHOWN):
        state = _state(client, auth, case_id, who)
        assert state["ruleId"] == "R-open-zonder-activiteit", who
        assert (state["dueOn"] is not None) == (who in SHOWN), who


def test_the_410_withholds_the_rule_when_its_check_fails(
    client: TestClient, auth: Auth, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: a check that raises (here not the database: a rule file that does not
    answer) withholds the rule and the day from the 410 and keeps it a 410, where it had
    been a 500. Its positive control is the municipality's 410 in the test above."""
    import gateway.retention.problems as problems

    heavy = rijswijk_case_with_the_ggd(client, auth, measure_on="2026-11-30")
    assert context.require_retention().sweep(as_of=date(2030, 1, 1)).redacted == 1

    def broken(*args: Any, **kwargs: Any) -> str:
        raise KeyError("a rule the file does not have")

    monkeypatch.setattr(problems, "erased_withheld", broken)
    told = ask_erased(client, auth, heavy, RIJSWIJK_MUNICIPALITY)
    assert (told["ruleId"], told["erasedAt"]) == (None, None)
    assert told["detail"] == ERASURE_WITHHELD_REASON
