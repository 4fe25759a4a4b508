"""An open case's dates to a reader who could not be shown the landlord's measures
(docs/retention.md, "What a reader is told of the landlord's sanctions", residual (b)).

The open-case rule (R-open-zonder-activiteit) is chosen by no sanction and is named to
everyone, but it runs from the case's last activity, and a landlord's measure
(``sanction-imposed``) is an activity: its ``sourceDate`` and ``dueOn`` were the day of a
last-chance contract that the GGD, never shown the landlord's measures in the case, read
nowhere else. Before, the GGD's zorgmedewerker and privacy officer read 2024-03-01 (the
measure's day) and 2025-03-01 for a case with a measure and 2024-01-02 and 2025-01-02 for one
without, on the state, the records, the dry run, the privacy page, and the summary's
erasure warning. Now they read the rule and no date for both, as for a withheld move-out;
the lead, the landlord, the police's wijkagent (shown the measures from the weighing on)
and their officers read the dates (positive controls). Utrecht counts no landlord's
measure: its open-case dates stay everyone's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.retention.conftest import MUNICIPALITY, UTRECHT, Seeder, add_fact
from tests.retention.sanction_cases import ask_erased
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
OPEN = "R-open-zonder-activiteit"
LANDLORD = "rijswijk-wonen"
GGD = ("ggd-haaglanden", "zorgmedewerker")
GGD_OFFICER = ("ggd-haaglanden", "privacy-officer")
NOT_SHOWN = (GGD, GGD_OFFICER)
SHOWN = (
    (MUNICIPALITY, "casemanager"),
    (MUNICIPALITY, "privacy-officer"),
    (LANDLORD, "woonconsulent"),
    (LANDLORD, "privacy-officer"),
    ("politie-den-haag", "wijkagent"),
    ("politie-den-haag", "privacy-officer"),
)
#: The words of a withheld date (sanctions.dates_withheld_reason, retention_view.DATE_WITHHELD),
#: spelled out here so that the tests run, and fail, on the code before them.
WITHHELD_REASON = f"{OPEN}: kept; its due date is not shown."
DATE_WITHHELD = "Vernietigen op een datum die u niet wordt getoond."
ERASED_DAY_WITHHELD = f"Erased under rule {OPEN}; its day is not shown."
MEASURE_ON = "2024-03-01"  # the landlord's last-chance contract: the case's last activity
MEASURE_DUE = "2025-03-01"
OPENED_DUE = "2025-01-02"  # the case opened (and was weighed) on 2024-01-02


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _case(
    context: GatewayContext,
    seed: Seeder,
    *,
    measure: bool,
    weighed: bool = True,
    activity: date | None = None,
) -> str:
    """An open Rijswijk case (opened 2024-01-02) whose dwelling the landlord lets, with the
    landlord, the police and the GGD in its team; with the landlord's last-chance contract
    on :data:`MEASURE_ON` when ``measure``, and a transition on ``activity`` if given."""
    case_id = seed(weighed=weighed).case_id
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.get_one(Dwelling, case.dwelling_id).corporation_id = LANDLORD
        for partner in (LANDLORD, "politie-den-haag", "ggd-haaglanden"):
            session.add(CaseTeamMember.of(case, partner, now=case.opened_at, by="t"))
    if measure:
        # As the sync imports the landlord's case event (casefacts: ``event:<kind>``).
        add_fact(
            context,
            case_id,
            "sanction-imposed",
            date.fromisoformat(MEASURE_ON),
            "event:last-chance-contract",
        )
    if activity is not None:
        add_fact(context, case_id, "case-activity", activity)
    return case_id


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, (who, response.text)
    state = response.json()
    del state["caseId"]
    return state


def _records(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> Any:
    response = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(*who))
    assert response.status_code == 200, (who, response.text)
    return sorted(
        (r["kind"], r["status"], r["ruleId"], r["dueOn"], r["reason"])
        for r in response.json()["records"]
    )


def _dry_run(client: TestClient, auth: Auth, who: tuple[str, str], as_of: str | None) -> Any:
    params = {"asOf": as_of} if as_of else {}
    response = client.get("/v1/retention/due", params=params, headers=auth(*who))
    assert response.status_code == 200, response.text
    return {i["caseId"]: i for i in response.json()["items"]}


def _warnings(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> list[Any]:
    response = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
    assert response.status_code == 200, (who, response.text)
    return [d for d in response.json()["deadlines"] if d["kind"] == "retention"]


def test_the_ggd_reads_an_open_case_with_a_measure_and_one_without_alike(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Failed before: the GGD read ``sourceDate`` 2024-03-01 and ``dueOn`` 2025-03-01, the
    day of the landlord's measure and a year later, for the case with the measure."""
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    for who in NOT_SHOWN:
        state = _state(client, auth, measured, who)
        assert state == _state(client, auth, plain, who), who
        assert state["ruleId"] == OPEN, (who, state)
        assert (state["sourceDate"], state["dueOn"], state["archiefactiedatum"]) == (
            None,
            None,
            None,
        ), (who, state)
        assert state["brondatumArchiefprocedure"] is None, (who, state)
        assert state["reason"] == WITHHELD_REASON, (who, state)
        assert _records(client, auth, measured, who) == _records(client, auth, plain, who), who
        assert MEASURE_DUE not in str(_records(client, auth, measured, who)), who


def test_control_the_lead_the_landlord_and_the_wijkagent_read_the_dates(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    for who in SHOWN:
        state = _state(client, auth, measured, who)
        assert (state["ruleId"], state["sourceDate"], state["dueOn"]) == (
            OPEN,
            MEASURE_ON,
            MEASURE_DUE,
        ), (who, state)
        assert _state(client, auth, plain, who)["dueOn"] == OPENED_DUE, who
        assert MEASURE_DUE in str(_records(client, auth, measured, who)), who


def test_the_dry_run_gives_the_ggds_officer_no_open_case_date(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Failed before: listed with ``dueOn`` as of today, and as of 2025-02-01 the case
    without a measure was listed (due) and the one with a measure not."""
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    today = _dry_run(client, auth, GGD_OFFICER, None)
    assert today[measured]["dueOn"] is None
    assert today[plain]["dueOn"] is None
    assert today[measured]["ruleId"] == today[plain]["ruleId"] == OPEN
    for as_of in ("2025-01-02", "2025-02-01", "2025-03-01", "2030-01-01"):
        assert {measured, plain}.isdisjoint(_dry_run(client, auth, GGD_OFFICER, as_of)), as_of
    # The positive control: the lead's officer.
    listed = _dry_run(client, auth, (MUNICIPALITY, "privacy-officer"), "2025-02-01")
    assert listed[plain]["dueOn"] == OPENED_DUE
    assert measured not in listed
    listed = _dry_run(client, auth, (MUNICIPALITY, "privacy-officer"), None)
    assert listed[measured]["dueOn"] == MEASURE_DUE


def test_the_summary_warns_the_lead_and_not_the_ggd(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """The erasure warning (an open case's, overdue here) named the erasure day, the
    measure's day a year later, to every reader of the summary. Now not to the GGD; the
    lead is warned, and the wijkagent (shown the measures) reads it."""
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    assert _warnings(client, auth, measured, GGD) == _warnings(client, auth, plain, GGD) == []
    for who in ((MUNICIPALITY, "casemanager"), ("politie-den-haag", "wijkagent")):
        (warning,) = _warnings(client, auth, measured, who)
        assert MEASURE_DUE in warning["description"], who


def test_the_lead_is_warned_when_it_could_not_be_shown_the_measures(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """A case never out of intake: no one but the landlord could be shown its measures, the
    lead's case manager included, whose state has no date; but the lead is warned before
    any erasure (documented residual), and the wijkagent is not."""
    case_id = _case(context, seed, measure=True, weighed=False)
    lead = (MUNICIPALITY, "casemanager")
    assert _state(client, auth, case_id, lead)["dueOn"] is None
    (warning,) = _warnings(client, auth, case_id, lead)
    assert MEASURE_DUE in warning["description"]
    assert _warnings(client, auth, case_id, ("politie-den-haag", "wijkagent")) == []


def test_utrecht_counts_no_landlords_measure_and_withholds_no_open_case_date(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Control: a covenant whose retention file counts no landlord's measure
    (``sanctionEvents: []``) names its open-case dates to the team."""
    case_id = seed(covenant_id=UTRECHT).case_id
    state = _state(client, auth, case_id, ("gemeente-utrecht", "privacy-officer"))
    assert state["ruleId"] == "U-open-zonder-activiteit"
    assert state["dueOn"] == OPENED_DUE


def _reference(context: GatewayContext, case_id: str) -> str:
    with context.session_factory() as session:
        return session.get_one(CaseFile, case_id).reference


def _row(page: str, reference: str) -> str:
    return page[page.index(reference) :].split("</tr>", 1)[0].replace(reference, "REF")


def test_the_privacy_page_gives_the_ggds_officer_no_open_case_date(
    browser: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    refs = (_reference(context, measured), _reference(context, plain))
    for case_id in (measured, plain):  # the stored verdicts, as a read (or a sweep) leaves them
        _state(browser, auth, case_id, SHOWN[0])
    sign_in(browser, *GGD_OFFICER)
    page = browser.get("/privacy/bewaartermijnen").text
    rows = [_row(page, ref) for ref in refs]
    assert rows[0] == rows[1]
    assert DATE_WITHHELD in rows[0]
    assert "01-03-2025" not in page
    assert "01-03-2024" not in page
    assert "verlopen" not in rows[0]
    sign_in(browser, MUNICIPALITY, "privacy-officer")
    page = browser.get("/privacy/bewaartermijnen").text
    assert "01-03-2025" in _row(page, refs[0])
    assert "01-03-2024" in _row(page, refs[0])


def test_the_erased_open_case_names_its_rule_and_not_its_day_to_the_ggd(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """The sweep erases an open case on the first run from its due date, a year after the
    last activity: the day of the erasure would give the measure's. Failed before: the GGD
    read ``erasedAt`` and "Erased under rule R-open-zonder-activiteit on <day>", on the
    state and in the exchange's 410."""
    measured = _case(context, seed, measure=True)
    plain = _case(context, seed, measure=False)
    for case_id in (measured, plain):  # the stored verdicts, as a read leaves them
        _state(client, auth, case_id, SHOWN[0])
    assert context.require_retention().sweep(as_of=date(2025, 4, 1)).redacted == 2
    for case_id in (measured, plain):
        for who in NOT_SHOWN:
            state = _state(client, auth, case_id, who)
            assert (state["status"], state["ruleId"], state["erasedAt"]) == (
                "erased",
                OPEN,
                None,
            ), (who, state)
            assert state["reason"] == ERASED_DAY_WITHHELD, (who, state)
        refused = ask_erased(client, auth, case_id, GGD)
        assert (refused["ruleId"], refused["erasedAt"]) == (OPEN, None), refused
        assert refused["detail"] == ERASED_DAY_WITHHELD
        # The positive controls: the lead and the wijkagent read the day.
        for who in ((MUNICIPALITY, "casemanager"), ("politie-den-haag", "wijkagent")):
            state = _state(client, auth, case_id, who)
            assert state["erasedAt"] is not None, who
            assert state["reason"].startswith(f"Erased under rule {OPEN} on "), who
        told = ask_erased(client, auth, case_id, (MUNICIPALITY, "casemanager"))
        assert (told["ruleId"], told["erasedAt"] is not None) == (OPEN, True)
