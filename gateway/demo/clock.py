"""The demo cannot wait: it dates a case's history back instead.

Rijswijk's warning and intention give the resident a term of days before the next rung (R
Bijlage E: "begunstigingstermijn"; "na een gesteld termijn"; guard ``grace-period-ended``,
review8a F4). A narrated demo that runs in a minute cannot let fourteen days pass, and the
gateway's clock is the real one. So, for a demo case only, :func:`date_case_back` moves every
recorded moment of that case (its opening, reports, team, consents, events, criteria,
transitions, measures and notices) the same number of days into the past, as if the case
had been worked on that much earlier: the order of its history and every interval in it stay
as they were, and the live deadlines, the SQL deadline lists and the steering replay read the
same (earlier) dates. The audit log is not touched: it records when the demo really did it.

Only the demo and the tests call this; no route or command of the gateway does.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, select, update
from sqlalchemy.orm import Session

from gateway.cases.models import (
    CaseConsent,
    CaseCriterion,
    CaseEventRecord,
    CaseFile,
    CaseNotice,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    EnforcementMeasure,
)
from gateway.db import UTCDateTime, make_engine, make_sessionmaker, transaction

#: The rows of one case that carry its history's moments (keyed by ``case_id``).
_CASE_ROWS: tuple[Any, ...] = (
    CaseReport,
    CaseTeamMember,
    CaseConsent,
    CaseEventRecord,
    CaseCriterion,
    CaseTransition,
    EnforcementMeasure,
    CaseNotice,
)
#: Moments that are no part of the history (an erasure mark stays when it was made).
_KEEP = frozenset({"erased_at"})


def _shifted(row: Any, by: timedelta) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.name in _KEEP:
            continue
        value = getattr(row, row.__mapper__.get_property_by_column(column).key)
        if value is None:
            continue
        if isinstance(column.type, UTCDateTime) or (
            isinstance(column.type, Date) and isinstance(value, date)
        ):
            values[column.name] = value - by
    return values


def _shift(session: Session, row: Any, by: timedelta) -> None:
    # A statement, not the attributes: the ORM keeps a case's opening fixed (models.py
    # CaseFile._opened_once), and here the whole history moves, its copies with it.
    values = _shifted(row, by)
    if not values:
        return
    table = row.__table__
    key = [
        column == getattr(row, row.__mapper__.get_property_by_column(column).key)
        for column in table.primary_key.columns
    ]
    session.execute(update(table).where(*key).values(**values))


def date_case_back(session: Session, case_id: str, days: int) -> None:
    """Move every recorded moment of case ``case_id`` ``days`` days into the past."""
    by = timedelta(days=days)
    rows: list[Any] = [session.get_one(CaseFile, case_id)]
    for model in _CASE_ROWS:
        rows.extend(session.scalars(select(model).where(model.case_id == case_id)))
    for row in rows:
        _shift(session, row, by)
    session.flush()
    session.expire_all()


def date_case_back_in(database_url: str, case_id: str, days: int) -> None:
    """:func:`date_case_back` in the gateway's database at ``database_url``, committed."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            date_case_back(session, case_id, days)
    finally:
        engine.dispose()
