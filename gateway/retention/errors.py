"""Errors of the retention domain (all GatewayError, rendered as problem+json)."""

from __future__ import annotations

from datetime import datetime

from gateway.core.dutch_date import dutch_date
from gateway.core.errors import Conflict, Forbidden, GatewayError, NotFound


class RetentionCaseNotFound(NotFound):
    problem = "retention-case-not-found"


class CaseErased(GatewayError):
    """The case's dossier was erased under a retention rule: 410 with rule and date, so a
    client learns *that* and *why* it is gone, never what it held. Rendered per reader
    (gateway/retention/problems.py): a rule chosen by sanctions whose landlord's measures
    the reader could not be shown is named to it neither with its day (review11 N1)."""

    status = 410
    problem = "case-erased"
    title = "Erased under a retention rule"

    def __init__(self, *, case_id: str, rule_id: str, erased_at: datetime) -> None:
        # The Dutch date, as the case's retention state says it: erased_at is UTC, whose
        # date is yesterday's in the hour(s) after midnight in Amsterdam.
        super().__init__(
            f"Erased under rule {rule_id} on {dutch_date(erased_at).isoformat()}.",
            extra={"ruleId": rule_id, "erasedAt": erased_at.isoformat()},
        )
        self.case_id = case_id
        self.rule_id = rule_id
        self.erased_at = erased_at


class LegalHoldConflict(Conflict):
    problem = "legal-hold-conflict"


class LegalHoldNotOurs(Forbidden):
    """A legal hold is lifted only by the partner that set it (review5 F2's open end). The
    refusal names neither the hold's reason nor its setter: the reader is told only that
    another partner set it, which the hold's ``withheld: true`` already says."""

    problem = "legal-hold-set-by-another-partner"

    def __init__(self) -> None:
        super().__init__(
            "This legal hold can be lifted only by the partner that set it; it stays in force."
        )


class SweepAlreadyRunning(Conflict):
    """Another process (replica, cron job) holds the sweep lock."""

    problem = "retention-sweep-running"
