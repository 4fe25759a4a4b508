"""Fixtures for the audit tests: a migrated database and an audit log with fresh keys."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.db import make_engine, make_sessionmaker


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit-keys"


def fake_blind_index(*, session: Session | None, identifier_type: str, identifier: str) -> str:
    """Stands in for gateway/crypto's blind index (these tests run without key services)."""
    value = "".join(identifier.split()).upper()
    return hmac.new(
        b"test blind-index key", f"{identifier_type}|{value}".encode(), "sha256"
    ).hexdigest()


@pytest.fixture
def audit_log(key_dir: Path) -> AuditLog:
    log = AuditLog.from_key_dir(key_dir)
    log.subject_indexer = fake_blind_index
    return log
