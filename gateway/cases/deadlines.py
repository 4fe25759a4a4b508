"""Due dates computed from the workflow data, for one case or for a partner's cases.

A deadline runs while the case is in one of its ``openIn`` states; it is met by leaving them
(or, for the corporation's answer, by a consent on file). Nothing is stored: due dates follow
from the case's dates and the covenant's calendar, so a corrected workflow file corrects every
open deadline at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway.cases.calendar import Due, WorkingCalendar
from gateway.cases.definition import Deadline, WorkflowDefinition
from gateway.cases.models import CaseConsent, CaseFile, Dwelling
from gateway.cases.schemas import DeadlineOut

if TYPE_CHECKING:
    from gateway.cases.seams import ErasureWarning


@dataclass(frozen=True)
class OpenDeadline:
    deadline: Deadline
    due: Due
    overdue: bool
    responsible_partner_id: str | None


def start_of(
    deadline: Deadline, *, first_report_at: datetime, opened_at: datetime, entered_at: datetime
) -> datetime:
    """The moment ``deadline``'s period starts (definition.DeadlineStart): the one rule the
    live deadlines, the SQL streams (deadline_pages.Stream.column) and the steering report's
    replay (state_at.OverdueAt) share."""
    if deadline.start == "first-report":
        return first_report_at
    if deadline.start == "first-registration":
        return opened_at
    return entered_at


def _start(deadline: Deadline, case: CaseFile) -> datetime:
    return start_of(
        deadline,
        first_report_at=case.first_report_at,
        opened_at=case.opened_at,
        entered_at=case.state_entered_at,
    )


def _met_by_consent(deadline: Deadline, case: CaseFile, consents: list[CaseConsent]) -> bool:
    if deadline.met_by_consent is None:
        return False
    return any(
        c.kind == deadline.met_by_consent and c.recorded_at >= case.state_entered_at
        for c in consents
    )


def case_deadlines(
    *,
    definition: WorkflowDefinition,
    calendar: WorkingCalendar,
    case: CaseFile,
    dwelling: Dwelling,
    consents: list[CaseConsent],
    now: datetime,
) -> list[OpenDeadline]:
    """The deadlines running for ``case`` now, earliest first."""
    running: list[OpenDeadline] = []
    for deadline in definition.all_deadlines:
        if case.state not in deadline.open_in or _met_by_consent(deadline, case, consents):
            continue
        amount = case.state_days if deadline.period.amount_from_days else None
        if deadline.period.amount_from_days and amount is None:
            continue
        due = calendar.due(_start(deadline, case), deadline.period, amount)
        responsible = (
            dwelling.corporation_id
            if deadline.responsible == "dwelling-corporation"
            else case.lead_partner_id
        )
        running.append(OpenDeadline(deadline, due, now >= due.at, responsible))
    return sorted(running, key=lambda d: d.due.at)


def target_due(
    *, definition: WorkflowDefinition, calendar: WorkingCalendar, case: CaseFile
) -> datetime | None:
    """When the covenant's target (R §2.2: three months from the first report) falls."""
    if definition.target is None:
        return None
    return calendar.due(case.first_report_at, definition.target.period).at


def erasure_deadline(
    warning: ErasureWarning,
    *,
    case_id: str,
    reference: str | None,
    district: str | None,
    calendar: WorkingCalendar,
    responsible_partner_id: str | None,
    now: datetime | None,
) -> DeadlineOut:
    """The retention sweep's warning as a deadline: the dossier's last day before erasure
    (``overdue`` only when ``now`` is given; a page sets it when it is read)."""
    last_day = warning.erased_on - timedelta(days=1)
    due_at = calendar.end_of_day(last_day)
    return DeadlineOut(
        kind="retention",
        deadline="retention-erasure",
        description=(
            f"The dossier is erased on {warning.erased_on.isoformat()} under "
            f"{warning.rule_id}, unless the case sees activity or is closed first."
        ),
        source=warning.source,
        case_id=case_id,
        reference=reference,
        district=district,
        due_at=due_at,
        due_on=last_day,
        overdue=now is not None and now >= due_at,
        responsible_partner_id=responsible_partner_id,
    )
