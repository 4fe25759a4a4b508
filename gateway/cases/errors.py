"""Errors of the cases domain; each renders as application/problem+json."""

from __future__ import annotations

from gateway.core.errors import Conflict, Forbidden, GatewayError, NotFound, Unprocessable


class CaseNotFound(NotFound):
    """Also raised for cases outside the caller's need to know: existence is not revealed."""

    problem = "case-not-found"
    title = "Case not found"


class TransitionNotAllowed(Conflict):
    """The transition does not leave the case's current state; names the ones that do."""

    problem = "transition-not-allowed"
    title = "Transition not allowed in this state"


class UnknownTransition(Unprocessable):
    problem = "unknown-transition"
    title = "Unknown transition"


class GuardFailed(Conflict):
    """The transition leaves this state, but a condition of the covenant does not hold."""

    problem = "guard-failed"
    title = "Covenant condition not met"


class MissingFacts(Unprocessable):
    problem = "missing-facts"
    title = "Facts missing or not expected for this transition"


class NotPermitted(Forbidden):
    problem = "not-permitted"
    title = "Not permitted for this partner or role"


class ConsultedOnly(Forbidden):
    """The caller's partner is a member the lead only consulted (U §5.6 "desgevraagd"): it
    reads the case and answers the lead's requests, but is not one of "de andere partijen
    die bij de casus zijn betrokken" (U §6) until the lead marks it involved, so it pushes,
    asks, queries and records nothing on the case (review10 F2). The caller knows that it
    was consulted (it reads the case), so the 403 tells it nothing new."""

    problem = "consulted-only"
    title = "Only consulted on this case"


class InvalidCaseData(Unprocessable):
    problem = "invalid-case-data"
    title = "Invalid case data"


class NotInCovenant(Unprocessable):
    """The covenant of the case has nothing that uses what the request records (e.g. the
    police investigation status in a covenant where no clause depends on it)."""

    problem = "not-in-covenant"
    title = "Not used by this covenant"


class CaseChanged(Conflict):
    problem = "case-changed"
    title = "The case changed meanwhile"


class PermissionPending(Conflict):
    """The partner is asked for the corporation's permission and has not answered: it stays
    in the case team until it does (U §5.1-5.2)."""

    problem = "permission-pending"
    title = "The corporation's permission is still asked"


class CaseClosed(Conflict):
    problem = "case-closed"
    title = "The case is closed"


class MeetingErased(GatewayError):
    """The meeting's minutes and actions were erased under retention (docs/retention.md,
    "Case meetings"): nothing more is recorded on it."""

    status = 410
    problem = "meeting-erased"
    title = "Erased under retention"
