"""Reason codes in words, for the command line and the demo's narration (English, like
every command's output; the pages have their Dutch texts in gateway/web/texts.py).

A reader should learn *why* before the code: "an investigation is running and the OM has
not consented (om-consent-missing)". The codes stay, after the words: they are what the
API returns, what the audit log records and what docs/policy.md explains."""

from __future__ import annotations

#: Every reason code the policy (policies/rego/authz.rego), the engines and the exchange
#: give, in words. A code missing here is shown as the code alone (a test checks the
#: policy's list against this one).
REASON_WORDS = {
    # Request errors (an invalid request).
    "unknown-covenant": "the case belongs to no covenant the gateway knows",
    "unknown-partner": "the requesting partner is not in the case's covenant",
    "role-not-held-by-partner": "the requesting partner does not hold this role",
    "unknown-purpose": "the covenant has no such purpose",
    "unknown-phase": "the covenant has no such case phase",
    # Per category.
    "unknown-category": "the covenant has no such data category",
    "role-not-recipient": "no clause lets this role receive it",
    "purpose-not-allowed": "no clause allows it for this purpose",
    "phase-not-allowed": "no clause allows it in the case's current phase",
    "not-in-case-team": "the requesting partner is not in the case team",
    "not-dwelling-landlord": "only the corporation that owns the dwelling receives it",
    "not-case-lead": "only the partner holding the case's lead receives it",
    "not-event-recorder": "only the partner that recorded the required case event receives it",
    "corporation-permission-missing": "the corporation has not given its permission",
    "police-not-in-case-team": "the police are not in the case team",
    "dwelling-pollution-not-established": (
        "the case lead has not recorded that pollution of the dwelling is part of the nuisance"
    ),
    "event-not-recorded": "a case event the clause requires is not on record",
    "investigation-status-unknown": "the police have not recorded whether an investigation runs",
    "om-consent-missing": "an investigation is running and the OM has not consented",
    "om-consent-expired": "the OM's consent has expired",
    # The audit log's reports, to a reader not told how the OM consent fails.
    "om-consent-condition-not-met": (
        "the clause's condition on the OM's consent is not met (how is the police's and the "
        "case lead's to know)"
    ),
    # The engines: every failure denies (fail closed).
    "no-policy-loaded": "no policy bundle is loaded",
    "engine-error": "the policy engine failed",
    "engine-timeout": "the policy engine did not decide in time",
    "undefined-result": "the policy gave no decision",
    "inconsistent-result": (
        "the policy engine's answer contradicts itself or the covenant, and is not trusted"
    ),
    # Answers and retention (gateway/exchange/enforcement.py).
    "not-answered-yet": "the partner has not answered yet",
    "not-available-at-partner": "the partner holds nothing on it",
    "erased-by-retention": "erased when its retention period ended",
    "answer-form-narrowed": "stored in more detail than the clause now allows (yes or no only)",
}

#: Events a clause can require (``event-not-recorded:<event>``), in words.
EVENT_WORDS = {
    "eviction-procedure": "the landlord's eviction procedure",
}


def reason_in_words(code: str) -> str:
    """``words (code)``; the code alone when it has no words."""
    base, _, event = code.partition(":")
    words = REASON_WORDS.get(base)
    if words is None:
        return code
    if event:
        words = f"{words}: {EVENT_WORDS.get(event, event)}"
    return f"{words} ({code})"


def reasons_in_words(codes: list[str]) -> str:
    """Several reasons joined with "; ", each words first, code second."""
    return "; ".join(reason_in_words(code) for code in codes)
