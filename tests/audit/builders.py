"""Small builders for audit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from audit.entry import Actor, DecisionRef, Redaction
from audit.verify import VerificationResult, verify_log
from gateway.audit import AuditEntry, AuditLog, ProcessingActivity
from gateway.audit.export import db_checkpoints, db_entries, db_head_size

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def disclosure(number: int = 0, **overrides: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "activity": "disclosure",
        "outcome": "partially-disclosed",
        "started_at": T0 + timedelta(minutes=number),
        "ended_at": T0 + timedelta(minutes=number, milliseconds=40),
        "processing": ProcessingActivity(
            covenant_id="utrecht-extreme-woonoverlast",
            clause_ids=("U-5.3-geweld",),
            purpose="gezamenlijke-aanpak",
        ),
        "case_id": f"case-{number % 5}",
        "requester": Actor(partner_id="u-centraal", role="casemanager"),
        "recipient": Actor(partner_id="u-centraal", role="casemanager"),
        "data_owners": ("politie-midden-nederland",),
        "disclosed": ("geweldsincidenten",),
        "redacted": (Redaction(category="antecedenten", reason="om-consent-missing"),),
        "decision": DecisionRef(decision_id=f"dec-{number}", bundle_revision="rev-1"),
    }
    values.update(overrides)
    return AuditEntry(**values)


def checkpointed_and_verified(
    factory: sessionmaker[Session], audit_log: AuditLog
) -> VerificationResult:
    """Sign a checkpoint over the whole log, then verify every stored entry against it, as a
    privacy officer's verifier does."""
    audit_log.sign_checkpoint(factory)
    with factory() as session:
        checkpoints = db_checkpoints(session)
        size = db_head_size(session)
    return verify_log(
        db_entries(factory), checkpoints, [audit_log.signer.public_key], expected_size=size
    )
