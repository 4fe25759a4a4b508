"""The steering report's state figures (openCases, openByPhase, openByDistrict,
overdueDeadlines) are as of the end of its period (``asOf``), not the moment it is read.

Live, two reads an hour apart told any partner of the covenant "one case moved from
plan-of-approach to execution since", "one case in Oost was closed", or "one case was
erased" past the small-group suppression of each read. As of the end of the last ended month
they change only when another month ends (gateway/cases/state_at.py). Each regression has
its control: once the month has ended, the same figures show the change.

The history here is made through the API, then moved back forty days (every moment of every
case: a month before the current one began), so that the steps taken after it fall in the
month in progress, after ``asOf``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.cases import overview
from gateway.cases.models import CaseConsent, CaseFile, CaseReport, CaseTransition, Dwelling
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import SteeringReport
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.cases import overview_oracle
from tests.cases.builders import report_body
from tests.steering_periods import ended_month_query, exact_counts, this_month_ended

Auth = Callable[..., dict[str, str]]
CM = ("u-centraal", "casemanager")
POLICE = ("politie-midden-nederland", "wijkagent")
READER = ("gemeente-utrecht", "gebiedsmanager")  # a member of the steering group (U §8)
STATE = ("asOf", "openCases", "openByPhase", "openByDistrict", "overdueDeadlines")
BACK = timedelta(days=40)


@pytest.fixture(autouse=True)
def _exact_counts() -> Iterator[None]:
    """The true counts in every report of this file: what it tests is not the noise (the
    cell-key method, review14; tests/cases/test_steering_differences.py)."""
    with exact_counts():
        yield


@pytest.fixture(autouse=True)
def _every_count_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the moment does to the figures, not small counts (test_steering_figures.py):
    # every count is shown here, one case too.
    monkeypatch.setattr("gateway.cases.steering.MIN_GROUP_SIZE", 1)


def _open(client: TestClient, auth: Auth, number: int, district: str) -> str:
    body = report_body(
        number=number,
        ownership="private-rental",
        corporation=None,
        district=district,
        persons=[],
    )
    response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 201, response.text
    return str(response.json()["caseId"])


def _move(client: TestClient, auth: Auth, case_id: str, transition: str, **facts: Any) -> None:
    response = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": transition, **facts},
        headers=auth(*CM),
    )
    assert response.status_code == 200, response.text


def _take_on(client: TestClient, auth: Auth, case_id: str) -> None:
    """U §2, §5.1: two criteria, then taken on (plan-of-approach)."""
    response = client.post(
        f"/v1/cases/{case_id}/criteria",
        headers=auth(*CM),
        json={
            "criteria": [
                {"criterion": "dwelling-related", "holds": True},
                {"criterion": "several-forms", "holds": True, "evidence": "Drie buren."},
            ]
        },
    )
    assert response.status_code in (200, 201), response.text
    _move(client, auth, case_id, "take-on", oggzCheck={"targetGroup": False, "referred": False})


def _move_back(context: GatewayContext) -> None:
    """Every moment of every case forty days earlier: before the month in progress."""
    with transaction(context.session_factory) as session:
        for case in session.scalars(select(CaseFile)):
            case.first_report_at -= BACK
            case.state_entered_at -= BACK
            if case.closed_at is not None:
                case.closed_at -= BACK
        session.flush()
        # opened_at is set once (CaseFile._opened_once): moved past the ORM.
        for case_id, opened_at in session.execute(select(CaseFile.id, CaseFile.opened_at)).all():
            session.execute(
                update(CaseFile.__table__)
                .where(CaseFile.__table__.c.id == case_id)
                .values(opened_at=opened_at - BACK)
            )
        session.expire_all()
        for step in session.scalars(select(CaseTransition)):
            step.at -= BACK
        for consent in session.scalars(select(CaseConsent)):
            consent.recorded_at -= BACK
        for report in session.scalars(select(CaseReport)):
            report.received_at -= BACK
            report.registered_at -= BACK


def _state(client: TestClient, auth: Auth) -> dict[str, Any]:
    response = client.get(f"/v1/steering-report?{ended_month_query()}", headers=auth(*READER))
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: body[name] for name in STATE}


def test_a_step_and_a_closure_within_the_month_change_no_state_figure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    taken, declined, waiting = (
        _open(client, auth, 1, "Oost"),
        _open(client, auth, 2, "Oost"),
        _open(client, auth, 3, "West"),
    )
    _take_on(client, auth, taken)
    _move_back(context)
    before = _state(client, auth)
    # By hand: three cases open at the end of last month, two in intake (their decision was
    # due five days after the report, forty days ago: overdue), one taken on.
    assert before["openCases"] == 3
    assert before["openByPhase"] == {"intake": 2, "plan-of-approach": 1}
    assert before["openByDistrict"] == {"Oost": 2, "West": 1}
    assert before["overdueDeadlines"] == 2
    assert date.fromisoformat(before["asOf"][:10]).day == 1

    _move(client, auth, taken, "adopt-plan", bothSidesHeard=True)  # into execution
    _move(client, auth, declined, "decline", reason="Geen extreme overlast.")  # closed
    # Read twice in the month: the same state (the old live figures: 2 open, one in
    # execution, one in Oost, one overdue).
    assert _state(client, auth) == before
    assert _state(client, auth) == before

    # Control: once the month has ended, the report describes its end.
    with this_month_ended():
        after = _state(client, auth)
    assert after["asOf"] > before["asOf"]
    assert after["openCases"] == 2
    assert after["openByPhase"] == {"execution": 1, "intake": 1}
    assert after["openByDistrict"] == {"Oost": 1, "West": 1}
    # The waiting case's decision; the plan's first evaluation is six weeks away.
    assert after["overdueDeadlines"] == 1
    assert waiting


def test_an_erasure_within_the_month_changes_no_state_figure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    first, second = _open(client, auth, 1, "Oost"), _open(client, auth, 2, "West")
    _move_back(context)
    before = _state(client, auth)
    assert (before["openCases"], before["overdueDeadlines"]) == (2, 2)
    assert before["openByDistrict"] == {"Oost": 1, "West": 1}

    # Years later by the rules' clock: both past their period, erased today.
    report = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report.redacted >= 2
    with context.session_factory() as session:
        erased = session.scalars(
            select(CaseFile.erased_at).where(CaseFile.id.in_([first, second]))
        ).all()
    assert all(at is not None for at in erased)
    # They were open at the end of last month, and still count as they stood then (the
    # old live figures: none open, none overdue; which one went, by district).
    assert _state(client, auth) == before

    # Control: from the end of this month on, an erased case is no open work.
    with this_month_ended():
        after = _state(client, auth)
    assert (after["openCases"], after["overdueDeadlines"]) == (0, 0)
    assert (after["openByPhase"], after["openByDistrict"]) == ({}, {})


# -- a report joined since the end, received (it says) before the dossier's first -----------


def _month_start() -> datetime:
    """The end of last month (the default report's ``asOf``), in UTC."""
    today = datetime.now(AMS).date()
    return datetime.combine(today.replace(day=1), datetime.min.time(), tzinfo=AMS).astimezone(UTC)


RIJSWIJK_LANDLORD = ("rijswijk-wonen", "woonconsulent")
RIJSWIJK_READER = ("gemeente-rijswijk", "casemanager")


def _rijswijk_body(received_at: datetime | None = None) -> dict[str, Any]:
    """A report the causer's landlord files on its own dwelling (it leads the case)."""
    report: dict[str, Any] = {"channel": "form", "description": "Overlast."}
    if received_at is not None:
        report["receivedAt"] = received_at.isoformat()
    return {
        "dwelling": {
            "address": {"postcode": "2281 AA", "houseNumber": 4},
            "ownership": "corporation",
            "corporationId": "rijswijk-wonen",
            "district": "Te Werve",
        },
        "persons": [],
        "report": report,
    }


def _opened_just_before_the_month(
    client: TestClient, auth: Auth, context: GatewayContext, *, rijswijk: bool = False
) -> str:
    """A case in intake, opened (its one report too) an hour before this month began: its
    intake deadline (Rijswijk's 48 hours from the first report, Utrecht's five days from the
    registration) not yet due at ``asOf``."""
    if rijswijk:
        response = client.post(
            "/v1/reports", json=_rijswijk_body(), headers=auth(*RIJSWIJK_LANDLORD)
        )
        assert response.status_code == 201, response.text
        case_id = str(response.json()["caseId"])
    else:
        case_id = _open(client, auth, 1, "Oost")
    _open_at(context, case_id, _month_start() - timedelta(hours=1))
    return case_id


def _open_at(context: GatewayContext, case_id: str, opened: datetime) -> None:
    """The case and its reports as if opened, received and registered at ``opened``."""
    with transaction(context.session_factory) as session:
        session.execute(
            update(CaseFile.__table__)
            .where(CaseFile.__table__.c.id == case_id)
            .values(opened_at=opened, first_report_at=opened, state_entered_at=opened)
        )
        for report in session.scalars(select(CaseReport).where(CaseReport.case_id == case_id)):
            report.received_at = report.registered_at = opened


def _backdated_report(
    client: TestClient, auth: Auth, case_id: str, *, rijswijk: bool = False
) -> str:
    """Another report on the case's dwelling, received (it says) twenty days before the end
    of last month: it joins the dossier and takes its first report back to then."""
    received = _month_start() - timedelta(days=20)
    if rijswijk:
        body = _rijswijk_body(received)
        response = client.post("/v1/reports", json=body, headers=auth(*RIJSWIJK_LANDLORD))
    else:
        body = report_body(
            number=1,
            ownership="private-rental",
            corporation=None,
            district="Oost",
            persons=[],
            received_at=received,
        )
        response = client.post("/v1/reports", json=body, headers=auth(*POLICE))
    assert response.status_code == 200, response.text
    assert response.json()["caseId"] == case_id
    return str(response.json()["reportId"])


def _rijswijk_state(client: TestClient, auth: Auth) -> dict[str, Any]:
    response = client.get(
        f"/v1/steering-report?{ended_month_query()}", headers=auth(*RIJSWIJK_READER)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: body[name] for name in STATE}


def _classify(client: TestClient, auth: Auth, case_id: str) -> None:
    response = client.post(
        f"/v1/cases/{case_id}/transitions",
        json={"transition": "classify-simple"},
        headers=auth(*RIJSWIJK_LANDLORD),
    )
    assert response.status_code == 200, response.text


def test_a_backdated_report_joined_since_the_end_changes_no_state_figure(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Review7b finding 1: the joined report moved the case's first report (no transition),
    the case counted as unmoved, and the figure as of last month's end went 0 -> 1. On
    Rijswijk's 48 hours, which run from the first report (R Bijlage D fase 1 "Zodra een
    melding ... wordt ontvangen"); Utrecht's five days run from the registration since
    review8a F3, which no joining report moves."""
    case_id = _opened_just_before_the_month(client, auth, context, rijswijk=True)
    before = _rijswijk_state(client, auth)
    assert (before["openCases"], before["overdueDeadlines"]) == (1, 0)
    _backdated_report(client, auth, case_id, rijswijk=True)
    with context.session_factory() as session:
        first = session.scalar(select(CaseFile.first_report_at).where(CaseFile.id == case_id))
    assert first is not None
    assert first < _month_start() - timedelta(days=19)
    assert _rijswijk_state(client, auth) == before

    # The same with a step since the end (the case is replayed): its first report as it
    # stood then, not the row's.
    _classify(client, auth, case_id)
    assert _rijswijk_state(client, auth) == before

    # Control: this month's end knows the report and the step (own-approach: no deadline
    # but the three-month target, which is no deadline of the count).
    with this_month_ended():
        after = _rijswijk_state(client, auth)
    assert (after["openCases"], after["overdueDeadlines"]) == (1, 0)
    assert after["openByPhase"] == {"own-approach": 1}


def test_a_backdated_report_joined_before_the_end_counts(
    client: TestClient, auth: Auth, context: GatewayContext
) -> None:
    """Positive control of the above: registered before the end, the backdated report's
    receipt is the case's first report at the end (its 48 hours overdue then), through the
    case's row, replayed after a step since, and after the dossier's erasure (the reports'
    rows and times are kept)."""
    case_id = _opened_just_before_the_month(client, auth, context, rijswijk=True)
    report_id = _backdated_report(client, auth, case_id, rijswijk=True)
    with transaction(context.session_factory) as session:
        report = session.get(CaseReport, report_id)
        assert report is not None
        report.registered_at = _month_start() - timedelta(minutes=30)
    counted = _rijswijk_state(client, auth)
    assert (counted["openCases"], counted["overdueDeadlines"]) == (1, 1)
    _classify(client, auth, case_id)
    assert _rijswijk_state(client, auth) == counted
    report_ = context.require_retention().sweep(as_of=date(2030, 1, 1))
    assert report_.redacted >= 1
    with context.session_factory() as session:
        assert session.scalar(select(CaseFile.erased_at).where(CaseFile.id == case_id))
        assert session.get(CaseReport, report_id) is not None
    assert _rijswijk_state(client, auth) == counted


@pytest.mark.parametrize("moved", [False, True], ids=["as-its-row", "replayed"])
def test_utrecht_intake_decision_as_of_runs_from_the_registration(
    client: TestClient, auth: Auth, context: GatewayContext, moved: bool
) -> None:
    """Review8a F3: U §5.1's five days run from the aanmelding reaching U Centraal (the
    case's opening). A report received twenty days before the end, joined before it, made
    the decision overdue at the end; it is not (the case was registered an hour before)."""
    case_id = _opened_just_before_the_month(client, auth, context)
    report_id = _backdated_report(client, auth, case_id)
    with transaction(context.session_factory) as session:
        report = session.get(CaseReport, report_id)
        assert report is not None
        report.registered_at = _month_start() - timedelta(minutes=30)
    if moved:
        _move(client, auth, case_id, "decline", reason="Geen extreme overlast.")
    state = _state(client, auth)
    assert (state["openCases"], state["overdueDeadlines"]) == (1, 0)

    # Control: registered twelve days before the end (five days and any roll), the decision
    # was overdue at it.
    _open_at(context, case_id, _month_start() - timedelta(days=12))
    state = _state(client, auth)
    assert (state["openCases"], state["overdueDeadlines"]) == (1, 1)


# -- the state at the period's end against a history computed by hand ----------------------

AMS = ZoneInfo("Europe/Amsterdam")
JANUARY = (date(2026, 1, 1), date(2026, 1, 31))
#: The end of January 2026 in Rijswijk and Utrecht: 1 February, 00:00 local.
END = datetime(2026, 2, 1, tzinfo=AMS)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=AMS)


def _case(
    session: Session,
    runtime: CaseRuntime,
    covenant: str,
    name: str,
    *,
    district: str,
    opened: str,
    steps: list[tuple[str, str, str, dict[str, Any]]] = (),  # type: ignore[assignment]
    erased: str | None = None,
    consents: list[str] = (),  # type: ignore[assignment]
) -> None:
    """A case as the workflow leaves it after ``steps`` (transition, state entered, day,
    facts), in the order given: its row says the last state, its moment and days."""
    workflow = runtime.workflow(covenant)
    state, entered, days = workflow.initial_state, _at(opened), None
    closed = None
    for transition, to_state, day, facts in steps:
        spec = workflow.transition(transition)
        assert spec is not None, transition
        if spec.extends_state:
            days = (days or 0) + facts["days"]
        else:
            state, entered, days = to_state, _at(day), facts.get("days")
        if workflow.state(to_state).final:
            closed = _at(day)
    session.add(
        Dwelling(
            id=f"d-{name}",
            covenant_id=covenant,
            ownership="private-rental",
            corporation_id=None,
            district=district,
            created_at=_at(opened),
        )
    )
    session.flush()
    session.add(
        CaseFile(
            id=name,
            reference=f"REF-{name}",
            covenant_id=covenant,
            dwelling_id=f"d-{name}",
            district=district,
            address_sealed=b"sealed",
            state=state,
            state_entered_at=entered,
            state_days=days,
            opened_at=_at(opened),
            first_report_at=_at(opened),
            closed_at=closed,
            erased_at=None if erased is None else _at(erased),
            lead_partner_id="gemeente-rijswijk",
            acute_override=False,
            both_sides_heard=False,
        )
    )
    session.flush()
    for n, (transition, to_state, day, facts) in enumerate(steps):
        session.add(
            CaseTransition(
                id=f"{name}-{n}",
                case_id=name,
                covenant_id=covenant,
                transition=transition,
                from_state="-",
                to_state=to_state,
                at=_at(day),
                actor_partner_id="gemeente-rijswijk",
                actor_role="casemanager",
                facts=facts,
            )
        )
    for n, day in enumerate(consents):
        session.add(
            CaseConsent(
                id=f"{name}-consent-{n}",
                case_id=name,
                kind="corporation-permission",
                partner_id="mitros",
                granted=True,
                scope=[],
                recorded_at=_at(day),
                recorded_by="mitros:test",
            )
        )
    session.flush()


def _report(session: Session, runtime: CaseRuntime, covenant: str) -> SteeringReport:
    return overview.steering_report(
        session,
        runtime=runtime,
        covenant_id=covenant,
        period_from=JANUARY[0],
        period_to=JANUARY[1],
        now=datetime(2026, 2, 20, tzinfo=UTC),
        perturb=False,  # the exact figures, as the oracle counts them
    )


def test_the_state_at_the_end_of_january_as_computed_by_hand(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    rijswijk = "rijswijk-woonoverlast"
    with context.session_factory() as session:
        # Open at the end, in intake: the 48-hour weighing overdue (the three-month target
        # falls on 1 March).
        _case(session, runtime, rijswijk, "intake", district="Noord", opened="2025-12-01")
        # Open at the end in own-approach, closed after it.
        _case(
            session,
            runtime,
            rijswijk,
            "closed-later",
            district="Noord",
            opened="2025-12-10",
            steps=[
                ("classify-simple", "own-approach", "2026-01-10", {}),
                ("nuisance-stopped", "aftercare-evaluation", "2026-02-05", {}),
                ("close", "closed", "2026-02-10", {}),
            ],
        )
        # Opened and closed within January; opened after its end: neither open at it.
        _case(
            session,
            runtime,
            rijswijk,
            "closed-within",
            district="Noord",
            opened="2025-12-05",
            steps=[
                ("classify-simple", "own-approach", "2026-01-06", {}),
                ("nuisance-stopped", "aftercare-evaluation", "2026-01-12", {}),
                ("close", "closed", "2026-01-20", {}),
            ],
        )
        _case(session, runtime, rijswijk, "opened-after", district="Noord", opened="2026-02-03")
        # Erased in January: no open work at its end. Erased after it: open as it stood
        # (weighing and target, from 15 October, overdue).
        _case(
            session,
            runtime,
            rijswijk,
            "erased-before",
            district="Zuid",
            opened="2025-11-01",
            erased="2026-01-25",
        )
        _case(
            session,
            runtime,
            rijswijk,
            "erased-after",
            district="Zuid",
            opened="2025-10-15",
            erased="2026-02-10",
        )
        # Evicted for 10 days on 15 January (over on 25 January: overdue at the end), the
        # eviction extended by 18 days on 2 February (its row says 28 days now); and the
        # target from 1 September.
        _case(
            session,
            runtime,
            rijswijk,
            "extended-after",
            district="Zuid",
            opened="2025-09-01",
            steps=[
                ("evict-temporarily", "temporary-eviction", "2026-01-15", {"days": 10}),
                ("extend-temporary-eviction", "temporary-eviction", "2026-02-02", {"days": 18}),
            ],
        )
        # Evicted for 10 days on 20 January, nothing since: over on 30 January.
        _case(
            session,
            runtime,
            rijswijk,
            "evicted",
            district="Zuid",
            opened="2025-12-20",
            steps=[("evict-temporarily", "temporary-eviction", "2026-01-20", {"days": 10})],
        )
        # In multi-intake at the end, weighing since 2 February.
        _case(
            session,
            runtime,
            rijswijk,
            "moved-after",
            district="Noord",
            opened="2025-12-01",
            steps=[
                ("classify-complex", "multi-intake", "2026-01-05", {}),
                ("form-team", "weighing", "2026-02-02", {}),
            ],
        )
        report = _report(session, runtime, rijswijk)
        oracle = overview_oracle.steering_report(
            session,
            runtime=runtime,
            covenant_id=rijswijk,
            period_from=JANUARY[0],
            period_to=JANUARY[1],
            now=datetime(2026, 2, 20, tzinfo=UTC),
        )
        session.rollback()
    assert report.as_of == END
    assert report.open_cases == 6
    assert report.open_by_phase == {
        "intake": 2,
        "multi-intake": 1,
        "own-approach": 1,
        "temporary-eviction": 2,
    }
    assert report.open_by_district == {"Noord": 3, "Zuid": 3}
    # intake 1, erased-after 2, extended-after 2, evicted 1.
    assert report.overdue_deadlines == 6
    # And as the oracle's case-by-case computation has it (tests/cases/overview_oracle.py).
    assert report.open_by_phase == oracle.open_by_phase
    assert report.open_by_district == oracle.open_by_district
    assert (report.open_cases, report.overdue_deadlines) == (
        oracle.open_cases,
        oracle.overdue_deadlines,
    )


def test_the_resident_s_term_counts_as_of_the_end_as_it_ran_then(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    """R Bijlage E (review8a F4): ``grace-period-ends`` runs from the warning or intention
    for its days; the replay as of the end of January counts it as it ran then, and agrees
    with the case-by-case oracle."""
    rijswijk = "rijswijk-woonoverlast"
    with context.session_factory() as session:
        # Warned on 10 January for 14 days: over at the end of 24 January, overdue at END.
        _case(
            session,
            runtime,
            rijswijk,
            "warned",
            district="Noord",
            opened="2025-12-01",
            steps=[("issue-warning", "warning", "2026-01-10", {"days": 14})],
        )
        # Warned on 25 January for 14 days (to 8 February): not overdue at END, though the
        # intention announced after it (for 3 days, 10 February) is past by the report's now.
        _case(
            session,
            runtime,
            rijswijk,
            "warned-late",
            district="Zuid",
            opened="2025-12-01",
            steps=[
                ("issue-warning", "warning", "2026-01-25", {"days": 14}),
                ("announce-intention", "warning", "2026-02-10", {"days": 3}),
            ],
        )
        report = _report(session, runtime, rijswijk)
        oracle = overview_oracle.steering_report(
            session,
            runtime=runtime,
            covenant_id=rijswijk,
            period_from=JANUARY[0],
            period_to=JANUARY[1],
            now=datetime(2026, 2, 20, tzinfo=UTC),
        )
        session.rollback()
    assert report.open_cases == 2
    assert report.overdue_deadlines == 1
    assert (report.open_cases, report.overdue_deadlines) == (
        oracle.open_cases,
        oracle.overdue_deadlines,
    )


def test_the_corporation_s_permission_counts_when_recorded_before_the_end(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    utrecht = "utrecht-extreme-woonoverlast"
    asked = ("request-permission", "permission-requested", "2026-01-10", {})
    with context.session_factory() as session:
        # Asked on 10 January, answered on the 12th: the answer is met; the decision (five
        # days from the report of 2 January) is overdue.
        _case(
            session,
            runtime,
            utrecht,
            "answered",
            district="Oost",
            opened="2026-01-02",
            steps=[asked],
            consents=["2026-01-12"],
        )
        # Answered only on 3 February: at the end of January both were overdue.
        _case(
            session,
            runtime,
            utrecht,
            "answered-late",
            district="Oost",
            opened="2026-01-02",
            steps=[asked],
            consents=["2026-02-03"],
        )
        # Answered on the 12th and taken on after the end: replayed, as the first.
        _case(
            session,
            runtime,
            utrecht,
            "taken-on-after",
            district="West",
            opened="2026-01-02",
            steps=[asked, ("take-on", "plan-of-approach", "2026-02-05", {})],
            consents=["2026-01-12"],
        )
        report = _report(session, runtime, utrecht)
        session.rollback()
    assert report.open_by_phase == {"permission-requested": 3}
    assert report.overdue_deadlines == 1 + 2 + 1
