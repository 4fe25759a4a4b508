"""The sweep: erases what is due and only that, leaves a tombstone and one audit entry per
case, honours legal holds, dry runs change nothing, reruns and crashes are safe."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from gateway.context import GatewayContext
from gateway.crypto import Erased, case_scope
from gateway.crypto.models import DataKey
from gateway.db import transaction
from gateway.retention import SweepAlreadyRunning, erasure_of
from gateway.retention.lock import SweepLock
from gateway.retention.models import RetentionCase, RetentionTombstone
from gateway.retention.wiring import scheduled_sweep
from tests.retention.conftest import Seeder, audit_verifies, redaction_entries

MEDIATION_ENDED = date(2024, 3, 10)
DUE = date(2025, 3, 10)


def light_case(seed: Seeder, **kwargs: object):  # type: ignore[no-untyped-def]
    return seed(facts=[("mediation-ended", MEDIATION_ENDED, "solved")], **kwargs)


def test_due_case_is_erased_with_tombstone_and_one_audit_entry(
    context: GatewayContext, seed: Seeder
) -> None:
    due = light_case(seed)
    kept = seed(facts=[("mediation-ended", date(2024, 9, 1), "solved")])
    report = context.require_retention().sweep(as_of=DUE)
    assert report.redacted == 1
    assert [item.case_id for item in report.items] == [due.case_id]
    with context.session_factory() as session:
        erasure = erasure_of(session=session, case_id=due.case_id)
        assert erasure is not None
        assert erasure.rule_id == "R-3.4-licht-bemiddeld"
        assert erasure_of(session=session, case_id=kept.case_id) is None
        tombstone = session.get(RetentionTombstone, due.case_id)
        assert tombstone is not None
        assert tombstone.removed["keyScope"] == case_scope(due.case_id)
        assert tombstone.removed["values"]["case_report"] == 1
        assert redaction_entries(session, due.case_id) == 1
        assert redaction_entries(session) == 1
        key = session.scalar(select(DataKey).where(DataKey.scope == case_scope(due.case_id)))
        assert key is not None
        assert key.wrapped_key is None
        assert key.shred_reason == "retention rule R-3.4-licht-bemiddeld"
    assert audit_verifies(context)


def test_erased_values_read_as_erased_not_as_an_error(
    context: GatewayContext, seed: Seeder
) -> None:
    case = light_case(seed)
    context.require_retention().sweep(as_of=DUE)
    from gateway.cases.models import CaseReport

    fields = context.require_keys().fields
    with transaction(context.session_factory) as session:
        stored = session.get(CaseReport, case.report_ids[0])
        assert stored is not None
        assert stored.description_sealed != case.ciphertexts[1]
        value = fields.decrypt(
            session=session,
            scope=case_scope(case.case_id),
            table="case_report",
            record_id=case.report_ids[0],
            field="description",
            ciphertext=stored.description_sealed,
        )
    assert isinstance(value, Erased)
    assert "R-3.4-licht-bemiddeld" in value.reason


def test_dry_run_reports_exactly_what_the_run_erases_and_changes_nothing(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = [light_case(seed) for _ in range(3)]
    seed(facts=[("mediation-ended", date(2024, 9, 1), "solved")])
    service = context.require_retention()
    dry = service.sweep(as_of=DUE, dry_run=True)
    with context.session_factory() as session:
        assert redaction_entries(session) == 0
        assert (
            session.scalar(
                select(func.count())
                .select_from(RetentionCase)
                .where(RetentionCase.erased_at.is_not(None))
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count()).select_from(DataKey).where(DataKey.wrapped_key.is_(None))
            )
            == 0
        )
    real = service.sweep(as_of=DUE)
    assert sorted(dry.items, key=lambda i: i.case_id) == sorted(real.items, key=lambda i: i.case_id)
    assert {i.case_id for i in real.items} == {c.case_id for c in cases}


def test_second_run_erases_nothing_again(context: GatewayContext, seed: Seeder) -> None:
    case = light_case(seed)
    service = context.require_retention()
    assert service.sweep(as_of=DUE).redacted == 1
    assert service.sweep(as_of=DUE).redacted == 0
    with context.session_factory() as session:
        assert redaction_entries(session, case.case_id) == 1


def test_legal_hold_suspends_erasure_until_lifted(context: GatewayContext, seed: Seeder) -> None:
    from audit.entry import Actor
    from gateway.retention.service import lift_legal_hold, set_legal_hold

    case = light_case(seed)
    log = context.audit
    actor = Actor(partner_id="gemeente-rijswijk", role="privacy-officer")
    with transaction(context.session_factory) as session:
        set_legal_hold(
            session=session,
            audit=log,
            case_id=case.case_id,
            reason="court procedure",
            actor=actor,
            set_by="gemeente-rijswijk/privacy-officer",
        )
    report = context.require_retention().sweep(as_of=DUE)
    assert (report.redacted, report.on_hold) == (0, 1)
    with transaction(context.session_factory) as session:
        lift_legal_hold(
            session=session,
            audit=log,
            case_id=case.case_id,
            reason="ruling final",
            actor=actor,
            lifted_by="gemeente-rijswijk/privacy-officer",
        )
    assert context.require_retention().sweep(as_of=DUE).redacted == 1
    assert audit_verifies(context)


class InjectedCrash(RuntimeError):
    pass


def test_crash_halfway_leaves_no_half_erased_case_and_rerun_erases_each_once(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = [light_case(seed) for _ in range(7)]
    service = context.require_retention()
    service.batch_size = 2
    service.workers = 1  # batches in order, so exactly two commit before the crash

    def crash_in_third_batch(batch: int) -> None:
        if batch == 3:
            raise InjectedCrash("power cut")

    with pytest.raises(InjectedCrash):
        service.sweep(as_of=DUE, fault=crash_in_third_batch)
    with context.session_factory() as session:
        erased = set(
            session.scalars(
                select(RetentionCase.case_id).where(RetentionCase.erased_at.is_not(None))
            )
        )
        assert len(erased) == 4
        for case in cases:
            key = session.scalar(
                select(DataKey.wrapped_key).where(DataKey.scope == case_scope(case.case_id))
            )
            # Key shredded if and only if the case is recorded as erased and audited.
            assert (key is None) == (case.case_id in erased)
            assert redaction_entries(session, case.case_id) == (1 if case.case_id in erased else 0)
    assert service.sweep(as_of=DUE).redacted == 3
    with context.session_factory() as session:
        for case in cases:
            assert redaction_entries(session, case.case_id) == 1
    assert audit_verifies(context)


def test_second_sweep_is_refused_while_the_lock_is_held(
    context: GatewayContext, seed: Seeder
) -> None:
    light_case(seed)
    lock = SweepLock(context.engine)
    with lock.held(), pytest.raises(SweepAlreadyRunning):
        context.require_retention().sweep(as_of=DUE)
    # The lock is released: the scheduled job runs.
    assert scheduled_sweep(context.require_retention()) is not None


def test_scheduled_job_skips_quietly_when_another_replica_sweeps(
    context: GatewayContext, seed: Seeder
) -> None:
    light_case(seed)
    with SweepLock(context.engine).held():
        assert scheduled_sweep(context.require_retention()) is None


def test_parallel_workers_erase_every_due_case_exactly_once(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = [light_case(seed) for _ in range(9)]
    service = context.require_retention()
    service.batch_size, service.workers = 2, 3
    report = service.sweep(as_of=DUE)
    assert (report.redacted, report.batches) == (9, 5)
    assert sorted(item.case_id for item in report.items) == sorted(c.case_id for c in cases)
    with context.session_factory() as session:
        for case in cases:
            assert redaction_entries(session, case.case_id) == 1
            assert session.get(RetentionTombstone, case.case_id) is not None
    assert audit_verifies(context)


def test_a_failing_worker_stops_the_others_and_leaves_whole_cases(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = [light_case(seed) for _ in range(8)]
    service = context.require_retention()
    service.batch_size, service.workers = 2, 2

    def crash_in_second_batch(batch: int) -> None:
        if batch == 2:
            raise InjectedCrash("disk full")

    with pytest.raises(InjectedCrash):
        service.sweep(as_of=DUE, fault=crash_in_second_batch)
    with context.session_factory() as session:
        erased = set(
            session.scalars(
                select(RetentionCase.case_id).where(RetentionCase.erased_at.is_not(None))
            )
        )
        assert len(erased) < 8
        for case in cases:
            key = session.scalar(
                select(DataKey.wrapped_key).where(DataKey.scope == case_scope(case.case_id))
            )
            assert (key is None) == (case.case_id in erased)
            assert redaction_entries(session, case.case_id) == (1 if case.case_id in erased else 0)
    assert service.sweep(as_of=DUE).redacted == 8 - len(erased)
    with context.session_factory() as session:
        for case in cases:
            assert redaction_entries(session, case.case_id) == 1
    assert audit_verifies(context)


def test_every_row_of_an_erased_case_is_counted_whether_or_not_it_held_a_value(
    context: GatewayContext, seed: Seeder
) -> None:
    # The seeded causer has neither a blind index nor a sealed identifier; of two
    # transitions one has a sealed reason. The overwrite writes only the rows with a value,
    # but the tombstone and the audit entry count every row of the case, as before.
    import json

    from gateway.audit.models import AuditRecord
    from gateway.cases.models import CaseTransition
    from gateway.retention.targets import HEADER_BYTES, ZERO_BODY

    case = light_case(seed, weighed=False)  # its two transitions only
    fields = context.require_keys().fields
    with transaction(context.session_factory) as session:
        for number, reason in ((1, "reden"), (2, None)):
            transition = CaseTransition(
                id=f"{case.case_id[:30]}-t{number}",
                case_id=case.case_id,
                covenant_id="rijswijk-woonoverlast",
                transition="note",
                from_state="intake",
                to_state="intake",
                at=datetime(2024, 1, 2, 9, 0, tzinfo=UTC),
                actor_partner_id="gemeente-rijswijk",
                actor_role="casemanager",
                facts={},
            )
            if reason is not None:
                transition.reason_sealed = fields.encrypt(
                    session=session,
                    scope=case_scope(case.case_id),
                    table="case_transition",
                    record_id=transition.id,
                    field="reason",
                    plaintext=reason,
                )
            session.add(transition)
    report = context.require_retention().sweep(as_of=DUE)
    assert report.redacted == 1
    with context.session_factory() as session:
        tombstone = session.get(RetentionTombstone, case.case_id)
        assert tombstone is not None
        counted = tombstone.removed["values"]
        assert counted["case_transition"] == 2
        assert counted["case_person"] == 1
        assert counted["case_report"] == 1
        assert counted["case_file"] == 1
        reasons = dict(
            session.execute(
                select(CaseTransition.id, CaseTransition.reason_sealed).where(
                    CaseTransition.case_id == case.case_id
                )
            ).all()
        )
        erased = reasons[f"{case.case_id[:30]}-t1"]
        assert erased is not None
        assert erased[HEADER_BYTES:] == ZERO_BODY
        assert reasons[f"{case.case_id[:30]}-t2"] is None
        body = session.scalar(
            select(AuditRecord.body).where(
                AuditRecord.activity == "retention-redaction",
                AuditRecord.case_id == case.case_id,
            )
        )
        assert body is not None
        assert json.loads(body)["attributes"]["values"] == sum(counted.values())
    assert audit_verifies(context)
