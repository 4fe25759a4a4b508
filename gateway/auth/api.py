from __future__ import annotations

from fastapi import APIRouter

from gateway.auth.deps import Context, CurrentPrincipal
from gateway.auth.schemas import Me, PartnerOut
from gateway.core.json_body import StrictJsonRoute

router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)


@router.get("/me", response_model=Me, summary="Who the token says you are")
def read_me(principal: CurrentPrincipal) -> Me:
    return Me(
        partner_id=principal.partner_id,
        partner_kind=principal.partner_kind,
        covenant_id=principal.covenant_id,
        role=principal.role,
        user=principal.user,
    )


@router.get("/partners", response_model=list[PartnerOut], summary="The partners of your covenant")
def list_partners(principal: CurrentPrincipal, context: Context) -> list[PartnerOut]:
    covenant = context.covenants[principal.covenant_id]
    return [
        PartnerOut(
            id=p.id, name=p.name, kind=p.kind, covenant_id=covenant.id, roles=sorted(p.roles)
        )
        for p in covenant.partners
    ]
