"""Key status for privacy officers: which KEK versions exist, how many data keys each wraps."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.auth.deps import DbSession, PrivacyOfficer
from gateway.core.json_body import StrictJsonRoute
from gateway.crypto.deps import Crypto
from gateway.crypto.schemas import KeyStatusOut
from gateway.crypto.service import key_status

router = APIRouter(tags=["keys"], route_class=StrictJsonRoute)


@router.get(
    "/key-status",
    response_model=KeyStatusOut,
    summary="KEK versions and data-key counts (no key material)",
    responses={503: {"description": "The key provider is unavailable"}},
)
def get_key_status(_: PrivacyOfficer, session: DbSession, crypto: Crypto) -> KeyStatusOut:
    status = key_status(session=session, provider=crypto.provider)
    return KeyStatusOut(
        provider=status.provider,
        kek_versions=status.kek_versions,
        active_version=status.active_version,
        provider_problem=status.provider_problem,
        data_keys_by_kek_version={str(k): v for k, v in status.data_keys_by_kek_version.items()},
        shredded_scopes=status.shredded_scopes,
    )
