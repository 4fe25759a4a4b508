"""Reading the retention facts from the cases domain's tables (gateway/cases).

The rules need dated events the workflow already records: mediation ended (a transition out
of one of the covenant's ``mediationStates``; solved when it went to aftercare/closure,
failed when it escalated), the sanctions of the enforcement matrix (``enforcement_measure``)
and the landlord's case events the covenant's retention file counts as sanctions
(``case_event``, ``sanctionEvents``), reports (``case_report``: received, for the restart),
closure (``case_file.closed_at``) and every transition and every report's registration as
the case's activity (an open case without activity is due too). Rather than ask every workflow
path to call retention, each sweep imports what is new. Idempotent: every imported fact
carries a unique ``source_ref`` naming the row it came from. Facts the workflow does not record (the
resident moved out, a court date) are recorded through retention's own API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    case,
    cast,
    column,
    false,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core.dutch_date import DUTCH_TIME, dutch_date
from gateway.db import among, utcnow
from gateway.retention.models import RetentionCase, RetentionFact
from gateway.retention.rules import SANCTION_EVENT_PREFIX, RetentionRules
from gateway.retention.service import lock_cases, refresh_cases

CASE_TABLES = {
    "case_file",
    "case_person",
    "case_report",
    "case_transition",
    "enforcement_measure",
    "case_event",
    "dwelling",
}
SOLVED_AFTER_MEDIATION = {"aftercare-evaluation", "closed"}
RECORDED_BY = "system/cases-sync"


def sync_from_cases(
    *, session: Session, rules: RetentionRules, case_ids: Sequence[str] | None = None
) -> int:
    """Register new cases and import new facts; returns the number of facts imported.
    With ``case_ids``, only those cases (a case's own retention state, read before the next
    sweep). A database without the cases tables (or a test that seeds retention directly)
    has nothing to import. The sweep's sync of every case runs on PostgreSQL as a handful
    of set-based statements (_sync_all_pg): nothing per case travels to Python."""
    if not set(inspect(session.connection()).get_table_names()) >= CASE_TABLES:
        return 0
    if case_ids is None and session.get_bind().dialect.name == "postgresql":
        return _sync_all_pg(session, rules)

    def only(column: Any) -> Any:
        return column.in_(case_ids) if case_ids is not None else literal(True)

    changed = _register_new_cases(session, only)
    facts: list[tuple[str, str, str, date, str | None]] = []
    for source in _fact_sources(rules, only):
        facts.extend(
            (
                row.ref,
                row.case_id,
                row.kind,
                row.on if row.on is not None else dutch_date(row.at),
                row.detail,
            )
            for row in session.execute(source)
        )
    _insert_facts(session, facts)
    _mark_changed_stale(session, changed, {case_id for _, case_id, _, _, _ in facts})
    return len(facts)


def leaving_mediation(rules: RetentionRules) -> ColumnElement[bool]:
    """A transition that ends a mediation: R §3.4 "afronding van de bemiddeling", leaving a
    mediation state of the case's own covenant (the complex path's and the simple path's
    mediation, Bijlage D 2a, F). Over ``case_transition`` joined to its ``case_file``."""
    from gateway.cases.models import CaseFile, CaseTransition

    return or_(
        false(),
        *[
            (CaseFile.covenant_id == covenant_id)
            & CaseTransition.from_state.in_(policy.mediation_states)
            & CaseTransition.to_state.not_in(policy.mediation_states)
            for covenant_id, policy in rules.policies.items()
        ],
    )


def mediation_outcome() -> ColumnElement[Any]:
    """How a mediation ended, by where the case went: solved into aftercare or closure,
    failed otherwise (it escalated)."""
    from gateway.cases.models import CaseTransition

    return case(
        (CaseTransition.to_state.in_(sorted(SOLVED_AFTER_MEDIATION)), literal("solved")),
        else_=literal("failed"),
    )


def mediation_endings(
    session: Session, rules: RetentionRules, case_id: str
) -> frozenset[tuple[date, str]]:
    """The mediations the workflow ended in this case: (Dutch date, outcome) each, as the
    sync imports them."""
    from gateway.cases.models import CaseFile, CaseTransition

    rows = session.execute(
        select(CaseTransition.at, mediation_outcome())
        .join(CaseFile, CaseFile.id == CaseTransition.case_id)
        .where(CaseTransition.case_id == case_id, leaving_mediation(rules))
    )
    return frozenset((dutch_date(at), outcome) for at, outcome in rows)


def _fact_sources(rules: RetentionRules, only: Any) -> list[Select[Any]]:
    """One SELECT per kind of fact the cases domain records and retention has not imported
    yet, each with columns (ref, case_id, kind, at, on, detail): the fact's day is ``on``
    when it is set (a calendar date the partner gave), else the Dutch date of the moment
    ``at``. Read into Python (SQLite, one case) or inserted by the server (_sync_all_pg)."""
    from gateway.cases.models import (
        CaseEventRecord,
        CaseFile,
        CaseReport,
        CaseTransition,
        Dwelling,
        EnforcementMeasure,
    )

    def not_imported(ref: Any) -> Any:
        return ~select(RetentionFact.id).where(RetentionFact.source_ref == ref).exists()

    left_mediation = leaving_mediation(rules)
    outcome = mediation_outcome()
    no_detail = cast(null(), String)
    no_day = cast(null(), Date).label("on")
    mediation_ref = literal("t:") + CaseTransition.id
    activity_ref = literal("a:") + CaseTransition.id
    measure_ref = literal("m:") + EnforcementMeasure.id
    report_ref = literal("r:") + CaseReport.id
    registered_ref = literal("g:") + CaseReport.id
    event_ref = literal("e:") + CaseEventRecord.id
    closed_ref = literal("c:") + CaseFile.id
    return [
        select(
            mediation_ref.label("ref"),
            CaseTransition.case_id.label("case_id"),
            literal("mediation-ended").label("kind"),
            CaseTransition.at.label("at"),
            no_day,
            outcome.label("detail"),
        )
        .join(CaseFile, CaseFile.id == CaseTransition.case_id)
        .where(left_mediation, only(CaseTransition.case_id), not_imported(mediation_ref)),
        select(
            activity_ref.label("ref"),
            CaseTransition.case_id.label("case_id"),
            literal("case-activity").label("kind"),
            CaseTransition.at.label("at"),
            no_day,
            no_detail.label("detail"),
        ).where(only(CaseTransition.case_id), not_imported(activity_ref)),
        select(
            measure_ref.label("ref"),
            EnforcementMeasure.case_id.label("case_id"),
            literal("sanction-imposed").label("kind"),
            EnforcementMeasure.decided_at.label("at"),
            no_day,
            EnforcementMeasure.instrument.label("detail"),
        ).where(only(EnforcementMeasure.case_id), not_imported(measure_ref)),
        select(
            report_ref.label("ref"),
            CaseReport.case_id.label("case_id"),
            literal("report-received").label("kind"),
            CaseReport.received_at.label("at"),
            no_day,
            no_detail.label("detail"),
        ).where(only(CaseReport.case_id), not_imported(report_ref)),
        # Registering a report is the case's activity on the day it is registered, not on
        # the day the partner received it: ``receivedAt`` may lie far back (a complaint the
        # partner first tried to solve itself, docs/cases.md), and a new case dated by it
        # was due for erasure at intake (review8a F1). The receipt stays the restart's
        # date (``report-received``: R §3.4 "binnenkomt"); it is never later than this.
        select(
            registered_ref.label("ref"),
            CaseReport.case_id.label("case_id"),
            literal("case-activity").label("kind"),
            CaseReport.registered_at.label("at"),
            no_day,
            no_detail.label("detail"),
        ).where(only(CaseReport.case_id), not_imported(registered_ref)),
        # The landlord's case events the covenant's retention file counts as sanctions
        # (``sanctionEvents``; R Bijlage D fase 4a, Bijlage E and F: the corporation's
        # behavioural order, last-chance contract, eviction procedure), dated by the day the
        # landlord gave (``occurredOn``), else by its record (review8a F2). Only those the
        # dwelling's landlord recorded, as the policy counts an event (authz.rego
        # ``recorded_events``).
        select(
            event_ref.label("ref"),
            CaseEventRecord.case_id.label("case_id"),
            literal("sanction-imposed").label("kind"),
            CaseEventRecord.recorded_at.label("at"),
            CaseEventRecord.occurred_on.label("on"),
            (literal(SANCTION_EVENT_PREFIX) + CaseEventRecord.kind).label("detail"),
        )
        .join(CaseFile, CaseFile.id == CaseEventRecord.case_id)
        .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
        .where(
            sanction_event_kinds(rules),
            Dwelling.ownership == "corporation",
            Dwelling.corporation_id == CaseEventRecord.partner_id,
            only(CaseEventRecord.case_id),
            not_imported(event_ref),
        ),
        select(
            closed_ref.label("ref"),
            CaseFile.id.label("case_id"),
            literal("case-closed").label("kind"),
            CaseFile.closed_at.label("at"),
            no_day,
            no_detail.label("detail"),
        ).where(CaseFile.closed_at.is_not(None), only(CaseFile.id), not_imported(closed_ref)),
    ]


def sanction_event_kinds(rules: RetentionRules) -> ColumnElement[bool]:
    """A case event of a kind its case's covenant counts as a sanction (``sanctionEvents``).
    Over ``case_event`` joined to its ``case_file``."""
    from gateway.cases.models import CaseEventRecord, CaseFile

    return or_(
        false(),
        *[
            (CaseFile.covenant_id == covenant_id) & CaseEventRecord.kind.in_(policy.sanction_events)
            for covenant_id, policy in rules.policies.items()
            if policy.sanction_events
        ],
    )


def _causer() -> Any:
    from gateway.cases.models import CaseFile, CasePerson

    return (
        # The resident of the restart is one causer, chosen the same way on every database:
        # the least blind index (LIMIT 1 without an order was whichever row the plan met).
        select(func.min(CasePerson.identifier_index))
        .where(
            CasePerson.case_id == CaseFile.id,
            CasePerson.role == "causer",
            CasePerson.identifier_index.is_not(None),
        )
        .scalar_subquery()
    )


def _changed_cases(only: Any) -> Select[Any]:
    """Known live cases whose complexity or causer the cases domain decided since, as (case
    id, complexity, resident): a causer identified later, or a complexity decided later,
    changes the verdict."""
    from gateway.cases.models import CaseFile

    causer = _causer()
    return (
        select(RetentionCase.case_id, CaseFile.complexity, causer.label("resident"))
        .join(CaseFile, CaseFile.id == RetentionCase.case_id)
        .where(RetentionCase.erased_at.is_(None), only(RetentionCase.case_id))
        .where(
            (RetentionCase.complexity.is_distinct_from(CaseFile.complexity))
            | (RetentionCase.resident_key.is_(None) & causer.is_not(None))
        )
    )


def _register_new_cases(session: Session, only: Any) -> list[tuple[str, str | None, str | None]]:
    """Insert the cases retention does not know yet; return the known cases whose
    complexity or causer the cases domain decided since, as (case id, complexity,
    resident), for sync_from_cases to write under its locks."""
    from gateway.cases.models import CaseFile

    new = session.execute(
        select(
            CaseFile.id, CaseFile.covenant_id, CaseFile.complexity, _causer().label("resident")
        ).where(
            only(CaseFile.id),
            ~select(RetentionCase.case_id).where(RetentionCase.case_id == CaseFile.id).exists(),
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
    changed = session.execute(_changed_cases(only)).all()
    return [(row.case_id, row.complexity, row.resident) for row in changed]


# -- the whole sync on PostgreSQL, set-based ----------------------------------------------
# Measured (bench/bench_retention.py, issue 20): reading every new fact into Python and
# inserting it back, then locking and loading every touched case as an ORM object, took
# minutes at a million cases. Here the server registers the new cases, inserts the new
# facts (their Dutch date computed as dutch_date computes it) and collects the touched case
# ids in a temporary table; the locks are then taken in one statement in
# case id order, as lock_cases takes them.

_PG_SYNC_TABLES = (
    "CREATE TEMPORARY TABLE retention_sync (case_id TEXT) ON COMMIT DROP",
    """CREATE TEMPORARY TABLE retention_sync_changed (case_id TEXT PRIMARY KEY,
         complexity TEXT, resident TEXT) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE retention_sync_new (case_id TEXT, covenant_id TEXT,
         resident_key TEXT, complexity TEXT) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE retention_sync_fact (source_ref TEXT, case_id TEXT, kind TEXT,
         occurred_on DATE, detail TEXT) ON COMMIT DROP""",
    "CREATE TEMPORARY TABLE retention_sync_registered (case_id TEXT PRIMARY KEY) ON COMMIT DROP",
)
_PG_SYNC_TABLE_NAMES = (
    "retention_sync",
    "retention_sync_changed",
    "retention_sync_new",
    "retention_sync_fact",
    "retention_sync_registered",
)
# A new case is stale (no verdict yet), as register_case makes it. The cases this
# transaction registers are noted: no other transaction sees (or can lock) their rows
# before it commits, and they are stale already, so they need neither lock nor mark.
_PG_REGISTER = """
    WITH registered AS (
      INSERT INTO retention_case (case_id, covenant_id, scope, resident_key, complexity,
        reason, rules_revision, stale, on_hold)
      SELECT case_id, covenant_id, 'case:' || case_id, resident_key, complexity, '', '', true,
        false
      FROM retention_sync_new
      ON CONFLICT (case_id) DO NOTHING
      RETURNING case_id)
    INSERT INTO retention_sync_registered SELECT case_id FROM registered"""
# The facts staged, imported; the cases they are about are collected for the locks.
_PG_IMPORT_FACTS = """
    WITH added AS (
      INSERT INTO retention_fact (source_ref, case_id, kind, occurred_on, detail, recorded_at,
        recorded_by)
      SELECT source_ref, case_id, kind, occurred_on, detail, :now, :by
      FROM retention_sync_fact
      ON CONFLICT (source_ref) DO NOTHING
      RETURNING case_id)
    INSERT INTO retention_sync SELECT case_id FROM added"""
# Every case with a new fact or a changed complexity or causer, and every live case about
# the same residents (within the case's covenant, issue 24), as _mark_changed_stale has it;
# but not the cases this transaction registered (stale, and seen by no one else yet:
# after a bulk import, locking them all was a row lock per case for nothing).
_PG_LOCKSET = """
    CREATE TEMPORARY TABLE retention_sync_lock ON COMMIT DROP AS
    WITH ids AS (SELECT DISTINCT case_id FROM retention_sync),
    residents AS (
      SELECT r.covenant_id, r.resident_key
      FROM retention_case r JOIN ids ON ids.case_id = r.case_id
      WHERE r.resident_key IS NOT NULL
      UNION
      SELECT r.covenant_id, c.resident
      FROM retention_sync_changed c JOIN retention_case r ON r.case_id = c.case_id
      WHERE c.resident IS NOT NULL),
    touched AS (
      SELECT case_id FROM ids
      UNION
      SELECT r.case_id FROM retention_case r
      JOIN residents x ON x.covenant_id = r.covenant_id AND x.resident_key = r.resident_key
      WHERE r.erased_at IS NULL)
    SELECT t.case_id FROM touched t
    WHERE NOT EXISTS (SELECT 1 FROM retention_sync_registered g WHERE g.case_id = t.case_id)"""
# Whether every row of the register is one this transaction registered (in one snapshot,
# the lock set's: it is read just before it). Then the lock set is empty by construction:
# every case with a new fact, and every live case about the same residents, is a case this
# transaction registered. That is the sync after a bulk import, a restore or a first
# sweep, where computing the empty set (hash joins over every new case and its resident)
# took some 0.8-1.2 s per 100k cases of the sync's one server process (issue 20); the two
# counts read the register and the noted cases once each.
_PG_ONLY_REGISTERED_HERE = """
    SELECT (SELECT count(*) FROM retention_case)
         = (SELECT count(*) FROM retention_sync_registered)"""
_PG_LOCK_AND_MARK = """
    WITH locked AS (
      SELECT r.case_id FROM retention_case r
      JOIN retention_sync_lock l ON l.case_id = r.case_id
      ORDER BY r.case_id
      FOR NO KEY UPDATE OF r)
    UPDATE retention_case r SET stale = true
    FROM locked l
    WHERE r.case_id = l.case_id AND NOT r.stale"""
_PG_WRITE_CHANGED = """
    UPDATE retention_case r
    SET complexity = c.complexity, resident_key = c.resident, stale = true
    FROM retention_sync_changed c
    WHERE r.case_id = c.case_id"""


def _analyze(session: Session, name: str) -> None:
    """Statistics that count the rows this transaction has just added. Without them the
    next statement plans against the table as it was before (at a bulk import: empty), and
    its anti-join on ``source_ref`` read the whole table once per row (measured: 100k cases
    took 388 s of server CPU, 1.7 s with this). Only after a statement added rows: a sweep
    with nothing new analyzes nothing."""
    session.execute(text(f"ANALYZE {name}"))


def _sync_all_pg(session: Session, rules: RetentionRules) -> int:
    from gateway.cases.models import CaseFile

    everything = lambda column: literal(True)  # noqa: E731 - no case filter: every case
    for statement in _PG_SYNC_TABLES:
        session.execute(text(statement))
    # What is new is staged in a temporary table first, then inserted: a statement that
    # anti-joins the table it inserts into can rescan its own new rows for every row
    # (measured: registering 100k cases took 494 s that way).
    new_cases = table(
        "retention_sync_new",
        column("case_id"),
        column("covenant_id"),
        column("resident_key"),
        column("complexity"),
    )
    found = session.execute(
        insert(new_cases).from_select(
            ["case_id", "covenant_id", "resident_key", "complexity"],
            select(CaseFile.id, CaseFile.covenant_id, _causer(), CaseFile.complexity).where(
                ~select(RetentionCase.case_id).where(RetentionCase.case_id == CaseFile.id).exists()
            ),
        )
    )
    registered = bool(found.rowcount)  # type: ignore[attr-defined]
    if registered:
        session.execute(text(_PG_REGISTER))
        _analyze(session, "retention_case")
        _analyze(session, "retention_sync_registered")
    changed = _changed_cases(everything).subquery()
    session.execute(
        insert(
            table(
                "retention_sync_changed",
                column("case_id"),
                column("complexity"),
                column("resident"),
            )
        ).from_select(["case_id", "complexity", "resident"], select(changed))
    )
    session.execute(text("INSERT INTO retention_sync SELECT case_id FROM retention_sync_changed"))
    staged = table(
        "retention_sync_fact",
        column("source_ref"),
        column("case_id"),
        column("kind"),
        column("occurred_on"),
        column("detail"),
    )
    new_facts = 0
    for source in _fact_sources(rules, everything):
        fact = source.subquery()
        result = session.execute(
            insert(staged).from_select(
                ["source_ref", "case_id", "kind", "occurred_on", "detail"],
                select(
                    fact.c.ref,
                    fact.c.case_id,
                    fact.c.kind,
                    # The day given, else the Dutch date, as dutch_date computes it.
                    func.coalesce(fact.c.on, cast(func.timezone(DUTCH_TIME.key, fact.c.at), Date)),
                    fact.c.detail,
                ),
            )
        )
        new_facts += int(result.rowcount)  # type: ignore[attr-defined]
    imported = 0
    if new_facts:
        imported = int(
            session.execute(text(_PG_IMPORT_FACTS), {"now": utcnow(), "by": RECORDED_BY}).rowcount  # type: ignore[attr-defined]
        )
        _analyze(session, "retention_fact")
    if session.execute(text("SELECT EXISTS (SELECT 1 FROM retention_sync)")).scalar_one():
        # Nothing registered here: the register holds older cases (or none), so no shortcut.
        if not (registered and session.execute(text(_PG_ONLY_REGISTERED_HERE)).scalar_one()):
            _analyze(session, "retention_sync")
            session.execute(text(_PG_LOCKSET))
            _analyze(session, "retention_sync_lock")
            session.execute(text(_PG_LOCK_AND_MARK))
            session.execute(text("DROP TABLE retention_sync_lock"))
        # A changed case is one of this transaction's (unseen by others, stale already) or
        # was locked just above.
        session.execute(text(_PG_WRITE_CHANGED))
    session.execute(text(f"DROP TABLE {', '.join(_PG_SYNC_TABLE_NAMES)}"))
    return imported


def _insert_facts(session: Session, facts: list[tuple[str, str, str, date, str | None]]) -> int:
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
                "occurred_on": on,
                "detail": detail,
                "recorded_at": now,
                "recorded_by": RECORDED_BY,
            }
            for ref, case_id, kind, on, detail in facts
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
