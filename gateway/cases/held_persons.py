"""The persons an outsider's report named, held with the report until the lead decides.

A report by a partner outside the case team joins the dossier, but who is involved in the
case is the lead's decision (U §6 "de andere partijen die bij de casus zijn betrokken"; U §5.1
"De casemanager voert de regie"). Review3 finding 6: the persons such a report named were
written into the case at once and stayed when the lead declined the reporter; an injected BSN
then pulled every later report naming it into the case, and became a data subject of the
case's audit entries. They now wait in ``case_report_person`` (gateway/cases/intake.py) and
join the case here, when the lead accepts the reporter.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.cases.models import CaseFile, CasePerson, CaseReport, CaseReportPerson


def attach_held_persons(session: Session, case: CaseFile, partner_id: str) -> int:
    """The persons held with ``partner_id``'s reports in ``case`` join the case: the lead
    accepted the reporter (its decision, or adding the partner to the team). A declined
    report's persons stay held (they never join). A person the case meanwhile knows by the
    same BSN is not added twice. Returns how many joined."""
    held = session.scalars(
        select(CaseReportPerson)
        .join(CaseReport, CaseReport.id == CaseReportPerson.report_id)
        .where(
            CaseReportPerson.case_id == case.id,
            CaseReport.source_partner_id == partner_id,
            or_(CaseReport.lead_decision.is_(None), CaseReport.lead_decision == "joined"),
        )
        .order_by(CaseReport.registered_at, CaseReport.id, CaseReportPerson.id)
    ).all()
    if not held:
        return 0
    known = set(
        session.scalars(select(CasePerson.identifier_index).where(CasePerson.case_id == case.id))
    )
    joined = 0
    for person in held:
        index = person.identifier_index
        if index is None or index not in known:
            session.add(
                CasePerson(
                    id=person.id,
                    case_id=case.id,
                    role=person.role,
                    identifier_index=index,
                    identifier_sealed=person.identifier_sealed,
                    name_sealed=person.name_sealed,
                )
            )
            joined += 1
            if index is not None:
                known.add(index)
        session.delete(person)
    session.flush()
    return joined
