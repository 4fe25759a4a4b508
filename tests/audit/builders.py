"""Small builders for audit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit.entry import Actor, DecisionRef, Redaction
from gateway.audit import AuditEntry, ProcessingActivity

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
