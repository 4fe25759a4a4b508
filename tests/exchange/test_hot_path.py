"""The mediated read's hot path: few round trips, one request transaction, and a token that
stays spent even when the request it carried failed."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text

from gateway.audit.models import AuditRecord
from gateway.audit.testing import failing_audit_writes
from gateway.context import GatewayContext
from gateway.exchange.models import Disclosure
from tests.exchange.conftest import CASE_MANAGER, REPORTS, VIOLENCE, UtrechtCase
from tests.outage import terminate_other_backends

#: What a mediated read may cost, as the driver sees it (SQLAlchemy's statements, the hot
#: statements run on the DBAPI cursor, and the audit log's own): the jti; the request with its
#: items, facts and erasure; the case with its dwelling, team, consents and data subjects (one
#: query); the audit entry with the disclosure row (on PostgreSQL one prepared statement with
#: its subjects and the row; on SQLite the head's counter, the entry, one insert per data
#: subject: this case has two, its person and its dwelling, and the disclosure row). More
#: means a new round trip on every read.
MAX_STATEMENTS = {"postgresql": 4, "sqlite": 8}
_NOT_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")


@contextmanager
def _watch(context: GatewayContext) -> Iterator[dict[str, Any]]:
    """Every statement the driver executes (transaction control aside), every commit and
    every pool checkout while the block runs, each with the driver connection it was on.

    Per connection: the gateway's periodic jobs (the audit checkpoint, the retention sweep)
    run on other pooled connections in their own threads, and one that ticked during the
    read was counted as the read's (a CI run on 7 December 2026: nine statements, one of
    them not the read's)."""
    seen: dict[str, Any] = {"statements": [], "commits": [], "checkouts": []}

    def executed(on: int, sql: Any) -> None:
        text_ = sql.decode() if isinstance(sql, bytes) else str(sql)
        if not text_.lstrip().upper().startswith(_NOT_STATEMENTS):
            seen["statements"].append((on, text_))

    def commit(connection: Any) -> None:
        seen["commits"].append(id(connection.connection.driver_connection))

    def checkout(dbapi_connection: Any, *_: Any) -> None:
        seen["checkouts"].append(id(dbapi_connection))
        if context.engine.dialect.name == "sqlite":
            on = id(dbapi_connection)
            dbapi_connection.set_trace_callback(lambda sql: executed(on, sql))

    def checkin(dbapi_connection: Any, *_: Any) -> None:
        if context.engine.dialect.name == "sqlite" and dbapi_connection is not None:
            dbapi_connection.set_trace_callback(None)

    import psycopg

    original = psycopg.Cursor.execute

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        executed(id(self.connection), query)
        return original(self, query, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]

    event.listen(context.engine, "commit", commit)
    event.listen(context.engine.pool, "checkout", checkout)
    event.listen(context.engine.pool, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(context.engine, "commit", commit)
        event.remove(context.engine.pool, "checkout", checkout)
        event.remove(context.engine.pool, "checkin", checkin)
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def _the_reads(seen: dict[str, Any]) -> tuple[list[str], int, int]:
    """The statements, commits and checkouts of the connection the read spent its token on
    (its first statement): those of the request."""
    on = next(on for on, sql in seen["statements"] if "used_token" in sql)
    statements = [sql for where, sql in seen["statements"] if where == on]
    return statements, seen["commits"].count(on), seen["checkouts"].count(on)


def test_a_mediated_read_is_one_transaction_of_few_statements_on_one_connection(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = utrecht_case.answered_request()
    utrecht_case.read(request_id)  # warm: first use of each statement
    with _watch(context) as seen:
        disclosure = utrecht_case.read(request_id)
    assert {v["outcome"] for v in disclosure["values"]} == {"disclosed"}
    statements, commits, checkouts = _the_reads(seen)
    limit = MAX_STATEMENTS[context.engine.dialect.name]
    assert len(statements) <= limit, "\n----\n".join(statements)
    # The jti insert commits on its own (autocommit); the request is one transaction, on the
    # same pooled connection.
    assert commits == 1
    assert checkouts == 1
    assert "used_token" in statements[0]
    if context.engine.dialect.name == "postgresql":
        # The disclosure row is written by the audit entry's own statement.
        assert "INSERT INTO disclosure" in statements[-1]
        assert "INSERT INTO audit_entry" in statements[-1]
        # ... without waiting for a WAL flush: the request's durable commit flushes it.
        assert "synchronous_commit" in statements[0]


def test_a_token_spent_on_a_failed_mediated_read_cannot_be_replayed(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = utrecht_case.answered_request()
    headers = utrecht_case.as_(CASE_MANAGER, "cm-1")
    with failing_audit_writes(context.audit):
        failed = utrecht_case.client.get(
            f"/v1/information-requests/{request_id}/answers", headers=headers
        )
    assert failed.status_code == 503  # rolled back: nothing disclosed, nothing recorded
    replayed = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}/answers", headers=headers
    )
    assert replayed.status_code == 401
    assert "already been used" in replayed.json()["detail"]


def test_a_read_after_the_database_dropped_the_pooled_connections_succeeds(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # The pool pings no connection per checkout; one the server closed must still be replaced.
    if context.engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    request_id = utrecht_case.answered_request()
    utrecht_case.read(request_id)  # the pool now holds connections to the database
    assert terminate_other_backends(context.engine.url) >= 1
    for _ in range(3):  # every pooled connection was dropped, each read checks one out
        disclosure = utrecht_case.read(request_id)
        assert {v["outcome"] for v in disclosure["values"]} == {"disclosed"}


def test_mediated_reads_run_on_long_lived_threads_that_closing_the_gateway_stops(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    # Each fresh thread compiles its own policy engine: reads must not land on new threads
    # again and again (anyio's pool ends idle threads), and close must end the threads.
    request_id = utrecht_case.answered_request()
    before = set(threading.enumerate())
    for _ in range(3):
        utrecht_case.read(request_id)
    hot = [t for t in set(threading.enumerate()) - before if t.name.startswith("ketenpoort-hot")]
    assert 1 <= len(hot) <= context.settings.hot_threads
    context.close()
    assert not any(t.is_alive() for t in hot)


def test_a_token_that_carried_a_read_is_refused_the_second_time(
    utrecht_case: UtrechtCase,
) -> None:
    request_id = utrecht_case.answered_request()
    headers = utrecht_case.as_(CASE_MANAGER, "cm-1")
    url = f"/v1/information-requests/{request_id}/answers"
    first = utrecht_case.client.get(url, headers=headers)
    assert first.status_code == 200, first.text  # the control: the token itself is good
    replayed = utrecht_case.client.get(url, headers=headers)
    assert replayed.status_code == 401
    assert "already been used" in replayed.json()["detail"]


def test_a_token_refused_before_any_read_is_still_spent(utrecht_case: UtrechtCase) -> None:
    # The privacy officer's role never exchanges: refused before the request is read; its
    # token is spent all the same.
    request_id = utrecht_case.answered_request()
    url = f"/v1/information-requests/{request_id}/answers"
    headers = utrecht_case.as_(("u-centraal", "privacy-officer"), "fg-1")
    assert utrecht_case.client.get(url, headers=headers).status_code == 403
    replayed = utrecht_case.client.get(url, headers=headers)
    assert replayed.status_code == 401, replayed.text
    assert "already been used" in replayed.json()["detail"]
    # The control: a fresh token of the same role is refused for its role, not as a replay.
    officer = utrecht_case.as_(("u-centraal", "privacy-officer"))
    fresh = utrecht_case.client.get(url, headers=officer)
    assert fresh.status_code == 403


def test_one_token_sent_twice_at_once_carries_one_read(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """Two uses of one jti at the same moment: exactly one is answered, the other is refused
    as a replay (while the first still holds its transaction open)."""
    from types import SimpleNamespace

    from fastapi.security import HTTPAuthorizationCredentials

    from gateway.auth.deps import authenticated_unit
    from gateway.core.errors import Unauthenticated

    token = utrecht_case.as_(CASE_MANAGER, "cm-1")["Authorization"].removeprefix("Bearer ")
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    inside = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def work(principal: Any, session: Any) -> str:
        session.execute(text("SELECT 1")).scalar_one()
        # Hold the transaction open while the other use tries.
        with contextlib.suppress(threading.BrokenBarrierError):
            inside.wait(timeout=2)
        return "answered"

    def use() -> None:
        try:
            request: Any = SimpleNamespace(state=SimpleNamespace())
            outcomes.append(authenticated_unit(request, context, credentials, work))
        except Unauthenticated:
            outcomes.append("replay")
        finally:
            inside.abort()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["answered", "replay"]


def test_a_disclosure_row_that_fails_at_the_commit_takes_the_audit_entry_with_it(
    utrecht_case: UtrechtCase, context: GatewayContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disclosure row fails after the audit entry was written (in the same transaction):
    the whole transaction rolls back, nothing is answered or kept."""
    import uuid

    from gateway.exchange import enforcement

    request_id = utrecht_case.answered_request()
    fixed = uuid.uuid4()
    monkeypatch.setattr(enforcement.uuid, "uuid4", lambda: fixed)

    def counts() -> tuple[int, int]:
        with context.engine.connect() as connection:
            entries = connection.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
            rows = connection.execute(text("SELECT count(*) FROM disclosure")).scalar_one()
        return int(entries), int(rows)

    before = counts()
    utrecht_case.read(request_id)  # the control: with a fresh disclosure id, it is answered
    after_first = counts()
    assert after_first == (before[0] + 1, before[1] + 1)
    again = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    assert again.status_code >= 500, again.text  # the same disclosure id: the row fails
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "values" not in again.json()
    assert counts() == after_first  # no audit entry without its disclosure row


def test_the_disclosure_row_holds_what_was_disclosed_to_whom_and_its_entry(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    """The row the read writes with its audit entry (on PostgreSQL in the entry's own
    statement, its parameters put in place by hand: gateway/audit/log.py ``_WithCompanion``)
    holds each value in its own column: a review swapped two pairs of them and no other test
    noticed."""
    request_id = utrecht_case.answered_request()
    answer = utrecht_case.read(request_id)
    with context.session_factory() as session:
        (row,) = session.scalars(select(Disclosure).where(Disclosure.request_id == request_id))
        entry = session.get(AuditRecord, row.audit_index)
    assert entry is not None
    assert row.id == answer["disclosureId"]
    assert row.audit_index == answer["receipt"]["index"]
    assert (row.case_id, row.covenant_id) == (utrecht_case.case_id, "utrecht-extreme-woonoverlast")
    assert (row.recipient_partner_id, row.recipient_role) == CASE_MANAGER
    assert row.purpose == "case-handling"
    assert sorted(row.disclosed) == sorted([REPORTS, VIOLENCE])
    assert row.redacted == []
    assert row.data_owners == ["politie-midden-nederland"]
    assert (row.decision_id, row.bundle_revision) == (
        answer["decisionId"],
        answer["bundleRevision"],
    )
    assert (entry.activity, entry.case_id) == ("disclosure", utrecht_case.case_id)
