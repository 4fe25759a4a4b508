"""Who is told that the resident moved out, and when (review5b p5b).

R §3.4 keeps a Rijswijk dossier "zolang de bewoner het pand bewoont": under R-3.4-zwaar and
R-3.4-zonder-sancties the day the resident moved out is the term's source date and its due
date. The sources tell a move to the case manager only (U §5.2, seed 000 l.79: "op advies
van de casemanager"; R §2.3, seed 003 l.123-126, tells the municipality of legal measures),
while closure reaches every involved partner (U §7). But the case's retention state
(``sourceDate``, ``dueOn``, ``reason``, the ZGW terms), its records, the dry run, the
privacy officer's page ("Bewoner verhuisd op ...") and the summary's erasure warning told
every team member and their privacy officers the day of the move.

Now, in the way review4 F10 withholds a restart (``service.shown_verdict``), the move is
told only to the case's lead and the partner that recorded it (any of their roles); every
other reader sees the rule, the status and the erasure, without a source date, a due date
or a reason naming the move. The positive control: the lead and the landlord read the date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention.sanctions import ERASURE_WITHHELD_REASON, SANCTION_WITHHELD_REASON
from gateway.web.retention_view import SANCTION_WITHHELD
from tests.retention.conftest import MUNICIPALITY, Seeder, close_case
from tests.web.conftest import sign_in

Auth = Callable[..., dict[str, str]]
LANDLORD = "rijswijk-wonen"
MOVED_ON = "2024-06-01"
MOVED_NL = "01-06-2024"
CLOSED_AT = datetime(2024, 5, 1, 10, tzinfo=UTC)
LEAD = (MUNICIPALITY, "casemanager")
LEAD_OFFICER = (MUNICIPALITY, "privacy-officer")
RECORDER = (LANDLORD, "woonconsulent")
RECORDER_OFFICER = (LANDLORD, "privacy-officer")
POLICE = ("politie-den-haag", "wijkagent")
POLICE_OFFICER = ("politie-den-haag", "privacy-officer")
OTHERS = (
    POLICE,
    POLICE_OFFICER,
    ("ggd-haaglanden", "zorgmedewerker"),
    ("vidomes", "privacy-officer"),
)
TOLD = (LEAD, LEAD_OFFICER, RECORDER, RECORDER_OFFICER)
NOT_LISTED = "not listed"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def _case(
    context: GatewayContext, seed: Seeder, *, lead: str = MUNICIPALITY, closed: bool = True
) -> str:
    """A Rijswijk case (opened 2024-01-02, closed 2024-05-01 unless ``closed`` is false, no
    sanction, no mediation: R-3.4-zonder-sancties) whose dwelling the landlord lets, with
    the landlord, the police, the GGD and the other corporation in its team. Closed: the
    move-out term of an open case waits for its closure (review8a F5)."""
    case_id = seed().case_id
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.get_one(Dwelling, case.dwelling_id).corporation_id = LANDLORD
        case.lead_partner_id = lead
        for partner in (LANDLORD, "politie-den-haag", "ggd-haaglanden", "vidomes"):
            session.add(CaseTeamMember.of(case, partner, now=case.opened_at, by="t"))
    # Seeded weighed: the case manager and the wijkagent could be shown the landlord's
    # measures, so they and their officers read the rule chosen by sanctions (review11 N1);
    # the GGD and the other corporation do not.
    if closed:
        close_case(context, case_id, CLOSED_AT)
    return case_id


def _moved(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> None:
    response = client.post(
        f"/v1/cases/{case_id}/retention/facts",
        json={"kind": "resident-moved-out", "occurredOn": MOVED_ON},
        headers=auth(*who),
    )
    assert response.status_code == 201, response.text


def _state(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> dict[str, Any]:
    response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
    assert response.status_code == 200, (who, response.text)
    state: dict[str, Any] = response.json()
    return state


def _rule_shown(who: tuple[str, str]) -> str | None:
    """The rule chosen by sanctions, read by the partners whose roles could be shown the
    landlord's measures in the weighing (the police's wijkagent; review11 N1); the GGD and
    the other corporation read no rule (gateway/retention/sanctions.py)."""
    return "R-3.4-zonder-sancties" if who[0] == "politie-den-haag" else None


def _records(client: TestClient, auth: Auth, case_id: str, who: tuple[str, str]) -> str:
    response = client.get(f"/v1/cases/{case_id}/retention/records", headers=auth(*who))
    assert response.status_code == 200, (who, response.text)
    return response.text


def test_control_the_lead_and_the_landlord_read_the_move(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    case_id = _case(context, seed)
    _moved(client, auth, case_id, RECORDER)
    for who in TOLD:
        state = _state(client, auth, case_id, who)
        assert state["ruleId"] == "R-3.4-zonder-sancties", (who, state)
        assert (state["sourceDate"], state["dueOn"]) == (MOVED_ON, MOVED_ON), (who, state)
        assert "resident-moved-out on 2024-06-01" in state["reason"], (who, state)
        assert state["brondatumArchiefprocedure"]["datumkenmerk"] == "resident-moved-out"
        assert MOVED_ON in _records(client, auth, case_id, who)


def test_another_team_member_and_its_officer_are_not_told_of_the_move(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Failed before: every reader read ``sourceDate``/``dueOn`` 2024-06-01 and the reason
    "resident-moved-out on 2024-06-01"."""
    case_id = _case(context, seed)
    _moved(client, auth, case_id, RECORDER)
    for who in OTHERS:
        response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
        assert response.status_code == 200, (who, response.text)
        state = response.json()
        assert state["ruleId"] == _rule_shown(who), (who, state)
        assert state["status"] == "due"
        assert (state["sourceDate"], state["dueOn"], state["archiefactiedatum"]) == (
            None,
            None,
            None,
        ), (who, state)
        assert state["brondatumArchiefprocedure"] is None, (who, state)
        assert state["reason"] == (
            "R-3.4-zonder-sancties: kept; its due date is not shown."
            if _rule_shown(who)
            else SANCTION_WITHHELD_REASON
        ), who
        assert MOVED_ON not in response.text, who
        assert "moved" not in response.text, who
        records = _records(client, auth, case_id, who)
        assert MOVED_ON not in records, who
        assert "moved" not in records, who


def test_the_erased_case_tells_the_team_of_its_erasure_not_of_the_move(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """Closure, and the erasure, are the team's; the day of the move stays the lead's and the
    landlord's."""
    case_id = _case(context, seed)
    _moved(client, auth, case_id, RECORDER)
    assert context.require_retention().sweep(as_of=date(2024, 6, 2)).redacted == 1
    for who in OTHERS:
        response = client.get(f"/v1/cases/{case_id}/retention", headers=auth(*who))
        state = response.json()
        assert state["status"] == "erased", (who, state)
        if _rule_shown(who):
            assert state["erasedAt"] is not None
            assert state["reason"].startswith("Erased under rule R-3.4-zonder-sancties on ")
        else:
            assert (state["erasedAt"], state["reason"]) == (None, ERASURE_WITHHELD_REASON)
        assert (state["sourceDate"], state["dueOn"]) == (None, None), (who, state)
        assert MOVED_ON not in response.text, who
        assert MOVED_ON not in _records(client, auth, case_id, who), who
    for who in TOLD:
        state = _state(client, auth, case_id, who)
        assert (state["status"], state["dueOn"]) == ("erased", MOVED_ON), (who, state)


def test_after_a_hand_over_the_new_lead_is_told_and_the_former_one_not(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """The lead is read at every request (R §2.3: the corporation takes the lead back); the
    municipality, its coordinating privacy officer included, is then told only if it
    recorded the move itself."""
    case_id = _case(context, seed, lead=LANDLORD)
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        team = CaseTeamMember.of(case, "sociaal-wijkteam-rijswijk", now=case.opened_at, by="t")
        session.add(team)
    _moved(client, auth, case_id, RECORDER)
    assert _state(client, auth, case_id, RECORDER)["dueOn"] == MOVED_ON
    for who in (LEAD, LEAD_OFFICER, ("sociaal-wijkteam-rijswijk", "buurtteam-medewerker")):
        assert _state(client, auth, case_id, who)["dueOn"] is None, who


def test_the_dry_run_shows_an_officer_not_told_no_due_date(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    case_id = _case(context, seed)
    _moved(client, auth, case_id, RECORDER)

    def due(who: tuple[str, str], as_of: str | None = "2024-06-02") -> Any:
        return _due(client, auth, case_id, who, as_of)

    assert due(LEAD_OFFICER) == MOVED_ON
    assert due(RECORDER_OFFICER) == MOVED_ON
    _not_told_in_the_dry_run(client, auth, case_id)


def test_the_privacy_page_says_no_move_to_an_officer_not_told(
    browser: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    case_id = _case(context, seed)
    _moved(browser, auth, case_id, RECORDER)
    with context.session_factory() as session:
        reference = session.get_one(CaseFile, case_id).reference

    def page(who: tuple[str, str]) -> str:
        sign_in(browser, *who)
        response = browser.get("/privacy/bewaartermijnen")
        assert response.status_code == 200, response.text
        assert reference in response.text, who
        return response.text

    assert f"Bewoner verhuisd op {MOVED_NL}" in page(RECORDER_OFFICER)
    told = page(LEAD_OFFICER)
    assert f"Bewoner verhuisd op {MOVED_NL}" in told
    for who in (POLICE_OFFICER, ("vidomes", "privacy-officer")):
        shown = page(who)
        assert "verhuisd" not in shown, who
        assert MOVED_NL not in shown, who
    assert "Vernietigen op een datum die u niet wordt getoond." in page(POLICE_OFFICER)
    # The other corporation could not be shown the landlord's measures: no rule either.
    assert SANCTION_WITHHELD in page(("vidomes", "privacy-officer"))


def test_an_open_case_is_not_due_on_the_move_and_warns_no_one_of_it(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """review8a F5: a move-out recorded on an open case made it due that day (erased by the
    next sweep, mid-workflow) and its summary warned the lead of an erasure the day before
    the move, overdue on arrival. Now the move-out term waits for the closure: the open
    case stays under the open-case rule, and no summary names the move's day."""
    case_id = _case(context, seed, closed=False)
    _moved(client, auth, case_id, RECORDER)
    for who in (*TOLD, *OTHERS):
        state = _state(client, auth, case_id, who)
        assert MOVED_ON not in str(state), (who, state)
    lead = _state(client, auth, case_id, LEAD)
    assert lead["ruleId"] == "R-open-zonder-activiteit", lead
    assert context.require_retention().sweep(as_of=date(2024, 6, 2)).redacted == 0

    def warnings(who: tuple[str, str]) -> list[dict[str, Any]]:
        response = client.get(f"/v1/cases/{case_id}", headers=auth(*who))
        assert response.status_code == 200, (who, response.text)
        return [d for d in response.json()["deadlines"] if d["kind"] == "retention"]

    for who in (LEAD, RECORDER, POLICE):
        assert all(MOVED_ON not in str(w) for w in warnings(who)), who


def test_the_dry_run_withholds_a_move_its_own_verdict_runs_from(
    client: TestClient, auth: Auth, context: GatewayContext, seed: Seeder
) -> None:
    """The move recorded while the case was open (its term waits for the closure), then the
    case closed: the stored verdict is the open case's until a read or a sweep imports the
    closure, while the dry run imports it and is due on the move. It withholds the day from
    an officer not told by the dry run's own verdict, not by the older stored one."""
    case_id = _case(context, seed, closed=False)
    _moved(client, auth, case_id, RECORDER)
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.state, case.closed_at = "closed", CLOSED_AT

    def due(who: tuple[str, str], as_of: str | None = "2024-06-02") -> Any:
        return _due(client, auth, case_id, who, as_of)

    _not_told_in_the_dry_run(client, auth, case_id)
    assert due(LEAD_OFFICER) == MOVED_ON  # control: the lead's officer is told


def _due(
    client: TestClient, auth: Auth, case_id: str, who: tuple[str, str], as_of: str | None
) -> Any:
    """The case's ``dueOn`` in ``who``'s dry run as of ``as_of`` (None: today); ``NOT_LISTED``
    when the case is not listed."""
    params = {"asOf": as_of} if as_of else {}
    response = client.get("/v1/retention/due", params=params, headers=auth(*who))
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["caseId"] == case_id]
    return items[0]["dueOn"] if items else NOT_LISTED


def _not_told_in_the_dry_run(client: TestClient, auth: Auth, case_id: str) -> None:
    """The police's officer, not told of the move: listed as of today with no due date (its
    own state says "due"), and not listed as of any other day, where being listed (due by
    then) would let a few ``asOf`` days find the day of the move (review11 N1)."""
    assert _due(client, auth, case_id, POLICE_OFFICER, None) is None
    for as_of in ("2024-06-01", "2024-06-02", "2024-05-31", "2030-01-01"):
        assert _due(client, auth, case_id, POLICE_OFFICER, as_of) == NOT_LISTED, as_of
