"""API schemas of the crypto domain."""

from __future__ import annotations

from gateway.core.schemas import ApiModel


class KeyStatusOut(ApiModel):
    """Which KEK versions exist and how many data keys each wraps; never key material."""

    provider: str
    kek_versions: list[int]
    active_version: int | None
    provider_problem: str | None
    data_keys_by_kek_version: dict[str, int]
    shredded_scopes: int
