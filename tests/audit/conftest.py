"""Fixtures for the audit tests: a migrated database and an audit log with fresh keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from audit import AuditLog
from gateway.db import make_engine, make_sessionmaker


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit-keys"


@pytest.fixture
def audit_log(key_dir: Path) -> AuditLog:
    return AuditLog.from_key_dir(key_dir)
