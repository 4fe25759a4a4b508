"""Case numbers ("zaaknummers", e.g. ``UTR-2026-C26165``) for case ids, and back.

The audit log names a case by its internal id; people know it by its number. A number is
no personal data, so a privacy officer's page may show it next to any entry it may see.
Both look-ups stay within one covenant: an id or number of another covenant is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.cases.models import CaseFile
from gateway.db import among


def case_numbers(session: Session, *, covenant_id: str, case_ids: Iterable[str]) -> dict[str, str]:
    """``{case id: case number}`` for the ids of ``covenant_id``'s cases among ``case_ids``."""
    wanted = set(case_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(CaseFile.id, CaseFile.reference).where(
            CaseFile.covenant_id == covenant_id, among(session, CaseFile.id, wanted)
        )
    )
    return {str(case_id): str(reference) for case_id, reference in rows}


def case_id_of(session: Session, *, covenant_id: str, number: str) -> str | None:
    """The id of ``covenant_id``'s case with this number (any letter case), if there is one."""
    found = session.scalar(
        select(CaseFile.id).where(
            CaseFile.covenant_id == covenant_id, CaseFile.reference == number.strip().upper()
        )
    )
    return str(found) if found is not None else None
