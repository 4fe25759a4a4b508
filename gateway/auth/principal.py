from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ROLES = frozenset(
    {
        "casemanager",
        "wijkagent",
        "woonconsulent",
        "buurtteam-medewerker",
        "privacy-officer",
        "adapter",
    }
)


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

    @property
    def actor(self) -> str:
        """A stable, non-personal name for logs: partner/role[/user]."""
        return f"{self.partner_id}/{self.role}" + (f"/{self.user}" if self.user else "")
