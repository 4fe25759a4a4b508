"""Whether a case is live: not erased under retention.

The retention sweep marks ``case_file.erased_at`` in the erasure's transaction (the column is
an ``erasure_mark``, gateway/retention/targets.py). An open case it erased is no open work
(every write to it answers 410): the work lists, case lists and open counts leave it out by
this one condition. On ``case_file``'s own rows it is a column of the row read; on another
table's case id, one primary-key probe of ``case_file``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import aliased

from gateway.cases.models import CaseFile
from gateway.cases.seams import CaseIdColumn


def not_erased(case_id: CaseIdColumn) -> ColumnElement[bool]:
    """SQL: the case of ``case_id`` (``CaseFile.id`` or another table's case id column) was
    not erased under retention. Where the statement reads ``case_file`` for that case, give
    ``CaseFile.id``: a column of the row, no probe."""
    if case_id is CaseFile.id:
        return CaseFile.erased_at.is_(None)
    # No erased case of that id: a row about no case (a NULL case id, say a meeting action
    # about the district) is kept. An alias: the statement may read case_file itself, which
    # the probe must not correlate to.
    case = aliased(CaseFile)
    return ~exists().where(case.id == case_id, case.erased_at.is_not(None))
