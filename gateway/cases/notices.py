"""Notices: a partner told of something in a case that it does not act on but must know.

R §2.3: "Indien deze inzet niet succesvol is bij huurwoningen, neemt de woningcorporatie de
regie weer over en informeert ze de gemeente over eventuele juridische maatregelen." The
workflow file says who is told: a transition's ``informs`` (the hand-over to the corporation
tells the municipality) and a state's ``eventsInform`` (every case event the corporation
records while it leads tells the municipality). A notice sits in the addressee's inbox
(``GET /v1/inbox``, ``kind=notice``) and on the case until the addressee marks it read;
marking it is audited. A notice names what happened and who did it, never a person.

Only partners in the case team are told: a notice shows that the case exists, and outside
the team a case does not exist (U §6).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.access import writable_case
from gateway.cases.errors import CaseNotFound, NotPermitted
from gateway.cases.models import CaseFile, CaseNotice, CaseTeamMember
from gateway.cases.runtime import CaseRuntime
from gateway.cases.schemas import NoticeOut
from gateway.db import utcnow

NOTICE_READ = "case-notice-read"


def notify(
    session: Session,
    *,
    runtime: CaseRuntime,
    case: CaseFile,
    kinds: list[str],
    subject: str,
    about_id: str,
    by: Principal,
    now: datetime,
) -> list[CaseNotice]:
    """Leave a notice of ``subject`` for each team partner of one of ``kinds`` other than
    the one who acted; the rows, so the caller can audit whom it told."""
    if not kinds:
        return []
    team = set(
        session.scalars(select(CaseTeamMember.partner_id).where(CaseTeamMember.case_id == case.id))
    ) | {case.lead_partner_id}
    told = []
    for kind in kinds:
        for partner_id in runtime.partners_of_kind(case.covenant_id, kind):
            if partner_id == by.partner_id or partner_id not in team:
                continue
            notice = CaseNotice(
                id=str(uuid.uuid4()),
                case_id=case.id,
                partner_id=partner_id,
                subject=subject,
                about_id=about_id,
                from_partner_id=by.partner_id,
                created_at=now,
            )
            session.add(notice)
            told.append(notice)
    return told


def notice_out(notice: CaseNotice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        subject=notice.subject,
        from_partner_id=notice.from_partner_id,
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


def case_notices(session: Session, case_id: str, partner_id: str) -> list[CaseNotice]:
    """The notices for ``partner_id`` on the case, oldest first."""
    return list(
        session.scalars(
            select(CaseNotice)
            .where(CaseNotice.case_id == case_id, CaseNotice.partner_id == partner_id)
            .order_by(CaseNotice.created_at, CaseNotice.id)
        )
    )


def mark_read(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    notice_id: str,
    principal: Principal,
    now: datetime | None = None,
) -> NoticeOut:
    """The addressee marks a notice read (once; a second time changes nothing); audited."""
    now = now or utcnow()
    # A member the lead only consulted answers the lead and does nothing of its own
    # (review10 F2, review11).
    case, _ = writable_case(
        session, runtime=runtime, case_id=case_id, principal=principal, involved=True
    )
    if principal.grant.audits:
        raise NotPermitted("A privacy officer does not read a case's notices.")
    notice = session.get(CaseNotice, notice_id)
    if notice is None or notice.case_id != case.id or notice.partner_id != principal.partner_id:
        raise CaseNotFound("No notice with this id for your partner in this case.")
    if notice.read_at is None:
        notice.read_at = now
        notice.read_by = principal.actor
        runtime.record_case_event(
            session,
            case,
            activity=NOTICE_READ,
            actor=principal,
            details={"notice": notice.id, "subject": notice.subject},
        )
    return notice_out(notice)
