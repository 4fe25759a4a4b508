"""A canary value in an erased case is gone: not in the SQLite file, not in pg_dump, and no
remaining data key opens its old ciphertext."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.engine import make_url

from gateway.context import GatewayContext
from gateway.crypto import case_scope
from gateway.crypto.fields import field_aad
from gateway.crypto.keystore import wrap_aad
from gateway.crypto.models import DataKey
from tests.retention.conftest import Seeder

DUE = date(2025, 3, 10)
PG_DUMP = "/usr/bin/pg_dump"


def _database_bytes(context: GatewayContext) -> bytes:
    url = make_url(context.settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    if not Path(PG_DUMP).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but pg_dump is missing (scripts/system-deps.sh installs it)")
        pytest.skip("pg_dump not installed: apt-get install postgresql-client to run this test")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        [PG_DUMP, "--no-owner", libpq], check=True, capture_output=True, timeout=120
    ).stdout


def _searchable(blob: bytes) -> list[bytes]:
    """The raw bytes (SQLite pages) and the hex form pg_dump writes for bytea."""
    return [blob, blob.hex().encode()]


def test_canary_is_gone_from_the_database_and_no_remaining_key_opens_it(
    context: GatewayContext, seed: Seeder
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}"
    case = seed(canary=canary, facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    survivor = seed(canary="still-here", facts=[("mediation-ended", date(2024, 9, 1), "solved")])
    with context.session_factory() as session:
        wrapped = session.scalar(
            select(DataKey.wrapped_key).where(DataKey.scope == case_scope(case.case_id))
        )
    assert wrapped is not None
    ciphertext = case.ciphertexts[1]
    before = _database_bytes(context)
    assert any(form in before for form in _searchable(ciphertext)), "search would find it"

    assert context.require_retention().sweep(as_of=DUE).redacted == 1

    after = _database_bytes(context)
    assert canary.encode() not in after
    for secret in (ciphertext, case.ciphertexts[0], wrapped):
        assert not any(form in after for form in _searchable(secret))
    assert any(form in after for form in _searchable(survivor.ciphertexts[1]))
    _no_remaining_key_opens(context, case.case_id, case.report_ids[0], ciphertext)


def _no_remaining_key_opens(
    context: GatewayContext, case_id: str, report_id: str, ciphertext: bytes
) -> None:
    provider = context.require_keys().provider
    dek_id = int.from_bytes(ciphertext[1:9], "big")
    nonce, body = ciphertext[9:21], ciphertext[21:]
    aad = field_aad(case_scope(case_id), "case_report", report_id, "description", dek_id)
    with context.session_factory() as session:
        keys = session.execute(
            select(DataKey.scope, DataKey.kek_version, DataKey.wrapped_key).where(
                DataKey.wrapped_key.is_not(None)
            )
        ).all()
    assert keys, "other cases keep their keys"
    for scope, version, wrapped in keys:
        assert wrapped is not None
        key = provider.unwrap(version, wrapped, wrap_aad(scope))
        with pytest.raises(InvalidTag):
            AESGCM(key).decrypt(nonce, body, aad)


def test_pg_dump_is_available_for_the_canary_test() -> None:
    assert shutil.which("pg_dump") or Path(PG_DUMP).exists()
