from __future__ import annotations

from gateway.core.schemas import ApiModel


class Me(ApiModel):
    partner_id: str
    partner_kind: str
    covenant_id: str
    role: str
    user: str | None


class PartnerOut(ApiModel):
    id: str
    name: str
    kind: str
    covenant_id: str
    roles: list[str]
