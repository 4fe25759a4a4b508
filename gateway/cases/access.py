"""Who may see a case: the partners in its team (the lead is always in it), and only within
the covenant their token belongs to. A case outside that set is reported as not found, so a
partner cannot learn that a case about an address or person exists. Who may write to it:
the same, as long as retention has not erased it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.cases.errors import CaseNotFound, ConsultedOnly
from gateway.cases.models import CaseFile, CaseTeamMember
from gateway.cases.runtime import CaseRuntime


def team_ids(session: Session, case_id: str) -> set[str]:
    """Every member of the case's team, consulted ones included: who may see the case."""
    rows = session.scalars(
        select(CaseTeamMember.partner_id).where(CaseTeamMember.case_id == case_id)
    )
    return set(rows)


def consulted_ids(session: Session, case_id: str) -> set[str]:
    """The members the lead added only to be asked (U §5.6 "desgevraagd"), not yet involved
    (U §6 "de andere partijen die bij de casus zijn betrokken"): review9a F3."""
    rows = session.scalars(
        select(CaseTeamMember.partner_id).where(
            CaseTeamMember.case_id == case_id, CaseTeamMember.consulted.is_(True)
        )
    )
    return set(rows)


def visible_case(
    session: Session, *, case_id: str, principal: Principal, for_update: bool = False
) -> tuple[CaseFile, set[str]]:
    """The case and its involved team (the members that are not only consulted), if
    ``principal``'s partner may see it (the lead, or any member, consulted ones too); else
    CaseNotFound. A consulted member sees the case so as to answer what it is asked, but is
    no party to the workflow: the team returned decides who takes a step (review9a F3)."""
    case, involved, _ = visible_case_members(
        session, case_id=case_id, principal=principal, for_update=for_update
    )
    return case, involved


def visible_case_members(
    session: Session, *, case_id: str, principal: Principal, for_update: bool = False
) -> tuple[CaseFile, set[str], set[str]]:
    """As :func:`visible_case`, with the consulted members as well (the same one read)."""
    statement = select(CaseFile).where(CaseFile.id == case_id)
    if for_update:
        statement = statement.with_for_update()
    case = session.scalars(statement).one_or_none()
    if case is None or case.covenant_id != principal.covenant_id:
        raise CaseNotFound("No case with this id is visible to your partner.")
    members = session.execute(
        select(CaseTeamMember.partner_id, CaseTeamMember.consulted).where(
            CaseTeamMember.case_id == case_id
        )
    ).all()
    if principal.partner_id != case.lead_partner_id and principal.partner_id not in {
        partner for partner, _ in members
    }:
        raise CaseNotFound("No case with this id is visible to your partner.")
    return (
        case,
        {partner for partner, consulted in members if not consulted},
        {partner for partner, consulted in members if consulted},
    )


#: What :class:`ConsultedOnly` tells a consulted member (the exchange says the same).
CONSULTED_ONLY = (
    "Your partner is only consulted on this case by its lead (U §5.6): it answers the lead's "
    "requests; it pushes, asks, queries and records nothing until the lead marks it involved "
    "(U §6)."
)


def require_involved(case: CaseFile, involved: set[str], principal: Principal) -> None:
    """Refuse a member the lead only consulted (review10 F2): what it wrote would name it,
    with the case, to the involved team (a fact's ``partnerId``, a consent, an event), which
    may not know that it was asked (U §6; service.consulted_shown)."""
    if principal.partner_id != case.lead_partner_id and principal.partner_id not in involved:
        raise ConsultedOnly(CONSULTED_ONLY)


def writable_case(
    session: Session,
    *,
    runtime: CaseRuntime,
    case_id: str,
    principal: Principal,
    involved: bool = False,
) -> tuple[CaseFile, set[str]]:
    """The case and its team for a write: locked against concurrent changes, visible to
    ``principal`` (else CaseNotFound) and not erased under retention (else the retention
    domain's 410 ``case-erased``, docs/retention.md: "Writing to an erased case answers 410").

    Visibility is checked first, without a lock: a partner that cannot see the case gets
    404 (an erased case is as absent as any other) and takes no lock on it. Then the retention
    rows are locked (the guard) before the case row, the order in which the retention sweep
    takes them, so a write and the erasure of the same case cannot deadlock: either the
    sweep skips the case this write holds, or the write waits for the sweep's commit and
    sees the erasure.

    ``involved``: a member the lead only consulted is refused (403 ``consulted-only``), before
    any lock, as for a write of its own rather than an answer to the lead (review10 F2)."""
    case, team = visible_case(session, case_id=case_id, principal=principal)
    if involved:
        require_involved(case, team, principal)
    refusal = runtime.guard_write(session, case_id=case_id) if runtime.guard_write else None
    if refusal is not None:
        raise refusal
    return visible_case(session, case_id=case_id, principal=principal, for_update=True)
