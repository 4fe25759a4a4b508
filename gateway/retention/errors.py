"""Errors of the retention domain (all GatewayError, rendered as problem+json)."""

from __future__ import annotations

from datetime import datetime

from gateway.core.dutch_date import dutch_date
from gateway.core.errors import Conflict, GatewayError, NotFound


class RetentionCaseNotFound(NotFound):
    problem = "retention-case-not-found"


class CaseErased(GatewayError):
    """The case's dossier was erased under a retention rule: 410 with rule and date, so a
    client learns *that* and *why* it is gone, never what it held."""

    status = 410
    problem = "case-erased"
    title = "Erased under a retention rule"

    def __init__(self, *, rule_id: str, erased_at: datetime) -> None:
        # The Dutch date, as the case's retention state says it: erased_at is UTC, whose
        # date is yesterday's in the hour(s) after midnight in Amsterdam.
        super().__init__(
            f"Erased under rule {rule_id} on {dutch_date(erased_at).isoformat()}.",
            extra={"ruleId": rule_id, "erasedAt": erased_at.isoformat()},
        )
        self.rule_id = rule_id
        self.erased_at = erased_at


class LegalHoldConflict(Conflict):
    problem = "legal-hold-conflict"


class SweepAlreadyRunning(Conflict):
    """Another process (replica, cron job) holds the sweep lock."""

    problem = "retention-sweep-running"
