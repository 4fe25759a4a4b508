"""The retention sweep: find what is due, shred its data keys, overwrite its values with
tombstones, record one audit entry per erased case.

Set-based: a batch of cases is erased with a handful of statements (``... WHERE case_id IN
(...)``), never one ORM round trip per row. Each batch is one transaction that holds whole
cases, so a crash at any point leaves every case either untouched or fully erased (with its
tombstone and its audit entry); the next run continues with what is still due, and a case
is erased exactly once because the batch only takes cases whose ``erased_at`` is NULL.
A dry run does the same reads inside a transaction that is rolled back: it reports exactly
what a real run would remove and changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Table,
    column,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from audit.entry import MAX_ATTRIBUTES, MAX_SUBJECTS
from gateway.audit import (
    RETENTION_REDACTION,
    AuditEntry,
    AuditLog,
    DataSubject,
    EntryCopy,
    ProcessingActivity,
)
from gateway.audit.readers import (
    ERASURE_READER,
    ERASURE_READERS,
    ERASURE_READERS_ALL,
    erasure_readers,
)
from gateway.core.dutch_date import dutch_today
from gateway.core.replays import purge_replays
from gateway.crypto import DataKeyStore
from gateway.db import among, driver_rows, transaction, utcnow
from gateway.policy.covenant import Covenant
from gateway.retention import runs
from gateway.retention.casefacts import sync_from_cases
from gateway.retention.lock import SweepLock
from gateway.retention.minutes import count_due_meetings, erase_meetings
from gateway.retention.models import (
    RetentionCase,
    RetentionHold,
    RetentionTombstone,
)
from gateway.retention.rules import RetentionRules, moved_out
from gateway.retention.sanctions import officers_told
from gateway.retention.service import pick_stale, refresh_stale, write_verdicts
from gateway.retention.targets import (
    RedactionTarget,
    discover_deletions,
    discover_targets,
    drops_keys,
    empty_dependents,
    pruned_object,
    shred_scopes,
    tombstone_value,
)

log = logging.getLogger("ketenpoort.retention")

Progress = Callable[[int, int], None]
#: Called inside each batch's transaction after its writes (tests inject crashes here).
FaultHook = Callable[[int], None]
#: Called inside each batch's transaction with a stage and the batch's case ids: "picked"
#: (chosen, nothing locked yet) and "locked" (the cases' rows are locked and re-checked,
#: nothing erased yet). Tests interleave a legal hold here.
Seam = Callable[[str, list[str]], None]
#: Called as a real run's phases start: "sync", "verdicts", "erase", and "done" at the end
#: (the bench samples CPU time here).
PhaseHook = Callable[[str], None]


class DueCase(NamedTuple):
    # Named tuples, not frozen dataclasses: a sweep makes two per erased case, and a frozen
    # dataclass's __init__ (one object.__setattr__ per field) was a twentieth of the
    # erasure's Python at 100k (py-spy).
    case_id: str
    covenant_id: str
    scope: str
    rule_id: str
    due_on: date


class SweepItem(NamedTuple):
    """One case a run erases (or, in a dry run, would erase), and what goes with it."""

    case_id: str
    covenant_id: str
    rule_id: str
    due_on: date
    key_scope: str
    values: dict[str, int]


@dataclass
class SweepReport:
    run_id: str
    dry_run: bool
    as_of: date
    due: int = 0
    redacted: int = 0
    on_hold: int = 0
    #: ``on_hold`` per covenant: a covenant's privacy officer is told its own only.
    on_hold_by_covenant: dict[str, int] = field(default_factory=dict)
    #: A dry run's cases on hold that would be due, as (case id, covenant id): another
    #: partner's privacy officer is told of those of its partner's cases only.
    held: list[tuple[str, str]] = field(default_factory=list)
    batches: int = 0
    seconds: float = 0.0
    items: list[SweepItem] = field(default_factory=list)
    #: Seconds per phase of a real run: "sync" (facts imported from the cases domain),
    #: "verdicts" (stale verdicts recomputed) and "erase".
    phases: dict[str, float] = field(default_factory=dict)
    #: Case meetings erased (a dry run: that would be), gateway/retention/minutes.py.
    meetings: int = 0
    #: Idempotency records deleted, their replay window past (a real run only).
    idempotency_purged: int = 0
    #: A dry run's items whose verdict, as the dry run computed it, runs from the resident's
    #: move-out: the stored verdict an API reader's session sees may be older (a closure not
    #: yet imported), and the move's day is told to few (service.moves_withheld).
    moved_out: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SweepOptions:
    as_of: date | None = None
    dry_run: bool = False
    batch_size: int = 500
    started_by: str = "system"
    sync_cases: bool = True
    collect_items: bool = True
    #: Batches erased at the same time (PostgreSQL only; SQLite has one writer).
    workers: int = 2
    lock_lease_seconds: float = 900.0
    #: How long an Idempotency-Key replays (gateway/core/idempotency.py); older records are
    #: deleted after the erasure. None: kept (a sweep without the setting).
    idempotency_replay: timedelta | None = None


def run_sweep(
    *,
    session_factory: sessionmaker[Session],
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    audit: AuditLog | None,
    keys: DataKeyStore | None,
    options: SweepOptions,
    progress: Progress | None = None,
    fault: FaultHook | None = None,
    seam: Seam | None = None,
    phase: PhaseHook | None = None,
    before_erasure: Callable[[], object] | None = None,
) -> SweepReport:
    """Run one sweep (see the module docstring). Raises SweepAlreadyRunning when another
    process holds the lock; a real run without an audit log refuses (fail closed).
    ``before_erasure`` runs first in a real run, under the lock: the cases domain keeps the
    steering figures of the last ended month there (gateway/cases/snapshots.py).
    ``covenants``: whose privacy officers find each erased case's audit entry
    (sanctions.officers_told)."""
    started = time.perf_counter()
    as_of = options.as_of or dutch_today()
    report = SweepReport(run_id=str(uuid.uuid4()), dry_run=options.dry_run, as_of=as_of)
    if options.dry_run:
        _dry_run(session_factory, rules, options, report)
    else:
        if audit is None:
            from gateway.audit import AuditUnavailable

            raise AuditUnavailable("No audit log: nothing is erased without its audit entry.")
        engine = session_factory.kw["bind"]
        lock = SweepLock(engine, lease_seconds=options.lock_lease_seconds)
        with lock.held():
            _keep_figures(before_erasure)
            _real_run(
                session_factory,
                rules,
                covenants,
                audit,
                keys,
                options,
                report,
                lock,
                progress,
                fault,
                seam,
                phase or _no_phase,
            )
        _flush_sqlite_wal(session_factory)
    report.seconds = time.perf_counter() - started
    return report


def _keep_figures(before_erasure: Callable[[], object] | None) -> None:
    """What must be kept before anything is erased. Its failure does not stop the sweep: the
    erasure is due by the rules, and without the snapshot the report replays the month from
    the history as before (one residual: docs/cases.md)."""
    if before_erasure is None:
        return
    try:
        before_erasure()
    except Exception:  # noqa: BLE001 - logged; the erasure is a duty of its own
        log.exception("the steering figures of the last ended month were not kept")


def _prepare(session: Session, rules: RetentionRules, options: SweepOptions) -> None:
    if options.sync_cases:
        sync_from_cases(session=session, rules=rules)
    last: str | None = ""
    while last is not None:
        last = refresh_stale(session=session, rules=rules, after=last, limit=options.batch_size)


def _dry_run(
    factory: sessionmaker[Session],
    rules: RetentionRules,
    options: SweepOptions,
    report: SweepReport,
) -> None:
    session = factory()
    try:
        _prepare(session, rules, options)
        _count_due(session, rules, report)
        report.held = [
            (case_id, covenant_id)
            for case_id, covenant_id in session.execute(
                select(RetentionCase.case_id, RetentionCase.covenant_id)
                .where(*_due_filter(rules, report.as_of), _held())
                .order_by(RetentionCase.case_id)
            )
        ]
        targets = discover_targets(session.connection())
        last = ""
        while batch := _next_batch(session, rules, report.as_of, last, options.batch_size):
            counts = _value_counts(session, targets, [c.case_id for c in batch])
            report.items.extend(_item(case, counts.get(case.case_id, {})) for case in batch)
            report.moved_out.update(
                case_id
                for case_id, reason in session.execute(
                    select(RetentionCase.case_id, RetentionCase.reason).where(
                        _among(session, RetentionCase.case_id, [c.case_id for c in batch])
                    )
                )
                if moved_out(reason)
            )
            last = batch[-1].case_id
        going = [*_due_filter(rules, report.as_of), ~_held()]
        report.meetings = count_due_meetings(session, rules, report.as_of, going=going)
    finally:
        session.rollback()  # a dry run changes nothing, not even the register's verdicts
        session.close()


def _real_run(
    factory: sessionmaker[Session],
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    audit: AuditLog,
    keys: DataKeyStore | None,
    options: SweepOptions,
    report: SweepReport,
    lock: SweepLock,
    progress: Progress | None,
    fault: FaultHook | None,
    seam: Seam | None,
    phase: PhaseHook,
) -> None:
    # The run is recorded in a transaction of its own before any work: a run that fails
    # (say, in the sync) or dies is still on record, and readiness can say so.
    with transaction(factory) as session:
        closed = runs.open_run(
            session, run_id=report.run_id, as_of=report.as_of, started_by=options.started_by
        )
    for run_id in closed:
        log.warning("retention sweep %s had died; closed with the cases it erased", run_id)
    try:
        _sync_refresh_and_erase(
            factory,
            rules,
            covenants,
            audit,
            keys,
            options,
            report,
            lock,
            progress,
            fault,
            seam,
            phase,
        )
    except BaseException:
        try:
            with transaction(factory) as session:
                runs.close_run(session, run_id=report.run_id, status=runs.FAILED)
        except Exception:  # noqa: BLE001 - the database may be what failed; the next run closes it
            log.warning("retention sweep %s failed and could not be marked so", report.run_id)
        raise
    with transaction(factory) as session:
        runs.close_run(session, run_id=report.run_id, status=runs.FINISHED)
    log.info("retention sweep %s erased %s cases", report.run_id, report.redacted)


def _sync_refresh_and_erase(
    factory: sessionmaker[Session],
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    audit: AuditLog,
    keys: DataKeyStore | None,
    options: SweepOptions,
    report: SweepReport,
    lock: SweepLock,
    progress: Progress | None,
    fault: FaultHook | None,
    seam: Seam | None,
    phase: PhaseHook,
) -> None:
    phase("sync")
    started = time.perf_counter()
    if options.sync_cases:
        with transaction(factory) as session:
            sync_from_cases(session=session, rules=rules)
    synced = time.perf_counter()
    report.phases["sync"] = synced - started
    phase("verdicts")
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    workers = options.workers if postgres else 1
    verdicts = _Verdicts(factory, rules, options.batch_size)
    _run_workers(verdicts.next, verdicts.stop, workers)
    if verdicts.written and postgres:
        # The register's statistics as the verdicts left them: analyzed after the sync
        # registered its cases (all stale, no due date), the erasure's statements were
        # planned for no due case at all, and its lock step read the whole register once
        # per batch. The table's owner only (see casefacts._analyze).
        with transaction(factory) as session:
            session.execute(text("ANALYZE retention_case"))
    report.phases["verdicts"] = time.perf_counter() - synced
    phase("erase")
    started = time.perf_counter()
    with transaction(factory) as session:
        _count_due(session, rules, report)
        targets = discover_targets(session.connection())
        deletions = discover_deletions(session.connection())
    if progress is not None:
        progress(0, report.due)
    batches = _Batches(
        factory,
        rules,
        covenants,
        audit,
        keys,
        targets,
        options,
        report,
        lock,
        progress,
        fault,
        seam,
    )
    batches.deletions = deletions
    _run_workers(batches.erase_next, batches.stop, workers)
    # After every batch, so no worker's uncommitted erasure hides a meeting's last case.
    with transaction(factory) as session:
        scopes = erase_meetings(
            session,
            rules=rules,
            audit=audit,
            as_of=report.as_of,
            now=utcnow(),
            run_id=report.run_id,
        )
    report.meetings = len(scopes)
    if keys is not None:
        for scope in scopes:
            keys.forget(scope=scope)
    if options.idempotency_replay is not None:
        # By the clock, not as_of: the window is the partners' retries, not a covenant term.
        with transaction(factory) as session:
            report.idempotency_purged = purge_replays(
                session, before=utcnow() - options.idempotency_replay
            )
    report.phases["erase"] = time.perf_counter() - started
    phase("done")


def _no_phase(name: str) -> None:
    pass


@dataclass
class _Batches:
    """Hands out batches in keyset order and records the finished ones; shared by workers.

    With several workers (PostgreSQL) one batch's Python work (audit entries) runs while
    another's statements run on the server. A batch is chosen under ``choosing`` and starts
    after the last chosen case, so no two batches overlap although neither has committed.
    Each batch is still one transaction of whole cases: a crash in one leaves it untouched,
    and a failure stops the others before they choose another batch."""

    factory: sessionmaker[Session]
    rules: RetentionRules
    covenants: Mapping[str, Covenant]
    audit: AuditLog
    keys: DataKeyStore | None
    targets: list[RedactionTarget]
    options: SweepOptions
    report: SweepReport
    lock: SweepLock
    progress: Progress | None
    fault: FaultHook | None
    seam: Seam | None = None
    #: The tables whose rows of an erased case are deleted (targets.discover_deletions).
    deletions: list[Table] = field(default_factory=list)
    last: str = ""
    chosen: int = 0
    choosing: threading.Lock = field(default_factory=threading.Lock)
    finishing: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def erase_next(self) -> bool:
        """Erase one batch; False when nothing is left (or another worker failed)."""
        size = self.options.batch_size
        with transaction(self.factory) as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            with self.choosing:
                if self.stop.is_set():
                    return False
                bounds: _Bounds | None = None
                if postgres:
                    batch, bounds = _choose_pg(
                        session, self.rules, self.report.as_of, self.last, size
                    )
                else:
                    batch = _next_batch(session, self.rules, self.report.as_of, self.last, size)
                if not batch:
                    self.stop.set()
                    return False
                # The keyset continues after the batch's last case in the database's order.
                self.last = bounds.last if bounds is not None else batch[-1].case_id
                self.chosen += 1
                number = self.chosen
            if self.seam is not None:
                self.seam("picked", [c.case_id for c in batch])
            if bounds is not None:
                batch, items = _erase_chosen_pg(
                    session,
                    self.audit,
                    self.targets,
                    batch,
                    bounds,
                    self.rules,
                    self.covenants,
                    self.report,
                    self.seam,
                    self.deletions,
                )
            else:
                batch, items = _erase_batch(
                    session,
                    self.audit,
                    self.targets,
                    batch,
                    self.rules,
                    self.covenants,
                    self.report,
                    self.seam,
                    self.deletions,
                )
            if self.fault is not None:
                self.fault(number)
        with self.finishing:
            self.report.batches += 1
            self.report.redacted += len(batch)
            if self.options.collect_items:
                self.report.items.extend(items)
            if self.keys is not None:
                for case in batch:
                    self.keys.forget(scope=case.scope)
            self.lock.renew()
            if self.progress is not None:
                self.progress(self.report.redacted, self.report.due)
        return True


@dataclass
class _Verdicts:
    """Hands out the stale verdicts in keyset order, one batch per transaction; shared by
    workers (PostgreSQL), as _Batches hands out the erasure. A batch is picked and locked
    under ``choosing`` (one statement) and starts after the last case picked, so no two
    overlap; computing and writing the verdicts runs in parallel with the next pick, so one
    batch's Python work (the rules) overlaps another's statements. Each batch is one
    transaction: a failure leaves its cases stale (never erased on an old verdict) and stops
    the others before they pick another batch."""

    factory: sessionmaker[Session]
    rules: RetentionRules
    size: int
    last: str = ""
    written: int = 0
    choosing: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def next(self) -> bool:
        """Recompute one batch; False when nothing is left (or another worker failed)."""
        with transaction(self.factory) as session:
            with self.choosing:
                if self.stop.is_set():
                    return False
                rows = pick_stale(
                    session=session, rules=self.rules, after=self.last, limit=self.size
                )
                if not rows:
                    self.stop.set()
                    return False
                self.last = rows[-1].case_id
                self.written += len(rows)
            write_verdicts(session=session, rules=self.rules, rows=rows)
        return True


def _run_workers(step: Callable[[], bool], stop: threading.Event, workers: int) -> None:
    """Call ``step`` until it answers False, in ``workers`` threads. A failing thread sets
    ``stop`` (after which ``step`` hands out no more work) and the first failure is raised
    here once every thread has stopped."""
    if workers <= 1:
        while step():
            pass
        return
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while step():
                pass
        except BaseException as exc:  # re-raised below, in the caller's thread
            stop.set()
            failures.append(exc)

    threads = [threading.Thread(target=work, name=f"retention-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# -- queries -----------------------------------------------------------------------------


def _held() -> Any:
    return RetentionCase.on_hold.is_(True)


def _due_filter(rules: RetentionRules, as_of: date) -> list[Any]:
    # A stale verdict is never acted on: a new fact may have moved the due date.
    return [
        RetentionCase.erased_at.is_(None),
        RetentionCase.due_on.is_not(None),
        RetentionCase.due_on <= as_of,
        RetentionCase.stale.is_(False),
        RetentionCase.rules_revision == rules.revision,
        RetentionCase.rule_id.is_not(None),
    ]


def _count_due(session: Session, rules: RetentionRules, report: SweepReport) -> None:
    due_filter = _due_filter(rules, report.as_of)
    base = select(func.count()).select_from(RetentionCase).where(*due_filter)
    report.due = int(session.execute(base.where(~_held())).scalar_one())
    held = session.execute(
        select(RetentionCase.covenant_id, func.count())
        .where(*due_filter, _held())
        .group_by(RetentionCase.covenant_id)
    ).all()
    report.on_hold_by_covenant = {covenant: int(count) for covenant, count in held}
    report.on_hold = sum(report.on_hold_by_covenant.values())


def _next_batch(
    session: Session, rules: RetentionRules, as_of: date, after: str, size: int
) -> list[DueCase]:
    rows = session.execute(
        select(
            RetentionCase.case_id,
            RetentionCase.covenant_id,
            RetentionCase.scope,
            RetentionCase.rule_id,
            RetentionCase.due_on,
        )
        .where(*_due_filter(rules, as_of), ~_held(), RetentionCase.case_id > after)
        .order_by(RetentionCase.case_id)
        .limit(size)
    ).all()
    return [DueCase(r.case_id, r.covenant_id, r.scope, r.rule_id, r.due_on) for r in rows]


def _among(session: Session, column: Any, ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` as one parameter (gateway.db.among; measured: an IN list's
    per-parameter cost dominated the sweep)."""
    return among(session, column, ids)


def _value_counts(
    session: Session, targets: list[RedactionTarget], ids: list[str]
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for target in targets:
        statement = (
            select(target.key, func.count())
            .where(_among(session, target.key, ids))
            .group_by(target.key)
        )
        for case_id, count in session.execute(statement):
            counts[case_id][target.name] = int(count)
    return counts


def _item(case: DueCase, values: dict[str, int]) -> SweepItem:
    return SweepItem(case.case_id, case.covenant_id, case.rule_id, case.due_on, case.scope, values)


# -- erasing one batch -------------------------------------------------------------------

# PostgreSQL: the batch is chosen and erased on the server. The chosen cases go into a
# temporary table (dropped at commit), every statement joins it, and the rows per table
# are counted from the UPDATEs themselves: no id list travels to the server and back, and
# no table is read twice. Measured at 100k cases: the array parameters' conversion and the
# separate count queries were half the sweep.
_PG_BATCH_TABLES = (
    """CREATE TEMPORARY TABLE retention_batch (case_id TEXT PRIMARY KEY, covenant_id TEXT,
         scope TEXT, rule_id TEXT, due_on DATE) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE retention_batch_count (case_id TEXT, target TEXT, n BIGINT)
         ON COMMIT DROP""",
)
_PG_CHOOSE = """
    INSERT INTO retention_batch
    SELECT c.case_id, c.covenant_id, c.scope, c.rule_id, c.due_on
    FROM retention_case c
    WHERE c.erased_at IS NULL AND c.due_on IS NOT NULL AND c.due_on <= %(as_of)s
      AND c.stale = false AND c.rules_revision = %(revision)s AND c.rule_id IS NOT NULL
      AND c.case_id > %(after)s AND NOT c.on_hold
    ORDER BY c.case_id
    LIMIT %(size)s
    RETURNING case_id, covenant_id, scope, rule_id, due_on"""
# Shred the batch's keys; a scope that never had a key gets a shredded tombstone key, so
# nothing can be stored under it later. The tombstone insert only considers scopes the
# UPDATE did not find: a NOT EXISTS against the whole key table was planned as a scan of
# it, once per batch (quadratic in the table size); the unique index settles the rest.
_PG_SHRED = """
    WITH shredded AS (
      UPDATE crypto_data_key k
      SET wrapped_key = NULL, shredded_at = :now, shred_reason = 'retention rule ' || b.rule_id
      FROM retention_batch b
      WHERE k.scope = b.scope AND k.wrapped_key IS NOT NULL
        AND k.scope BETWEEN :first_scope AND :last_scope
      RETURNING k.scope)
    INSERT INTO crypto_data_key (scope, kek_version, wrapped_key, shredded_at, shred_reason,
      created_at)
    SELECT b.scope, 0, NULL, :now, 'retention rule ' || b.rule_id, :now
    FROM retention_batch b
    WHERE NOT EXISTS (SELECT 1 FROM shredded s WHERE s.scope = b.scope)
    ON CONFLICT (scope) DO NOTHING"""
_PG_BATCH_TOMBSTONES = """
    INSERT INTO retention_tombstone
      (case_id, covenant_id, rule_id, due_on, erased_at, run_id, removed)
    SELECT b.case_id, b.covenant_id, b.rule_id, b.due_on, :now, :run,
      json_build_object('keyScope', b.scope, 'values', COALESCE(c.v, '{}'::json))
    FROM retention_batch b
    LEFT JOIN (SELECT case_id, json_object_agg(target, n) AS v
               FROM retention_batch_count GROUP BY case_id) c ON c.case_id = b.case_id"""
# The legal holds' free-text reasons go with the dossier (see _forget_hold_reasons).
_PG_HOLD_REASONS = """
    UPDATE retention_hold h
    SET reason = CAST(:erased AS VARCHAR),
        lift_reason = CASE WHEN h.lift_reason IS NULL THEN NULL ELSE CAST(:erased AS VARCHAR) END
    FROM retention_batch b
    WHERE h.case_id = b.case_id AND h.case_id BETWEEN :first AND :last"""
#: What an erased case's legal holds say instead of their reasons.
ERASED_HOLD_REASON = "Erased with its case's dossier."
# First in the batch: lock the picked cases' rows (a legal hold and a new fact update the
# same rows, see service.lock_cases) and re-check them under the lock. A case whose row
# changed after the pick (a hold, a new fact making its verdict stale, a new due date) is
# left out: PostgreSQL evaluates the WHERE again on the row as committed. The locks are
# taken in case id order, as lock_cases takes them, and a row another transaction holds is
# skipped, not waited for: the sweep never waits for a user's request (so the two cannot
# deadlock, and the request is never the side that fails), and the skipped case, whose row
# is about to change, is left to the next run. The cases left out are deleted from the
# batch and returned.
_PG_MARK_ERASED = """
    WITH locked AS (
      SELECT r.case_id
      FROM retention_case r JOIN retention_batch b ON r.case_id = b.case_id
      WHERE r.case_id BETWEEN :first AND :last
        AND r.erased_at IS NULL AND NOT r.on_hold AND NOT r.stale
        AND r.rules_revision = :revision AND r.rule_id = b.rule_id AND r.due_on = b.due_on
      ORDER BY r.case_id
      FOR NO KEY UPDATE OF r SKIP LOCKED),
    erased AS (
      UPDATE retention_case r
      SET erased_at = :now, erased_rule_id = r.rule_id, erased_run_id = :run,
          resident_key = NULL
      FROM locked l
      WHERE r.case_id = l.case_id
      RETURNING r.case_id)
    DELETE FROM retention_batch b
    WHERE NOT EXISTS (SELECT 1 FROM erased e WHERE e.case_id = b.case_id)
    RETURNING b.case_id"""


def _pg_overwrite(
    session: Session, target: RedactionTarget, bounds: _Bounds, now: datetime
) -> None:
    """Overwrite one table's values of the batch's cases and count its rows per case.

    Only rows with a value to overwrite are written: a row whose sealed values and blind
    indexes are all NULL already is what the overwrite would leave, and writing it anyway
    made a new row version with an entry in each of its indexes (a transition without a
    reason: at 100k cases the transitions' UPDATE was the erasure's costliest statement).
    Every row of the case is still counted, as before, for the tombstone and the audit
    entry: the count reads the same rows the UPDATE would have read."""
    values = _overwritten(target, now)
    batch = table("retention_batch", column("case_id"))
    in_batch = (target.key == batch.c.case_id, target.key.between(bounds.first, bounds.last))
    # A row not yet marked is always written: the mark is what the reads go by.
    holding = or_(
        *(c.is_not(None) for c in (*target.sealed, *target.indexes, *target.nulls)),
        *(c.is_(None) for c in target.marks),
        *(drops_keys(c) for c in target.pruned),
    )
    erased = update(target.table).where(*in_batch, holding).values(values).cte("erased")
    count = (
        select(target.key, literal(target.name), func.count())
        .select_from(target.table)
        .where(*in_batch)
        .group_by(target.key)
    )
    counts = table("retention_batch_count", column("case_id"), column("target"), column("n"))
    session.execute(insert(counts).from_select(["case_id", "target", "n"], count).add_cte(erased))


def _overwritten(target: RedactionTarget, now: datetime) -> dict[str, Any]:
    """A target's new values: sealed values tombstoned, blind indexes and assessment columns
    cleared, JSON objects pruned to the keys they keep, erasure marks set to ``now``. One
    UPDATE per table writes them all, on both paths (no pass of its own per kind)."""
    values: dict[str, Any] = {c.name: tombstone_value(c) for c in target.sealed}
    values.update({c.name: None for c in (*target.indexes, *target.nulls)})
    values.update({c.name: pruned_object(c) for c in target.pruned})
    values.update({c.name: now for c in target.marks})
    return values


@dataclass(frozen=True)
class _Bounds:
    """The first and last case id, and data key scope, of a batch in the database's order.
    A batch is a run of consecutive case ids (keyset order), so every statement of its
    erasure also bounds its key to this range: the planner then reads the range from the
    key's index. Without it, a join with the batch's 10,000 cases was planned as a scan of
    the whole table once per batch, which grows with the square of the cases (measured at
    100k: every register, person, transition and report row read once per batch)."""

    first: str
    last: str
    first_scope: str
    last_scope: str


_PG_BOUNDS = """
    SELECT min(case_id), max(case_id), min(scope), max(scope) FROM retention_batch"""


def _choose_pg(
    session: Session, rules: RetentionRules, as_of: date, after: str, size: int
) -> tuple[list[DueCase], _Bounds | None]:
    """Put the next batch into this transaction's temporary table and return it, with its
    bounds (None: nothing is due)."""
    for statement in _PG_BATCH_TABLES:
        session.execute(text(statement))
    # The driver's tuples (see _plain_rows): 10,000 rows per batch.
    rows = _plain_rows(
        session,
        _PG_CHOOSE,
        {"as_of": as_of, "revision": rules.revision, "after": after, "size": size},
    )
    if not rows:
        return [], None
    first, last, first_scope, last_scope = session.execute(text(_PG_BOUNDS)).one()
    # RETURNING does not keep the ORDER BY; the keyset continues after bounds.last.
    batch = sorted(map(DueCase._make, rows), key=lambda case: case.case_id)
    return batch, _Bounds(first, last, first_scope, last_scope)


def _erase_chosen_pg(
    session: Session,
    audit: AuditLog,
    targets: list[RedactionTarget],
    batch: list[DueCase],
    bounds: _Bounds,
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    report: SweepReport,
    seam: Seam | None,
    deletions: Sequence[Table] = (),
) -> tuple[list[DueCase], list[SweepItem]]:
    now = utcnow()
    # A fresh temporary table has no statistics; with them the joins below probe the
    # tables' indexes for the batch instead of reading whole tables (linear, not quadratic).
    session.execute(text("ANALYZE retention_batch"))
    params = {"now": now, "run": report.run_id}
    among_ids = {"first": bounds.first, "last": bounds.last}
    dropped = set(
        session.scalars(text(_PG_MARK_ERASED), {**params, **among_ids, "revision": rules.revision})
    )
    if dropped:
        batch = [case for case in batch if case.case_id not in dropped]
    if seam is not None:
        seam("locked", [case.case_id for case in batch])
    # Before the overwrite: it clears the persons' blind indexes the subjects come from,
    # and the readers are decided on the case as it stands.
    subjects = _subjects(audit, _plain_rows(session, _PG_SUBJECTS, among_ids))
    readers = _readers(session, rules, covenants, batch)
    for target in targets:
        _pg_overwrite(session, target, bounds, now)
    batch_table = table("retention_batch", column("case_id"))
    for deleted in deletions:
        key = deleted.c.case_id
        session.execute(
            delete(deleted).where(
                key == batch_table.c.case_id, key.between(bounds.first, bounds.last)
            )
        )
    session.execute(text(_PG_HOLD_REASONS), {"erased": ERASED_HOLD_REASON, **among_ids})
    empty_dependents(session, [case.case_id for case in batch])
    scopes = {"first_scope": bounds.first_scope, "last_scope": bounds.last_scope}
    session.execute(text(_PG_SHRED), {**params, **scopes})
    session.execute(text(_PG_BATCH_TOMBSTONES), params)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for case_id, name, n in _plain_rows(
        session, "SELECT case_id, target, n FROM retention_batch_count", {}
    ):
        counts[case_id][name] = int(n)
    items = [_item(case, counts.get(case.case_id, {})) for case in batch]
    # Last, as every audited write: the entries commit with the erasure or not at all.
    entries = _entries(items, report.run_id, now, subjects, readers)
    audit.record_copies(session=session, copies=entries)
    return batch, items


def _plain_rows(session: Session, statement: str, params: dict[str, Any]) -> list[Any]:
    """The rows of ``statement`` as the driver returns them (``gateway.db.driver_rows``): the
    batch's subjects and counts are some 50,000 rows per batch, and a SQLAlchemy result row
    cost twice the driver's tuple (measured)."""
    return driver_rows(session, statement, params)


def _erase_batch(
    session: Session,
    audit: AuditLog,
    targets: list[RedactionTarget],
    batch: list[DueCase],
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    report: SweepReport,
    seam: Seam | None,
    deletions: Sequence[Table] = (),
) -> tuple[list[DueCase], list[SweepItem]]:
    now = utcnow()
    run_id = report.run_id
    if session.get_bind().dialect.name == "sqlite":
        # Freed pages are zeroed, so the old wrapped keys do not linger in the file.
        session.execute(text("PRAGMA secure_delete=ON"))
    # The first write: on SQLite it takes the write lock, so the batch is re-checked (no
    # hold, verdict unchanged) inside the write transaction; on PostgreSQL it locks the
    # rows a legal hold updates. Only the cases it marks are erased.
    picked = {case.case_id: case for case in batch}
    marked = session.execute(
        update(RetentionCase)
        .where(
            _among(session, RetentionCase.case_id, list(picked)),
            *_due_filter(rules, report.as_of),
            ~_held(),
        )
        .values(
            erased_at=now,
            erased_rule_id=RetentionCase.rule_id,
            erased_run_id=run_id,
            resident_key=None,
        )
        .returning(RetentionCase.case_id, RetentionCase.rule_id, RetentionCase.due_on)
        .execution_options(synchronize_session=False)
    ).all()
    # The verdict as it stood under the lock (a refresh since the pick may have moved it).
    batch = []
    for case_id, rule_id, due_on in sorted(marked):
        # The due filter requires both.
        assert rule_id is not None
        assert due_on is not None
        case = picked[case_id]
        batch.append(DueCase(case_id, case.covenant_id, case.scope, rule_id, due_on))
    if seam is not None:
        seam("locked", [case.case_id for case in batch])
    ids = [case.case_id for case in batch]
    subjects = _subjects(audit, session.execute(_subject_indexes(session, ids)).all())
    readers = _readers(session, rules, covenants, batch)
    counts = _value_counts(session, targets, ids)
    _shred_keys(session, batch, now)
    for target in targets:
        session.execute(
            update(target.table)
            .where(_among(session, target.key, ids))
            .values(_overwritten(target, now))
        )
    for deleted in deletions:
        session.execute(
            delete(deleted)
            .where(_among(session, deleted.c.case_id, ids))
            .execution_options(synchronize_session=False)
        )
    _forget_hold_reasons(session, ids)
    empty_dependents(session, ids)
    items = [_item(case, counts.get(case.case_id, {})) for case in batch]
    _insert_tombstones(session, items, now, run_id)
    # Last: the append holds the audit log's lock until this transaction commits.
    audit.record_copies(session=session, copies=_entries(items, run_id, now, subjects, readers))
    return batch, items


def _forget_hold_reasons(session: Session, ids: list[str]) -> None:
    """Overwrite the reasons of the erased cases' legal holds (all lifted: a held case is
    never erased). A reason is a partner's free text of up to 500 characters ("no personal
    data" by description only: "Rechtszaak huurder tegen verhuurder" can name the parties),
    about a dossier that is gone, and nothing shows a lifted hold's reason; the row keeps
    who set and lifted the hold and when, as the audit log does (its entries carry the
    hold's id, never the reason). Retention's own tables are no redaction target, so this
    is done here (review2 finding 12). PostgreSQL: _PG_HOLD_REASONS."""
    erased = literal(ERASED_HOLD_REASON)
    session.execute(
        update(RetentionHold)
        .where(_among(session, RetentionHold.case_id, ids))
        .values(
            reason=erased,
            lift_reason=sql_case((RetentionHold.lift_reason.is_(None), None), else_=erased),
        )
        .execution_options(synchronize_session=False)
    )


_PG_TOMBSTONES = text(
    """INSERT INTO retention_tombstone
         (case_id, covenant_id, rule_id, due_on, erased_at, run_id, removed)
       SELECT c, v, r, d, :now, :run, CAST(j AS JSON)
       FROM unnest(CAST(:cases AS TEXT[]), CAST(:covenants AS TEXT[]), CAST(:rules AS TEXT[]),
                   CAST(:dues AS DATE[]), CAST(:removed AS TEXT[])) AS t(c, v, r, d, j)"""
)


def _insert_tombstones(
    session: Session, items: list[SweepItem], now: datetime, run_id: str
) -> None:
    removed = [{"keyScope": item.key_scope, "values": item.values} for item in items]
    if session.get_bind().dialect.name == "postgresql":
        # One statement with array parameters: executemany would convert N x 7 parameters.
        session.execute(
            _PG_TOMBSTONES,
            {
                "now": now,
                "run": run_id,
                "cases": [i.case_id for i in items],
                "covenants": [i.covenant_id for i in items],
                "rules": [i.rule_id for i in items],
                "dues": [i.due_on for i in items],
                "removed": [json.dumps(r) for r in removed],
            },
        )
        return
    session.execute(
        insert(RetentionTombstone),
        [
            {
                "case_id": item.case_id,
                "covenant_id": item.covenant_id,
                "rule_id": item.rule_id,
                "due_on": item.due_on,
                "erased_at": now,
                "run_id": run_id,
                "removed": gone,
            }
            for item, gone in zip(items, removed, strict=True)
        ],
    )


def _shred_keys(session: Session, batch: list[DueCase], now: datetime) -> None:
    """The batch's data keys, each shredded for its case's rule (targets.shred_scopes)."""
    shred_scopes(session, [(case.scope, f"retention rule {case.rule_id}") for case in batch], now)


# Who an erased case was about, as the cases domain names them (gateway/cases/subjects.py):
# every person with a blind index of their BSN, and the case's address index.
_PG_SUBJECTS = """
    SELECT p.case_id, 'bsn', p.identifier_index
    FROM case_person p JOIN retention_batch b ON b.case_id = p.case_id
    WHERE p.identifier_index IS NOT NULL AND p.case_id BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT f.id, 'address', f.address_index
    FROM case_file f JOIN retention_batch b ON b.case_id = f.id
    WHERE f.address_index IS NOT NULL AND f.id BETWEEN %(first)s AND %(last)s"""


def _subject_indexes(session: Session, ids: list[str]) -> Any:
    """``(case id, identifier type, blind index)`` of the batch's persons and addresses."""
    from gateway.cases.models import CaseFile, CasePerson

    persons = select(CasePerson.case_id, literal("bsn"), CasePerson.identifier_index).where(
        _among(session, CasePerson.case_id, ids), CasePerson.identifier_index.is_not(None)
    )
    addresses = select(CaseFile.id, literal("address"), CaseFile.address_index).where(
        _among(session, CaseFile.id, ids), CaseFile.address_index.is_not(None)
    )
    return persons.union_all(addresses)


def _subjects(audit: AuditLog, rows: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each case's data subjects as (identifier type, pseudonym) pairs: the audit log's
    keyed pseudonyms of the stored blind indexes, so the access report finds the erasure by
    the person's BSN or address, and nothing is decrypted. Sorted and unique, as
    AuditEntry keeps them; at most MAX_SUBJECTS per entry (a case has a handful: more are
    left out, with a warning). Plain pairs, not DataSubject models (gateway.audit.EntryCopy):
    a model per subject was a tenth of the erasure's Python."""
    pseudonyms: dict[tuple[str, str], str] = {}
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for case_id, kind, index in rows:
        pseudonym = pseudonyms.get((kind, index))
        if pseudonym is None:
            pseudonym = audit.pseudonym_from_index(identifier_type=kind, blind_index=index)
            pseudonyms[(kind, index)] = pseudonym
        found[case_id].add((kind, pseudonym))
    result: dict[str, tuple[tuple[str, str], ...]] = {}
    for case_id, named in found.items():
        if len(named) > MAX_SUBJECTS:
            log.warning("retention: case %s names over %s data subjects", case_id, MAX_SUBJECTS)
        result[case_id] = tuple(sorted(named)[:MAX_SUBJECTS])
    return result


def _entries(
    items: list[SweepItem],
    run_id: str,
    now: datetime,
    subjects: dict[str, tuple[tuple[str, str], ...]],
    readers: dict[str, frozenset[str] | None],
) -> list[EntryCopy]:
    """One ``retention-redaction`` entry per case, naming the case's data subjects.
    Validating a pydantic model per case was a fifth of the sweep (about 100 µs each), and
    copying and serialising one per case a fifth of what was left: one entry per (covenant,
    rule) is built and validated in full, and each case's entry is a copy of it that differs
    only in the case id, the attributes and the subjects (gateway.audit.EntryCopy: the audit
    log checks those three fields as AuditEntry would and serialises the template once).
    The batch shares one trace. ``readers``: each case's :func:`_readers` (a case not
    in it names none: fail closed).

    Appended grouped by the officers who find them (:func:`_reader_group`: every officer's
    first, then each set of named officers, the operator's alone last), each group in case
    id order: in case id order alone, an entry an officer does not find sat between two it
    does, and the gap in their indexes dated the erasure of a case whose id lies between
    theirs (review of c85d928, F1). What a gap still tells: docs/retention.md, residual (c)."""
    templates: dict[tuple[str, str], AuditEntry] = {}
    grouped: list[tuple[tuple[int, tuple[str, ...]], int, EntryCopy]] = []
    for position, item in enumerate(items):
        named = subjects.get(item.case_id, ())
        attributes = _attributes(item, run_id, readers.get(item.case_id, frozenset()))
        template = templates.get((item.covenant_id, item.rule_id))
        if template is None:
            template = _entry(item, run_id, now, named, attributes)
            templates[(item.covenant_id, item.rule_id)] = template
        copy = EntryCopy(template, item.case_id, attributes, named)
        grouped.append((_reader_group(attributes), position, copy))
    grouped.sort(key=lambda entry: entry[:2])
    return [copy for _, _, copy in grouped]


def _reader_group(attributes: Mapping[str, object]) -> tuple[int, tuple[str, ...]]:
    """Where an entry goes in its batch (:func:`_entries`): ``(0, ())`` for every officer's,
    ``(1, partners)`` for the officers it names, ``(2, ())`` for the operator's alone."""
    if attributes.get(ERASURE_READERS) == ERASURE_READERS_ALL:
        return (0, ())
    named = tuple(sorted(key for key in attributes if key.startswith(ERASURE_READER)))
    return (1, named) if named else (2, ())


def _readers(
    session: Session,
    rules: RetentionRules,
    covenants: Mapping[str, Covenant],
    batch: list[DueCase],
) -> dict[str, frozenset[str] | None]:
    """Whose privacy officers may find each case's entry (sanctions.officers_told: those
    the retention views tell the rule and its dates; None: every reader). The entry names
    the rule, its due date and, by its moment, the day of the erasure, which the case's
    state and its 410 withhold from the others (docs/retention.md, residual (c))."""
    return officers_told(
        session,
        rules=rules,
        covenants=covenants,
        verdicts={case.case_id: (case.covenant_id, case.rule_id) for case in batch},
    )


def _attributes(
    item: SweepItem, run_id: str, readers: frozenset[str] | None
) -> dict[str, str | int | bool]:
    """The entry's attributes, its readers' among them (gateway.audit.readers
    ``erasure_readers``)."""
    attributes: dict[str, str | int | bool] = {
        "rule": item.rule_id,
        "due-on": item.due_on.isoformat(),
        "run": run_id,
        "key-scope": item.key_scope,
        "values": sum(item.values.values()),
    }
    if readers is not None and len(attributes) + 1 + len(readers) > MAX_ATTRIBUTES:
        # Fail closed: the entry is still written (the erasure is a duty), found by the
        # operator alone rather than by an officer it may not tell.
        log.warning("retention: case %s has too many readers to name", item.case_id)
        readers = frozenset()
    attributes.update(erasure_readers(readers))
    return attributes


def _entry(
    item: SweepItem,
    run_id: str,
    now: datetime,
    subjects: tuple[tuple[str, str], ...],
    attributes: dict[str, str | int | bool],
) -> AuditEntry:
    return AuditEntry(
        activity=RETENTION_REDACTION,
        outcome="recorded",
        started_at=now,
        ended_at=now,
        processing=ProcessingActivity(
            covenant_id=item.covenant_id, clause_ids=(item.rule_id,), purpose="retention"
        ),
        case_id=item.case_id,
        data_subjects=tuple(
            DataSubject(identifier_type=kind, pseudonym=pseudonym) for kind, pseudonym in subjects
        ),
        attributes=attributes,
    )


def _flush_sqlite_wal(factory: sessionmaker[Session]) -> None:
    """Move the erased pages out of the write-ahead log into the (zeroed) database file."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
