"""The exchange's collaborators, taken per request from the running gateway.

The keys missing is an outage, never a reason to disclose less carefully: resolving raises
a 503 problem before any case data is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from gateway.audit import AuditLog
from gateway.auth.deps import Context
from gateway.context import GatewayContext
from gateway.crypto.fields import FieldCipher
from gateway.db import Unit
from gateway.policy.covenant import Covenant
from gateway.policy.engine import PolicyEngine

#: ``case_policy_facts(session, case_id)`` of the cases domain: ``{"case": ..., "consents": ...}``.
CaseFacts = Callable[[Unit, str], dict[str, Any]]


def _case_policy_facts(session: Unit, case_id: str) -> dict[str, Any]:
    from gateway.cases.service import case_policy_facts

    return case_policy_facts(session, case_id)


@dataclass(frozen=True)
class Exchange:
    """Everything the enforcement point needs; built per request (cheap: references only)."""

    covenants: dict[str, Covenant]
    policy: PolicyEngine
    cipher: FieldCipher
    audit: AuditLog
    case_facts: CaseFacts


def exchange_services(context: GatewayContext, case_facts: CaseFacts | None = None) -> Exchange:
    return Exchange(
        covenants=context.covenants,
        policy=context.policy,
        cipher=context.require_keys().fields,
        audit=context.audit,
        case_facts=case_facts if case_facts is not None else _case_policy_facts,
    )


async def get_exchange(context: Context) -> Exchange:
    # async: only lookups in the running gateway, no I/O, so no worker thread hop.
    return exchange_services(context)


ExchangeDep = Annotated[Exchange, Depends(get_exchange)]
