"""Builders for retention tests: cases with sealed values, dated facts, and checks on the
audit log. Cases are written straight into the cases domain's tables (its service is not
what these tests are about); values are sealed with the real field cipher."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gateway.audit.models import AuditRecord
from gateway.cases.models import (
    CaseFile,
    CasePerson,
    CaseReport,
    CaseTeamMember,
    CaseTransition,
    Dwelling,
)
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.crypto import case_scope
from gateway.db import transaction
from gateway.retention import register_case
from gateway.retention.service import record_fact
from tests.conftest import settings_without_jobs

RIJSWIJK = "rijswijk-woonoverlast"
UTRECHT = "utrecht-extreme-woonoverlast"
MUNICIPALITY = "gemeente-rijswijk"


@dataclass
class SeededCase:
    case_id: str
    report_ids: list[str] = field(default_factory=list)
    ciphertexts: list[bytes] = field(default_factory=list)


def _now() -> datetime:
    return datetime(2024, 1, 2, 9, 0, tzinfo=UTC)


def seed_case(
    context: GatewayContext,
    *,
    covenant_id: str = RIJSWIJK,
    canary: str | None = None,
    resident: str | None = None,
    facts: list[tuple[str, date, str | None]] = (),  # type: ignore[assignment]
    address_index: str | None = None,
    weighed: bool = True,
) -> SeededCase:
    """A case with one sealed report (holding ``canary``), a causer, a team, and ``facts``;
    its address's blind index is ``address_index`` (else a random one). ``weighed``: moved
    into the weighing on the day it opened (:func:`weigh`), so its lead's case manager
    could be shown the landlord's measures and reads a rule chosen by sanctions; else in
    intake, where no one could (review11 N1)."""
    fields = context.require_keys().fields
    case_id = str(uuid.uuid4())
    seeded = SeededCase(case_id)
    with transaction(context.session_factory) as session:
        dwelling = Dwelling(
            id=str(uuid.uuid4()),
            covenant_id=covenant_id,
            ownership="corporation",
            corporation_id=None,
            district="Centrum",
            created_at=_now(),
        )
        session.add(dwelling)
        scope = case_scope(case_id)
        address = fields.encrypt(
            session=session,
            scope=scope,
            table="case_file",
            record_id=case_id,
            field="address",
            plaintext="Teststraat 1",
        )
        case = CaseFile(
            id=case_id,
            reference=f"R-{uuid.uuid4().hex[:10]}",
            covenant_id=covenant_id,
            dwelling_id=dwelling.id,
            district="Centrum",
            address_sealed=address,
            address_index=address_index or uuid.uuid4().hex,
            state="intake",
            state_entered_at=_now(),
            opened_at=_now(),
            first_report_at=_now(),
            lead_partner_id=MUNICIPALITY,
        )
        session.add(case)
        session.flush()
        session.add(CaseTeamMember.of(case, MUNICIPALITY, now=_now(), by="t"))
        report_id = str(uuid.uuid4())
        sealed = fields.encrypt(
            session=session,
            scope=scope,
            table="case_report",
            record_id=report_id,
            field="description",
            plaintext=canary or "geluidsoverlast",
        )
        session.add(
            CaseReport(
                id=report_id,
                case_id=case_id,
                source_partner_id=MUNICIPALITY,
                channel="form",
                received_at=_now(),
                registered_at=_now(),
                description_sealed=sealed,
            )
        )
        seeded.report_ids.append(report_id)
        seeded.ciphertexts.extend([address, sealed])
        session.add(
            CasePerson(
                id=str(uuid.uuid4()),
                case_id=case_id,
                role="causer",
                identifier_index=resident,
                identifier_sealed=None,
                name_sealed=None,
            )
        )
        register_case(
            session=session, case_id=case_id, covenant_id=covenant_id, resident_key=resident
        )
    if weighed:
        weigh(context, case_id)
    for kind, on, detail in facts:
        add_fact(context, case_id, kind, on, detail)
    return seeded


def close_case(context: GatewayContext, case_id: str, at: datetime) -> None:
    """Close the case in the cases domain at ``at`` and import the closure, as a read of its
    retention state or the next sweep does (a move-out term starts no earlier than the
    closure, review8a F5)."""
    from gateway.retention.casefacts import sync_case

    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        case.state, case.closed_at = "closed", at
    with transaction(context.session_factory) as session:
        sync_case(session=session, rules=context.require_retention().rules, case_id=case_id)


def weigh(context: GatewayContext, case_id: str) -> None:
    """The seeded case moved from intake into the weighing (R Bijlage D fase 1) on the day
    it opened, by its lead: from then on the case manager and the wijkagent could be shown
    the landlord's measures (R-A-corporatie-meldingen), so their partners read a rule chosen
    by sanctions (gateway/retention/sanctions.py; review11 N1). A case never out of intake
    shows it to no one, and such a rule is withheld from all but the landlord."""
    with transaction(context.session_factory) as session:
        case = session.get_one(CaseFile, case_id)
        session.add(
            CaseTransition(
                id=str(uuid.uuid4()),
                case_id=case_id,
                covenant_id=case.covenant_id,
                transition="weigh-report",
                from_state="intake",
                to_state="weighing",
                at=case.opened_at,
                actor_partner_id=case.lead_partner_id,
                actor_role="casemanager",
                actor_user=None,
                facts={},
            )
        )
        if case.state == "intake":
            case.state = "weighing"


def add_fact(
    context: GatewayContext, case_id: str, kind: str, on: date, detail: str | None = None
) -> None:
    rules = context.require_retention().rules
    with transaction(context.session_factory) as session:
        record_fact(
            session=session,
            rules=rules,
            case_id=case_id,
            kind=kind,
            occurred_on=on,
            detail=detail,
            recorded_by="test",
        )


def redaction_entries(session: Session, case_id: str | None = None) -> int:
    statement = (
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.activity == "retention-redaction")
    )
    if case_id is not None:
        statement = statement.where(AuditRecord.case_id == case_id)
    return int(session.execute(statement).scalar_one())


def waiting_for_a_lock(context: GatewayContext) -> bool:
    """Whether a session of this test's database waits for a lock (PostgreSQL shows it in
    pg_stat_activity; SQLite has one writer and no such view: always False there)."""
    if context.engine.dialect.name != "postgresql":
        return False
    with context.engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def audit_verifies(context: GatewayContext) -> bool:
    from audit.keys import load_public_key
    from audit.verify import verify_log
    from gateway.audit import log as audit_entries
    from gateway.audit.export import db_checkpoints, db_entries, db_head_size
    from gateway.audit.wiring import key_dir

    # On PostgreSQL a rolled-back append (the crash tests) leaves an unused index, voided
    # by the checkpoint job after a grace period; here at once.
    seal = getattr(audit_entries, "seal", None)
    if seal is not None:
        with transaction(context.session_factory) as session:
            seal(session, grace_seconds=0)
    context.audit.sign_checkpoint(context.session_factory)
    with context.session_factory() as session:
        checkpoints = db_checkpoints(session)
        size = db_head_size(session)
    result = verify_log(
        db_entries(context.session_factory),
        checkpoints,
        [load_public_key(key_dir(context.settings))],
        expected_size=size,
    )
    return result.ok and result.verified_tree_size == size


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Tests call the sweep directly."""
    return settings_without_jobs(tmp_path, database_url)


Seeder = Callable[..., SeededCase]


@pytest.fixture
def seed(context: GatewayContext) -> Seeder:
    def make(**kwargs: object) -> SeededCase:
        return seed_case(context, **kwargs)  # type: ignore[arg-type]

    return make
