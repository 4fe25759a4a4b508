"""Reading the retention facts from the cases domain's tables (gateway/cases).

The rules need dated events the workflow already records: mediation ended (a transition out
of one of the covenant's ``mediationStates``; solved when it went to aftercare/closure,
failed when it escalated), the sanctions of the enforcement matrix (``enforcement_measure``),
reports (``case_report``), closure (``case_file.closed_at``) and every transition as the
case's activity (an open case without activity is due too). Rather than ask every workflow
path to call retention, each sweep imports what is new. Idempotent: every imported fact
carries a unique ``source_ref`` naming the row it came from. Facts the workflow does not record (the
resident moved out, a court date) are recorded through retention's own API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import false, insert, inspect, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db import among, utcnow
from gateway.retention.models import RetentionCase, RetentionFact
from gateway.retention.rules import RetentionRules
from gateway.retention.service import local_date, lock_cases, refresh_cases

CASE_TABLES = {"case_file", "case_person", "case_report", "case_transition", "enforcement_measure"}
SOLVED_AFTER_MEDIATION = {"aftercare-evaluation", "closed"}
RECORDED_BY = "system/cases-sync"


def sync_from_cases(
    *, session: Session, rules: RetentionRules, case_ids: Sequence[str] | None = None
) -> int:
    """Register new cases and import new facts; returns the number of facts imported.
    With ``case_ids``, only those cases (a case's own retention state, read before the next
    sweep). A database without the cases tables (or a test that seeds retention directly)
    has nothing to import."""
    if not set(inspect(session.connection()).get_table_names()) >= CASE_TABLES:
        return 0
    from gateway.cases.models import (
        CaseFile,
        CasePerson,
        CaseReport,
        CaseTransition,
        EnforcementMeasure,
    )

    def only(column: Any) -> Any:
        return column.in_(case_ids) if case_ids is not None else literal(True)

    changed = _register_new_cases(session, CaseFile, CasePerson, only)
    facts: list[tuple[str, str, str, datetime, str | None]] = []
    not_imported = (
        ~select(RetentionFact.id)
        .where(RetentionFact.source_ref == literal("t:") + CaseTransition.id)
        .exists()
    )
    # R §3.4 "afronding van de bemiddeling": leaving a mediation state of the case's own
    # covenant (the complex path's and the simple path's mediation, Bijlage D 2a, F).
    left_mediation = or_(
        false(),
        *[
            (CaseFile.covenant_id == covenant_id)
            & CaseTransition.from_state.in_(policy.mediation_states)
            & CaseTransition.to_state.not_in(policy.mediation_states)
            for covenant_id, policy in rules.policies.items()
        ],
    )
    transitions = session.execute(
        select(
            CaseTransition.id, CaseTransition.case_id, CaseTransition.to_state, CaseTransition.at
        )
        .join(CaseFile, CaseFile.id == CaseTransition.case_id)
        .where(left_mediation, only(CaseTransition.case_id))
        .where(not_imported)
    ).all()
    outcome = {True: "solved", False: "failed"}
    facts.extend(
        [
            (
                "t:" + t.id,
                t.case_id,
                "mediation-ended",
                t.at,
                outcome[t.to_state in SOLVED_AFTER_MEDIATION],
            )
            for t in transitions
        ],
    )
    activity = session.execute(
        select(CaseTransition.id, CaseTransition.case_id, CaseTransition.at).where(
            only(CaseTransition.case_id),
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("a:") + CaseTransition.id)
            .exists(),
        )
    ).all()
    facts.extend(("a:" + a.id, a.case_id, "case-activity", a.at, None) for a in activity)
    measures = session.execute(
        select(
            EnforcementMeasure.id,
            EnforcementMeasure.case_id,
            EnforcementMeasure.instrument,
            EnforcementMeasure.decided_at,
        ).where(
            only(EnforcementMeasure.case_id),
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("m:") + EnforcementMeasure.id)
            .exists(),
        )
    ).all()
    facts.extend(
        [
            ("m:" + m.id, m.case_id, "sanction-imposed", m.decided_at, m.instrument)
            for m in measures
        ],
    )
    reports = session.execute(
        select(CaseReport.id, CaseReport.case_id, CaseReport.received_at).where(
            only(CaseReport.case_id),
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("r:") + CaseReport.id)
            .exists(),
        )
    ).all()
    facts.extend(("r:" + r.id, r.case_id, "report-received", r.received_at, None) for r in reports)
    closed = session.execute(
        select(CaseFile.id, CaseFile.closed_at)
        .where(CaseFile.closed_at.is_not(None), only(CaseFile.id))
        .where(
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("c:") + CaseFile.id)
            .exists()
        )
    ).all()
    facts.extend(("c:" + c.id, c.id, "case-closed", c.closed_at, None) for c in closed)
    _insert_facts(session, facts)
    _mark_changed_stale(session, changed, {case_id for _, case_id, _, _, _ in facts})
    return len(facts)


def _register_new_cases(
    session: Session, case_file: Any, case_person: Any, only: Any
) -> list[tuple[str, str | None, str | None]]:
    """Insert the cases retention does not know yet; return the known cases whose
    complexity or causer the cases domain decided since, as (case id, complexity,
    resident), for sync_from_cases to write under its locks."""
    causer = (
        select(case_person.identifier_index)
        .where(
            case_person.case_id == case_file.id,
            case_person.role == "causer",
            case_person.identifier_index.is_not(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    new = session.execute(
        select(
            case_file.id, case_file.covenant_id, case_file.complexity, causer.label("resident")
        ).where(
            only(case_file.id),
            ~select(RetentionCase.case_id).where(RetentionCase.case_id == case_file.id).exists(),
        )
    ).all()
    if new:
        session.execute(
            insert(RetentionCase),
            [
                {
                    "case_id": c.id,
                    "covenant_id": c.covenant_id,
                    "scope": f"case:{c.id}",
                    "resident_key": c.resident,
                    "complexity": c.complexity,
                    "reason": "",
                    "rules_revision": "",
                    "stale": True,
                }
                for c in new
            ],
        )
    # A causer identified later, or a complexity decided later, changes the verdict.
    changed = session.execute(
        select(RetentionCase.case_id, case_file.complexity, causer.label("resident"))
        .join(case_file, case_file.id == RetentionCase.case_id)
        .where(RetentionCase.erased_at.is_(None), only(RetentionCase.case_id))
        .where(
            (RetentionCase.complexity.is_distinct_from(case_file.complexity))
            | (RetentionCase.resident_key.is_(None) & causer.is_not(None))
        )
    ).all()
    return [(row.case_id, row.complexity, row.resident) for row in changed]


def _insert_facts(session: Session, facts: list[tuple[str, str, str, datetime, str | None]]) -> int:
    if not facts:
        return 0
    now = utcnow()
    session.execute(
        insert(RetentionFact),
        [
            {
                "source_ref": ref,
                "case_id": case_id,
                "kind": kind,
                "occurred_on": local_date(at),
                "detail": detail,
                "recorded_at": now,
                "recorded_by": RECORDED_BY,
            }
            for ref, case_id, kind, at, detail in facts
        ],
    )
    return len(facts)


def _mark_changed_stale(
    session: Session, changed: list[tuple[str, str | None, str | None]], touched: set[str]
) -> None:
    """Write the changed cases and mark every case with a new fact, and every live case
    about the same residents, stale. All of these rows are locked first, in one statement
    in case id order (service.lock_cases), as a fact recorded through the API locks them:
    locks taken in several statements could deadlock with it."""
    ids = touched | {case_id for case_id, _, _ in changed}
    if not ids:
        return
    # Residents are matched within their case's covenant only (issue 24).
    covenant_of: dict[str, str] = {}
    residents: set[tuple[str, str]] = set()
    stored = select(
        RetentionCase.case_id, RetentionCase.covenant_id, RetentionCase.resident_key
    ).where(among(session, RetentionCase.case_id, ids))
    for case_id, covenant_id, key in session.execute(stored):
        covenant_of[case_id] = covenant_id
        if key:
            residents.add((covenant_id, key))
    residents |= {
        (covenant_of[case_id], resident)
        for case_id, _, resident in changed
        if resident and case_id in covenant_of
    }
    locked = lock_cases(session, case_ids=ids, residents=residents)
    for case_id, complexity, resident in sorted(changed):
        session.execute(
            update(RetentionCase)
            .where(RetentionCase.case_id == case_id)
            .values(complexity=complexity, resident_key=resident, stale=True)
        )
    session.execute(
        update(RetentionCase)
        .where(among(session, RetentionCase.case_id, locked))
        .values(stale=True)
        .execution_options(synchronize_session=False)
    )


def case_covenant(session: Session, case_id: str) -> str | None:
    """The covenant of a case in the cases domain (None: no such case, or no cases tables)."""
    if "case_file" not in inspect(session.connection()).get_table_names():
        return None
    from gateway.cases.models import CaseFile

    covenant: str | None = session.scalar(
        select(CaseFile.covenant_id).where(CaseFile.id == case_id)
    )
    return covenant


def register_new_case(session: Session, *, rules: RetentionRules, case_id: str) -> None:
    """Issue 16: a case's retention state exists from the moment the case exists. Called by
    the cases domain in the transaction that opens the case (after its report and persons
    are flushed): register it, import its facts (the report) and compute its verdict (rule
    and due date, or why none yet), so the overview and ``GET .../retention`` show it at
    once rather than after the next sweep. The transaction rolls back as a whole."""
    sync_case(session=session, rules=rules, case_id=case_id)
    refresh_cases(session=session, rules=rules, case_ids=[case_id])


def sync_case(*, session: Session, rules: RetentionRules, case_id: str) -> RetentionCase | None:
    """Bring one case's retention state up to date from the cases domain now, rather than at
    the next sweep: register it if it is new and import its new facts, so its state exists
    from the moment the case exists. None when no such case exists. Two requests registering
    the same new case at once: the loser's insert is rolled back to a savepoint and it reads
    the winner's row."""
    try:
        with session.begin_nested():
            sync_from_cases(session=session, rules=rules, case_ids=[case_id])
    except IntegrityError:
        pass
    return session.get(RetentionCase, case_id, populate_existing=True)
