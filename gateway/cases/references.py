"""Case numbers ("zaaknummers", e.g. ``UTR-2026-C26165``) for case ids, and back.

The audit log names a case by its internal id; people know it by its number. A number is
no personal data, but it names a case, and a case outside a partner's team does not exist
for that partner (gateway/cases/access.py). Review3 finding 5: a partner's own entry about a
report that joined another team's case carries that case's id, and the logbook resolved it
to the case's number. So a number is resolved, either way, only for a case the reader's
partner leads or is in the team of; the covenant's coordinating privacy officer, who reads
the whole covenant's log, for any case of the covenant. Both look-ups stay within one
covenant: an id or number of another covenant is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.orm import Session

from gateway.cases.districts import partner_cases
from gateway.cases.models import CaseFile
from gateway.db import among


def _readable(partner_id: str | None) -> ColumnElement[bool]:
    return literal(True) if partner_id is None else partner_cases(partner_id)


def case_numbers(
    session: Session, *, covenant_id: str, partner_id: str | None, case_ids: Iterable[str]
) -> dict[str, str]:
    """``{case id: case number}`` for the ids among ``case_ids`` of ``covenant_id``'s cases
    that ``partner_id`` leads or is in the team of (None: any, for a covenant-wide reader)."""
    wanted = set(case_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(CaseFile.id, CaseFile.reference).where(
            CaseFile.covenant_id == covenant_id,
            among(session, CaseFile.id, wanted),
            _readable(partner_id),
        )
    )
    return {str(case_id): str(reference) for case_id, reference in rows}


def case_id_of(
    session: Session, *, covenant_id: str, partner_id: str | None, number: str
) -> str | None:
    """The id of ``covenant_id``'s case with this number (any letter case), if there is one
    that ``partner_id`` leads or is in the team of (None: any, for a covenant-wide reader)."""
    found = session.scalar(
        select(CaseFile.id).where(
            CaseFile.covenant_id == covenant_id,
            CaseFile.reference == number.strip().upper(),
            _readable(partner_id),
        )
    )
    return str(found) if found is not None else None
