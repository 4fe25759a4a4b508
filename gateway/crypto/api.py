"""Key status for privacy officers: which KEK versions exist, and how many data keys of the
dossiers the officer is accountable for each wraps (the operator's CLI counts every key)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Select, String, literal, select

from gateway.audit.reports import accountable_partner
from gateway.auth.deps import DbSession, PrivacyOfficer
from gateway.auth.principal import Principal
from gateway.cases.districts import partner_cases
from gateway.cases.models import CaseFile
from gateway.core.json_body import StrictJsonRoute
from gateway.crypto.deps import Crypto
from gateway.crypto.fields import case_scope
from gateway.crypto.schemas import KeyStatusOut
from gateway.crypto.service import key_status

router = APIRouter(tags=["keys"], route_class=StrictJsonRoute)


def officers_scopes(officer: Principal) -> Select[str]:
    """The key scopes of the case dossiers ``officer`` is accountable for: its covenant's
    cases, and for another partner's officer than the coordinating one those its partner
    leads or is in the team of (as the retention overview counts erasures; the sweeps view,
    gateway/retention/runs.py ``erased_in_view``, counts of those only the erasures whose
    day the officer is told). Gateway-wide counts told every officer, by
    reading twice, that a case of the other covenant (or of another partner's) was opened,
    and how many were erased by retention (review9d F1; review5 F4 for the sweeps). Meeting
    keys are not counted: one is made with a meeting's first minutes or action, and an
    action about a case outside the officer's partner's teams is not told (docs/cases.md)."""
    scope = literal(case_scope(""), String).concat(CaseFile.id)
    statement = select(scope).where(CaseFile.covenant_id == officer.covenant_id)
    partner = accountable_partner(officer)
    if partner is not None:
        statement = statement.where(partner_cases(partner))
    return statement


@router.get(
    "/key-status",
    response_model=KeyStatusOut,
    summary="KEK versions and the data-key counts of your dossiers (no key material)",
    responses={503: {"description": "The key provider is unavailable"}},
)
def get_key_status(principal: PrivacyOfficer, session: DbSession, crypto: Crypto) -> KeyStatusOut:
    status = key_status(
        session=session, provider=crypto.provider, scopes=officers_scopes(principal)
    )
    return KeyStatusOut(
        provider=status.provider,
        kek_versions=status.kek_versions,
        active_version=status.active_version,
        provider_problem=status.provider_problem,
        data_keys_by_kek_version={str(k): v for k, v in status.data_keys_by_kek_version.items()},
        shredded_scopes=status.shredded_scopes,
    )
