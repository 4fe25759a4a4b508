"""Where the privacy officers' overview puts a row whose due date it does not show, and what
status it gives it (docs/retention.md, "The privacy officer's page", residual (d)).

The overview lists the cases earliest due date first, at most ``limit``. A row whose date
is withheld (a rule chosen by the landlord's measures, a move-out's day, an open case's last
activity) sat among the dated rows at the place of its hidden date, so its neighbours'
dates bracketed it; the first ``limit`` rows were picked by that date too; and its status,
``due`` or ``retained``, said on which side of today the date fell. Now such a row comes
after every dated row, in case id order, only when the dated rows leave room, with the
status ``withheld`` (``on-hold`` under a legal hold). Positive control: the landlord's
officer, shown every date, reads the rows in due order with their statuses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gateway.auth.principal import Principal
from gateway.auth.service import PartnerDirectory
from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.policy.covenant import load_covenants
from gateway.retention.casefacts import sync_case
from gateway.retention.service import refresh_cases, retention_overview
from tests.retention.conftest import Seeder, add_fact, close_case

LANDLORD = "rijswijk-wonen"
POLICE = "politie-den-haag"


def _officer(partner_id: str) -> Principal:
    return PartnerDirectory.from_covenants(load_covenants().values()).principal(
        partner_id=partner_id,
        role="privacy-officer",
        user=None,
        token_id="t",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def _case(
    context: GatewayContext,
    seed: Seeder,
    *,
    weighed: bool,
    activity: date | None = None,
    closed: date | None = None,
) -> str:
    """A Rijswijk case opened 2024-01-02 with the landlord and the police in its team.
    ``weighed``: the police's wijkagent could be shown the landlord's measures, so its
    officer reads the case's dates; never out of intake, it could not (only the landlord)."""
    case_id = seed(weighed=weighed).case_id
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.get_one(Dwelling, case.dwelling_id).corporation_id = LANDLORD
        for partner in (LANDLORD, POLICE):
            session.add(CaseTeamMember.of(case, partner, now=case.opened_at, by="t"))
    if activity is not None:
        add_fact(context, case_id, "case-activity", activity)
    if closed is not None:
        close_case(
            context, case_id, datetime(closed.year, closed.month, closed.day, 10, tzinfo=UTC)
        )
    return case_id


def _cases(context: GatewayContext, seed: Seeder) -> dict[str, str]:
    cases = {
        # Dated to the police's officer (weighed): open, due 2025-01-02 and 2027-10-01.
        "early": _case(context, seed, weighed=True),
        "late": _case(context, seed, weighed=True, activity=date(2026, 10, 1)),
        # Withheld from it (never out of intake): an open case due 2026-06-01 (its dates),
        # and a closed one under R-3.4-zonder-sancties due 2026-09-01 (rule and dates).
        "open": _case(context, seed, weighed=False, activity=date(2025, 6, 1)),
        "closed": _case(context, seed, weighed=False, closed=date(2025, 9, 1)),
    }
    rules = context.require_retention().rules
    with transaction(context.session_factory) as session:
        # The stored verdicts, as a sweep (or a read of each state) leaves them.
        for case_id in cases.values():
            sync_case(session=session, rules=rules, case_id=case_id)
        refresh_cases(session=session, rules=rules, case_ids=list(cases.values()))
    return cases


def _listed(
    context: GatewayContext, partner_id: str, limit: int = 200
) -> list[tuple[str, str, date | None]]:
    with context.session_factory() as session:
        overview = retention_overview(
            session=session,
            principal=_officer(partner_id),
            rules=context.require_retention().rules,
            runtime=context.cases,
            limit=limit,
            today=date(2026, 12, 7),
        )
    return [(case.case_id, case.status, case.due_on) for case in overview.due]


def test_a_withheld_row_comes_after_the_dated_ones_with_a_status_that_says_no_date(
    context: GatewayContext, seed: Seeder
) -> None:
    """Failed before: the police's officer read early, open (due), closed (due), late, so
    the open case's hidden date lay between 2025-01-02 and 2027-10-01 and before today."""
    cases = _cases(context, seed)
    withheld = sorted((cases["open"], cases["closed"]))
    assert _listed(context, POLICE) == [
        (cases["early"], "due", date(2025, 1, 2)),
        (cases["late"], "retained", date(2027, 10, 1)),
        *((case_id, "withheld", None) for case_id in withheld),
    ]


def test_the_first_rows_are_picked_by_the_dated_rows_alone(
    context: GatewayContext, seed: Seeder
) -> None:
    """Failed before: with room for two rows the police's officer read early and the open
    case (due before 2026-09-01), not late: which rows made the page told of their dates."""
    cases = _cases(context, seed)
    dated = [
        (cases["early"], "due", date(2025, 1, 2)),
        (cases["late"], "retained", date(2027, 10, 1)),
    ]
    assert _listed(context, POLICE, limit=2) == dated
    first = min(cases["open"], cases["closed"])
    assert _listed(context, POLICE, limit=3) == [*dated, (first, "withheld", None)]


def test_control_the_landlords_officer_reads_every_row_in_due_order(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = _cases(context, seed)
    assert _listed(context, LANDLORD) == [
        (cases["early"], "due", date(2025, 1, 2)),
        (cases["open"], "due", date(2026, 6, 1)),
        (cases["closed"], "due", date(2026, 9, 1)),
        (cases["late"], "retained", date(2027, 10, 1)),
    ]
    assert _listed(context, LANDLORD, limit=2) == [
        (cases["early"], "due", date(2025, 1, 2)),
        (cases["open"], "due", date(2026, 6, 1)),
    ]
