"""Who may sign in to the pages: the demo users (demo mode) and the principal an OIDC
sign-in maps to. Either way the result is a :class:`Principal` checked against the
covenants, exactly like the claims of an API token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gateway.auth.principal import Principal
from gateway.context import GatewayContext
from gateway.core.errors import Forbidden
from gateway.db import utcnow


@dataclass(frozen=True, slots=True)
class DemoUser:
    covenant_id: str
    covenant_name: str
    partner_id: str
    partner_name: str
    role: str
    #: The role's name from the covenant file.
    role_name: str
    user: str

    @property
    def value(self) -> str:
        """The option value in the sign-in form."""
        return f"{self.partner_id}|{self.role}"

    @property
    def label(self) -> str:
        return f"{self.partner_name} — {self.role_name}"


def demo_users(context: GatewayContext) -> list[DemoUser]:
    """One demo user per partner and page role, for every covenant loaded."""
    users: list[DemoUser] = []
    for covenant in sorted(context.covenants.values(), key=lambda c: c.name):
        for partner in covenant.partners:
            for role in partner.roles:
                grant = context.partners.grant(partner.id, role)
                if grant is None or grant.system:  # a back-office system signs in nowhere
                    continue
                users.append(
                    DemoUser(
                        covenant_id=covenant.id,
                        covenant_name=covenant.name,
                        partner_id=partner.id,
                        partner_name=partner.name,
                        role=role,
                        role_name=covenant.role_name(role),
                        user=f"demo-{role}-{partner.id}",
                    )
                )
    return users


def principal_for(
    context: GatewayContext, *, partner_id: str, role: str, user: str | None, lifetime: timedelta
) -> Principal:
    """A principal for a page session; refused unless the covenant gives the partner the role."""
    partners = context.partners
    if partner_id not in partners:
        raise Forbidden("Deze partner is niet bekend in een convenant van deze gateway.")
    grant = partners.grant(partner_id, role)
    if grant is None or grant.system:
        raise Forbidden("Deze rol hoort niet bij deze partner of kan niet inloggen.")
    return partners.principal(
        partner_id=partner_id,
        role=role,
        user=user,
        token_id="web-sign-in",
        expires_at=utcnow() + lifetime,
    )
