"""Reading the retention facts from the cases domain's tables (gateway/cases).

The rules need dated events the workflow already records: mediation ended (a transition out
of ``mediation``; solved when it went to aftercare/closure, failed when it escalated), the
sanctions of the enforcement matrix (``enforcement_measure``), reports (``case_report``) and
closure (``case_file.closed_at``). Rather than ask every workflow path to call retention,
each sweep imports what is new. Idempotent: every imported fact carries a unique
``source_ref`` naming the row it came from. Facts the workflow does not record (the
resident moved out, a court date) are recorded through retention's own API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, inspect, literal, select, update
from sqlalchemy.orm import Session

from gateway.db import among, utcnow
from gateway.retention.models import RetentionCase, RetentionFact
from gateway.retention.rules import RetentionRules
from gateway.retention.service import local_date, lock_cases

CASE_TABLES = {"case_file", "case_person", "case_report", "case_transition", "enforcement_measure"}
SOLVED_AFTER_MEDIATION = {"aftercare-evaluation", "closed"}
RECORDED_BY = "system/cases-sync"


def sync_from_cases(*, session: Session, rules: RetentionRules) -> int:
    """Register new cases and import new facts; returns the number of facts imported.
    A database without the cases tables (or a test that seeds retention directly) has
    nothing to import."""
    del rules
    if not set(inspect(session.connection()).get_table_names()) >= CASE_TABLES:
        return 0
    from gateway.cases.models import (
        CaseFile,
        CasePerson,
        CaseReport,
        CaseTransition,
        EnforcementMeasure,
    )

    changed = _register_new_cases(session, CaseFile, CasePerson)
    facts: list[tuple[str, str, str, datetime, str | None]] = []
    not_imported = (
        ~select(RetentionFact.id)
        .where(RetentionFact.source_ref == literal("t:") + CaseTransition.id)
        .exists()
    )
    transitions = session.execute(
        select(
            CaseTransition.id, CaseTransition.case_id, CaseTransition.to_state, CaseTransition.at
        )
        .where(CaseTransition.from_state == "mediation", CaseTransition.to_state != "mediation")
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
    measures = session.execute(
        select(
            EnforcementMeasure.id,
            EnforcementMeasure.case_id,
            EnforcementMeasure.instrument,
            EnforcementMeasure.decided_at,
        ).where(
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("m:") + EnforcementMeasure.id)
            .exists()
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
            ~select(RetentionFact.id)
            .where(RetentionFact.source_ref == literal("r:") + CaseReport.id)
            .exists()
        )
    ).all()
    facts.extend(("r:" + r.id, r.case_id, "report-received", r.received_at, None) for r in reports)
    closed = session.execute(
        select(CaseFile.id, CaseFile.closed_at)
        .where(CaseFile.closed_at.is_not(None))
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
    session: Session, case_file: Any, case_person: Any
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
            ~select(RetentionCase.case_id).where(RetentionCase.case_id == case_file.id).exists()
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
        .where(RetentionCase.erased_at.is_(None))
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
    keys = {resident for _, _, resident in changed if resident}
    keys |= {
        key
        for key in session.scalars(
            select(RetentionCase.resident_key).where(among(session, RetentionCase.case_id, ids))
        )
        if key
    }
    locked = lock_cases(session, case_ids=ids, resident_keys=keys)
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
