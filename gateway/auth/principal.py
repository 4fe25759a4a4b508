from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

#: What a role is for, from the covenant file (``roles[].kind``): ``casework`` roles work
#: cases and receive data through clauses; an ``audit`` role (the privacy officer) reads its
#: partner's disclosure log and never exchanges or receives case data; a ``system`` role (the
#: back-office adapter) exchanges on its partner's behalf but never receives data through a
#: clause and never signs in to the pages.
RoleKind = Literal["casework", "audit", "system"]


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """What the covenant lets a partner's role do, beyond the clauses (one source: the
    covenant file; built by :class:`gateway.auth.service.PartnerDirectory`)."""

    kind: RoleKind
    #: May set and lift a legal hold on a case's retention (``roles[].legalHold``): a casework
    #: role on the cases its partner leads, an audit role on those it leads or is in the team
    #: of (gateway/retention/api.py).
    legal_hold: bool = False
    #: May record the dated facts retention rules read (``roles[].recordsFacts``).
    records_facts: bool = False
    #: An audit role with the covenant-wide view (the covenant's coordinating privacy
    #: officer, ``coordinatingPrivacyOfficer``); any other audit role sees its own partner's.
    covenant_wide: bool = False

    @property
    def casework(self) -> bool:
        return self.kind == "casework"

    @property
    def audits(self) -> bool:
        return self.kind == "audit"

    @property
    def system(self) -> bool:
        return self.kind == "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: an authenticated partner, the role it acts in, and (for people) a user."""

    partner_id: str
    partner_kind: str
    covenant_id: str
    role: str
    user: str | None
    token_id: str
    expires_at: datetime
    #: What the role may do, from the covenant file.
    grant: RoleGrant

    @property
    def actor(self) -> str:
        """A stable, non-personal name for logs: partner/role[/user]."""
        return f"{self.partner_id}/{self.role}" + (f"/{self.user}" if self.user else "")
