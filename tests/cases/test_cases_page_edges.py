"""``GET /v1/cases``'s pages (service.cases_page) against the whole list as it was served before
(service.list_cases) on data made to catch the merge of the lead's side and the team side
(migration 0028): the lead out of a third of its own teams, the police out of some teams,
erased cases open and closed, ties on page edges, and the partners in the teams of another
covenant's cases (five of which the municipality even leads). Every partner, open and all
cases, pages of 1 to 50. The pages followed to the end must be that list, once, in order.
(From a review of 0801191; with UNION ALL instead of UNION the lead's cases in its own team
come twice and the test fails.)"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal, RoleGrant
from gateway.cases import service
from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.cases.runtime import CaseRuntime
from gateway.context import GatewayContext
from tests.cases.history import seed_history

RIJSWIJK = "rijswijk-woonoverlast"
UTRECHT = "utrecht-extreme-woonoverlast"
TIE = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def _principal(partner: str) -> Principal:
    return Principal(
        partner_id=partner,
        partner_kind="any",
        covenant_id=RIJSWIJK,
        role="casemanager",
        user=None,
        token_id="t",
        expires_at=datetime.now(UTC),
        grant=RoleGrant("casework"),
    )


def _follow(
    session: Session, runtime: CaseRuntime, principal: Principal, include_closed: bool, size: int
) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = service.cases_page(
            session,
            runtime=runtime,
            principal=principal,
            include_closed=include_closed,
            after=after,
            limit=size,
        )
        assert len(page.items) <= size
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            return seen
        assert len(page.items) == size
        after = service.decode_cases_cursor(
            session, page.next_cursor, principal=principal, include_closed=include_closed
        )


def test_the_pages_equal_the_whole_list_on_awkward_teams(
    context: GatewayContext, runtime: CaseRuntime
) -> None:
    now = datetime.now(UTC)
    seed_history(
        context.engine, runtime.workflow(RIJSWIJK), cases=160, now=now, years=2, open_share=0.4
    )
    seed_history(context.engine, runtime.workflow(UTRECHT), cases=40, now=now, years=2, seed=4)
    rng = random.Random(7)
    with context.engine.begin() as connection:
        cases = connection.execute(
            select(CaseFile.id, CaseFile.lead_partner_id).where(CaseFile.covenant_id == RIJSWIJK)
        ).all()
        led = [c.id for c in cases if c.lead_partner_id == "gemeente-rijswijk"]
        connection.execute(
            delete(CaseTeamMember).where(
                CaseTeamMember.case_id.in_([c for c in led if rng.random() < 0.33]),
                CaseTeamMember.partner_id == "gemeente-rijswijk",
            )
        )
        connection.execute(
            delete(CaseTeamMember).where(
                CaseTeamMember.case_id.in_([c.id for c in cases if rng.random() < 0.2]),
                CaseTeamMember.partner_id == "politie-den-haag",
            )
        )
        erased = [c.id for c in cases if rng.random() < 0.15]
        connection.execute(update(CaseFile).where(CaseFile.id.in_(erased)).values(erased_at=now))
        tied = [c.id for c in cases][50:70]
        connection.execute(update(CaseFile).where(CaseFile.id.in_(tied)).values(opened_at=TIE))
        connection.execute(
            update(CaseTeamMember)
            .where(CaseTeamMember.case_id.in_(tied))
            .values(case_opened_at=TIE)
        )
        other = connection.execute(
            select(CaseFile.id, CaseFile.opened_at).where(CaseFile.covenant_id == UTRECHT)
        ).all()
        for partner in ("gemeente-rijswijk", "politie-den-haag"):
            connection.execute(
                insert(CaseTeamMember),
                [
                    {
                        "case_id": c.id,
                        "partner_id": partner,
                        "case_opened_at": c.opened_at,
                        "added_at": now,
                        "added_by": "test",
                    }
                    for c in other
                ],
            )
        connection.execute(
            update(CaseFile)
            .where(CaseFile.id.in_([c.id for c in other][:5]))
            .values(lead_partner_id="gemeente-rijswijk")
        )
    checked = 0
    with context.session_factory() as session:
        for partner in ("gemeente-rijswijk", "politie-den-haag", "rijswijk-wonen", "vidomes"):
            principal = _principal(partner)
            for include_closed in (True, False):
                whole = [
                    c.id
                    for c in sorted(
                        service.list_cases(
                            session,
                            runtime=runtime,
                            principal=principal,
                            include_closed=include_closed,
                        ),
                        key=lambda c: (c.opened_at, c.id),
                    )
                ]
                assert not set(whole) & {c.id for c in other}  # another covenant's: never
                for size in (1, 2, 3, 7, 50):
                    seen = _follow(session, runtime, principal, include_closed, size)
                    assert seen == whole, (partner, include_closed, size)
                    checked += len(seen)
    assert checked > 500
