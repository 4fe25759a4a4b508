"""A dated fact a partner records (``POST /v1/cases/{caseId}/retention/facts``): checked
against the calendar and the case as the cases domain has it, and audited.

The rules take a fact's date as it is: a move-out ends the heavier rule's term, a closure
starts the after-closure term, a mediation that ended starts the light rule's year. So a
date is taken only when it can be a fact:

* not after today in the Netherlands (a planned date is not a fact; the covenant's dates
  are Dutch dates, gateway/core/dutch_date.py);
* not before the case began: its first report, or its opening if that came first (a
  report may be dated before the case was registered);
* a closure only as the cases domain recorded it: the workflow closes a case and retention
  imports that closure (casefacts), so a partner's ``case-closed`` is refused while the case
  is open and on any day but the one it closed;
* likewise a mediation's end: the workflow records it (the case leaves its covenant's
  mediation state, the simple path's too) and retention imports it with its outcome, so a
  partner's ``mediation-ended`` is taken only on a day, and with the outcome, that the
  workflow recorded. A "solved" mediation dated the day an open case began put it under
  Rijswijk's one-year rule, due a year later whatever else happened: a corporation could
  have an active case erased at the next sweep.

Review F8: any date was taken, unaudited; a landlord moved an open case's erasure from 2027
to 2101 with a closure dated 2099, or made it due at once with one dated 2000. Storage
limitation (AVG art. 5(1)(e), DOMAIN §6: "a case that is never closed must not escape
retention") and the legal hold, the documented way to keep a dossier longer, which needs a
reason and is audited, are why these are refused rather than taken.

Who records a fact: a role with ``recordsFacts`` of a partner that knows it, the case's lead or
the dwelling's landlord (a housing corporation of the covenant), through its people or its
back-office system. Review2 #10: the adapter role is every partner's (``everyPartner``), so
the police's or the fire brigade's system, in the team, recorded a move-out and the next
sweep erased a Rijswijk dossier under "zolang de bewoner het pand bewoont" (R §3.4).

Every fact taken writes an audit entry (activity ``retention-fact``) as the last step of the
request's transaction: the fact and its entry are kept together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import Actor, AuditLog
from gateway.cases.runtime import CaseRuntime
from gateway.core.dutch_date import dutch_date, dutch_today
from gateway.core.errors import Forbidden, Unprocessable
from gateway.retention.casefacts import mediation_endings
from gateway.retention.errors import RetentionCaseNotFound
from gateway.retention.models import RetentionCase
from gateway.retention.rules import RetentionRules, Verdict
from gateway.retention.service import ensure_not_erased, retention_entry, store_fact

ACTIVITY = "retention-fact"


class NotARecorder(Forbidden):
    """The requester's partner neither leads the case nor lets its dwelling."""

    def __init__(self) -> None:
        super().__init__(
            "A retention fact on this case is recorded by its lead or by the dwelling's "
            "landlord, the partners that know when a resident moved out or a date fell."
        )


class FactRefused(Unprocessable):
    """A fact the case's calendar contradicts; ``field`` names the part that is wrong."""

    problem = "retention-fact-refused"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason, invalid_params=[{"name": field, "reason": reason}])


@dataclass(frozen=True)
class CaseDays:
    """A case's days as the cases domain has them (Dutch dates)."""

    began: date
    closed: date | None
    #: The mediations the workflow ended: (Dutch date, outcome) each.
    mediations: frozenset[tuple[date, str]] = frozenset()


def case_days(session: Session, rules: RetentionRules, case_id: str) -> CaseDays:
    """The day the case began (its first report or its opening, whichever came first), the
    day it closed and the mediations its workflow ended. A case the cases domain does not
    know has no calendar to check a fact against: refused as not found (fail closed)."""
    from gateway.cases.models import CaseFile

    row = session.execute(
        select(CaseFile.opened_at, CaseFile.first_report_at, CaseFile.closed_at).where(
            CaseFile.id == case_id
        )
    ).one_or_none()
    if row is None:
        raise RetentionCaseNotFound("No case with this id is visible to your partner.")
    opened_at, first_report_at, closed_at = row
    return CaseDays(
        began=dutch_date(min(opened_at, first_report_at)),
        closed=dutch_date(closed_at) if closed_at is not None else None,
        mediations=mediation_endings(session, rules, case_id),
    )


def fact_recorders(session: Session, runtime: CaseRuntime, case_id: str) -> frozenset[str]:
    """The partners that record the case's retention facts: its lead, and the dwelling's
    landlord when a housing corporation of the covenant lets it (cases.workflow's
    ``covenant_corporation``: unknown tenure has none)."""
    from gateway.cases.models import CaseFile, Dwelling
    from gateway.cases.workflow import covenant_corporation

    row = session.execute(
        select(CaseFile.covenant_id, CaseFile.lead_partner_id, Dwelling)
        .outerjoin(Dwelling, Dwelling.id == CaseFile.dwelling_id)
        .where(CaseFile.id == case_id)
    ).one_or_none()
    if row is None:
        raise RetentionCaseNotFound("No case with this id is visible to your partner.")
    covenant_id, lead, dwelling = row
    landlord = covenant_corporation(runtime, covenant_id, dwelling) if dwelling else None
    return frozenset(p for p in (lead, landlord) if p is not None)


def check_fact(
    *, kind: str, occurred_on: date, detail: str | None, case: CaseDays, today: date
) -> None:
    """Raise FactRefused unless ``kind`` on ``occurred_on`` can be a fact of ``case``."""
    if kind == "case-closed" and case.closed is None:
        raise FactRefused(
            "kind",
            "The case is open: a case is closed through its workflow, and that closure is "
            "what retention counts from.",
        )
    if occurred_on > today:
        raise FactRefused(
            "occurredOn",
            f"A date on or before today in the Netherlands ({today.isoformat()}): "
            "a planned date is not a fact.",
        )
    if occurred_on < case.began:
        raise FactRefused(
            "occurredOn",
            f"A date on or after the day the case began ({case.began.isoformat()}).",
        )
    if kind == "case-closed" and occurred_on != case.closed:
        assert case.closed is not None
        raise FactRefused(
            "occurredOn",
            f"The case was closed on {case.closed.isoformat()}; a closure is the one its "
            "workflow recorded.",
        )
    if kind == "mediation-ended" and (occurred_on, detail) not in case.mediations:
        raise _not_the_recorded_mediation(occurred_on, case.mediations)


def _not_the_recorded_mediation(
    occurred_on: date, recorded: frozenset[tuple[date, str]]
) -> FactRefused:
    """A mediation's end the workflow did not record: no mediation ended (``kind``), none
    on that day (``occurredOn``), or one on that day that ended otherwise (``detail``)."""
    if not recorded:
        return FactRefused(
            "kind",
            "The case's workflow recorded no mediation ending: a mediation ends when the case "
            "leaves its mediation state, and that is what retention counts from.",
        )
    listed = ", ".join(f"{day.isoformat()} ({how})" for day, how in sorted(recorded))
    field = "detail" if occurred_on in {day for day, _ in recorded} else "occurredOn"
    return FactRefused(
        field,
        f"The workflow recorded this case's mediation ending on {listed}; a mediation's end "
        "is the one its workflow recorded.",
    )


def record_partner_fact(
    *,
    session: Session,
    rules: RetentionRules,
    audit: AuditLog,
    case_id: str,
    kind: str,
    occurred_on: date,
    detail: str | None,
    actor: Actor,
    recorded_by: str,
    partner_id: str,
    runtime: CaseRuntime,
) -> Verdict:
    """Check who records it (NotARecorder, 403) and the fact (FactRefused, 422, naming the
    field), store it and recompute the verdict, then write its audit entry; return the new
    verdict. An erased case answers 410 before the fact is checked: its dates are no longer
    the question."""
    if partner_id not in fact_recorders(session, runtime, case_id):
        raise NotARecorder()
    ensure_not_erased(session=session, case_id=case_id)
    check_fact(
        kind=kind,
        occurred_on=occurred_on,
        detail=detail,
        case=case_days(session, rules, case_id),
        today=dutch_today(),
    )
    fact, verdict = store_fact(
        session=session,
        rules=rules,
        case_id=case_id,
        kind=kind,
        occurred_on=occurred_on,
        detail=detail,
        recorded_by=recorded_by,
    )
    covenant_id = session.get_one(RetentionCase, case_id).covenant_id
    # The kind and the fact's id, as the legal hold logs its hold's id: the date (a move-out
    # date is about the resident) and the detail (a recorded date's name is the partner's
    # words) stay in the register, where the id leads.
    attributes: dict[str, str | int | bool] = {"kind": kind, "fact-id": fact.id}
    audit.append(
        session=session,
        entry=retention_entry(ACTIVITY, covenant_id, case_id, actor, attributes),
    )
    return verdict
