"""The outage SQLite can have: another process holds the write lock past the busy timeout.

SQLite has no server, so there is no connection to drop: the PostgreSQL fault injection
(``test_database_outage.py``, backends terminated mid-request) has no honest counterpart
here. What an SQLite deployment does meet is a database it cannot write to for a while (a
``ketenpoort`` command, a backup or a stuck process holding the lock). A request that cannot
get the lock within SQLite's busy timeout (10 s, gateway/db.py) must answer like any database
outage: 503 problem+json with ``Retry-After``, nothing stored and nothing audited, and the
client's keep-alive connection usable for the retry once the lock is gone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import gateway.db
from gateway.app import create_app
from gateway.audit.models import AuditRecord
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.db import make_engine
from tests.conftest import settings_without_jobs
from tests.core.live import KeepAliveClient, served
from tests.core.test_database_outage import assert_database_unavailable, audit_verifies
from tests.exchange.conftest import MITROS, POLICE

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below wait out the busy timeout once each: 1 s of it instead of the
    gateway's 10 s (which ``test_the_gateway_waits_10_s_for_the_write_lock`` holds)."""
    monkeypatch.setattr(gateway.db, "SQLITE_BUSY_TIMEOUT_MS", 1_000)


@pytest.fixture
def settings(tmp_path: Any, database_url: str) -> Settings:
    return settings_without_jobs(tmp_path, database_url)


def test_the_gateway_waits_10_s_for_the_write_lock(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        waits = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    engine.dispose()
    assert waits == 10_000


@pytest.fixture
def client(settings: Settings, context: GatewayContext) -> Iterator[KeepAliveClient]:
    with served(create_app(settings, context)) as port:
        client = KeepAliveClient(port, timeout=60)
        yield client
        client.close()


@pytest.fixture
def write_lock(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A second connection to the gateway's database file that can take its write lock."""
    path = make_url(settings.resolved_database_url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None)
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def audit_entries(context: GatewayContext) -> int:
    with context.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


def test_authentication_without_the_write_lock_answers_503_and_the_connection_stays_usable(
    client: KeepAliveClient, write_lock: sqlite3.Connection, auth: Any
) -> None:
    write_lock.execute("BEGIN IMMEDIATE")  # the token's jti cannot be recorded
    answer = client.request("GET", "/v1/me", headers=auth(*POLICE))
    write_lock.execute("ROLLBACK")

    assert_database_unavailable(answer)
    retried = client.request("GET", "/v1/me", headers=auth(*POLICE))
    assert retried.status == 200, retried.body
    assert client.still_the_same_connection()


def test_a_report_without_the_write_lock_answers_503_and_stores_and_audits_nothing(
    client: KeepAliveClient,
    write_lock: sqlite3.Connection,
    context: GatewayContext,
    auth: Any,
) -> None:
    """SQLite's lock is the whole database's, so the request meets it at its first write, the
    token's jti, before the report's transaction begins (the PostgreSQL module kills the
    audit insert itself); what this adds is a POST refused before its body was read, on a
    connection that must still serve the retry."""
    from tests.cases.builders import report_body

    entries = audit_entries(context)
    write_lock.execute("BEGIN IMMEDIATE")
    answer = client.request(
        "POST", "/v1/reports", body=report_body(number=99), headers=auth(*MITROS)
    )
    write_lock.execute("ROLLBACK")

    assert_database_unavailable(answer)
    assert audit_entries(context) == entries
    retried = client.request(
        "POST", "/v1/reports", body=report_body(number=99), headers=auth(*MITROS)
    )
    assert retried.status == 201, retried.body
    assert client.still_the_same_connection()
    assert audit_entries(context) > entries
    assert audit_verifies(context)
