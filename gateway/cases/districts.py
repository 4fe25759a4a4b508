"""The districts of a partner's open cases, and in each the first opening, read district by
district from an index whatever the number of open cases or the length of the history.

Two places ask: the organiser's deadlines (a district's next case meeting falls an interval
after its last meeting held, or after the first opening of an open case of the partner's in
it; gateway/cases/deadline_pages.py) and the plan-a-meeting form (the districts offered).
Grouping the partner's open cases by district read every one of them, each with a look-up of
the partner in its team (2,700 rows for the lead at 50,000 cases of history; 40,000 when
every case is open). Here the districts come from ``ix_case_file_open_district`` (covenant,
district, opening; only cases with ``closed_at`` unset, migration 0026) one probe each, a
recursive query stepping from one district to the next, and each district's first opening
of the partner's is the first row of that district's range that the partner leads or is in
the team of; the last meeting held is one probe of ``ix_case_meeting_district_held``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from gateway.cases.models import CaseFile, CaseMeeting, CaseTeamMember


def partner_cases(
    partner_id: str | ColumnElement[str], *, involved: bool = False
) -> ColumnElement[bool]:
    """The partner leads the case or is in its team: one primary-key lookup per row read,
    rather than ``id IN (the partner's cases)``, which builds the list of every case the
    partner was ever in before the first row. ``partner_id`` a value or a bound parameter
    (a statement built once and bound per page, gateway/cases/deadline_pages.py).
    ``involved``: not a case whose lead only consulted the partner (review10 F2)."""
    # A scalar subquery, not EXISTS: PostgreSQL turns an EXISTS under OR into a "hashed
    # SubPlan" over every team the partner was ever in (its whole history) even when the
    # page needs a few rows; a scalar subquery is looked up per row read.
    found = [CaseTeamMember.case_id == CaseFile.id, CaseTeamMember.partner_id == partner_id]
    if involved:
        found.append(CaseTeamMember.consulted.is_(False))
    member = select(CaseTeamMember.partner_id).where(*found).scalar_subquery()
    return or_(CaseFile.lead_partner_id == partner_id, member.is_not(None))


@dataclass(frozen=True)
class DistrictOpening:
    district: str
    #: The first opening of an open case of the partner's in the district.
    first_opened_at: datetime
    #: The district's last meeting held, when asked for and there is one.
    last_held_at: datetime | None = None


def district_openings(
    session: Session,
    *,
    covenant_id: str,
    partner_id: str,
    live: ColumnElement[bool],
    states: Sequence[str] | None = None,
    with_last_meeting: bool = False,
    involved: bool = False,
) -> list[DistrictOpening]:
    """Per district (in order) with an open case the partner leads or is in the team of (in
    one of ``states`` when given) and ``live`` holds for (the cases domain's "not erased
    under retention", ``live.not_erased``), the first opening of one, in one statement;
    with each district's last meeting held when ``with_last_meeting``. ``involved``: not the
    cases whose lead only consulted the partner (partner_cases)."""
    # "Open" as the index has it (closed_at unset), and the states on top when given: the
    # workflow sets closed_at exactly when a case enters a final state (workflow.py).
    open_case = [CaseFile.covenant_id == covenant_id, CaseFile.closed_at.is_(None)]
    first = select(func.min(CaseFile.district).label("district")).where(*open_case)
    districts = first.cte("open_districts", recursive=True)
    following = (
        select(func.min(CaseFile.district))
        .where(*open_case, CaseFile.district > districts.c.district)
        .scalar_subquery()
    )
    districts = districts.union_all(select(following).where(districts.c.district.is_not(None)))
    mine = [
        *open_case,
        CaseFile.district == districts.c.district,
        partner_cases(partner_id, involved=involved),
        live,
    ]
    if states is not None:
        mine.append(CaseFile.state.in_(sorted(states)))
    opened = (
        select(CaseFile.opened_at)
        .where(*mine)
        .order_by(CaseFile.opened_at)
        .limit(1)
        .scalar_subquery()
    )
    columns = [districts.c.district, opened.label("opened")]
    if with_last_meeting:
        held = (
            select(func.max(CaseMeeting.held_at))
            .where(
                CaseMeeting.covenant_id == covenant_id,
                CaseMeeting.district == districts.c.district,
                CaseMeeting.held_at.is_not(None),
            )
            .scalar_subquery()
        )
        columns.append(held.label("held"))
    rows = session.execute(
        select(*columns).where(districts.c.district.is_not(None)).order_by(districts.c.district)
    ).all()
    return [
        DistrictOpening(row.district, row.opened, row.held if with_last_meeting else None)
        for row in rows
        if row.opened is not None
    ]
