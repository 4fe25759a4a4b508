"""Whether the stored cases agree with their workflows on which states are final.

``closed_at`` is set exactly when a case enters a final state (gateway/cases/workflow.py), and
the reports, the case lists and retention read "``closed_at`` unset" as "not in a final
state". A workflow whose final states changed after cases were stored breaks that: a case in
a state that became final has no closing moment (it counts as open work and falls under
retention's open-case rule), one closed in a state that is final no longer counts as closed.
Which moment such a case closed, or whether it is open again, is not the gateway's to
guess (retention has dated its dossier by it), so the gateway refuses to start and names the
cases by covenant and state (counts only); restore the former definition, or correct the
cases first (docs/cases.md, "Final states").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from gateway.cases.definition import WorkflowDefinition, WorkflowError
from gateway.cases.models import CaseFile


@dataclass(frozen=True)
class ClosureMismatch:
    covenant_id: str
    state: str
    #: Whether the cases have ``closed_at`` set (in a state that is not final), or not (in a
    #: final state).
    closed: bool
    cases: int
    #: The workflow has no such state (renamed or removed): nothing can move these cases, and
    #: whether they are open is not the workflow's to say.
    unknown: bool = False

    def describe(self) -> str:
        if self.unknown:
            return f"{self.cases} in '{self.state}', which the workflow does not have"
        if self.closed:
            return f"{self.cases} closed in '{self.state}', which is not final"
        return f"{self.cases} in '{self.state}', which is final, without a closing moment"


def closure_mismatches(
    session: Session, workflows: dict[str, WorkflowDefinition]
) -> list[ClosureMismatch]:
    """The stored cases whose ``closed_at`` disagrees with their workflow's final states, or
    whose state the workflow does not have, as counts per covenant and state, in one
    statement. Each part reads a covenant's cases in
    the named states by ``ix_case_file_state_district``: the open cases, and the closed cases
    whose state says they are still open."""

    def counted(covenant_id: str, *where: Any, closed: bool, unknown: bool = False) -> Any:
        return (
            select(
                CaseFile.covenant_id,
                CaseFile.state,
                literal(closed).label("closed"),
                func.count().label("cases"),
                literal(unknown).label("unknown"),
            )
            .where(CaseFile.covenant_id == covenant_id, *where)
            .group_by(CaseFile.covenant_id, CaseFile.state)
        )

    parts = []
    for covenant_id, definition in sorted(workflows.items()):
        finals = sorted(definition.final_states)
        others = sorted(s.id for s in definition.states if not s.final)
        if finals:  # in a final state without a closing moment
            parts.append(
                counted(
                    covenant_id,
                    CaseFile.state.in_(finals),
                    CaseFile.closed_at.is_(None),
                    closed=False,
                )
            )
        if others:  # closed in a state that is not final
            parts.append(
                counted(
                    covenant_id,
                    CaseFile.state.in_(others),
                    CaseFile.closed_at.is_not(None),
                    closed=True,
                )
            )
        known = sorted(s.id for s in definition.states)
        parts.append(counted(covenant_id, CaseFile.state.not_in(known), closed=False, unknown=True))
    if not parts:
        return []
    rows = session.execute(union_all(*parts)).all()
    return sorted(
        (
            ClosureMismatch(r.covenant_id, r.state, bool(r.closed), int(r.cases), bool(r.unknown))
            for r in rows
        ),
        key=lambda m: (m.covenant_id, m.state, m.closed),
    )


def ensure_closure_agrees(
    session_factory: sessionmaker[Session], workflows: dict[str, WorkflowDefinition]
) -> None:
    """Raise :class:`WorkflowError` (the gateway does not start) when stored cases disagree
    with their workflows on which states are final."""
    with session_factory() as session:
        found = closure_mismatches(session, workflows)
    if not found:
        return
    by_covenant: dict[str, list[str]] = {}
    for mismatch in found:
        by_covenant.setdefault(mismatch.covenant_id, []).append(mismatch.describe())
    cases = "; ".join(f"{c}: {', '.join(parts)}" for c, parts in by_covenant.items())
    raise WorkflowError(
        f"Stored cases disagree with their workflow's final states ({cases}): the final "
        "states changed after these cases were stored. Restore the former workflow, or "
        "correct these cases first (docs/cases.md, 'Final states')."
    )
