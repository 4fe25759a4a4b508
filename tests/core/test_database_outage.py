"""Fault injection: PostgreSQL backends terminated in the middle of requests.

A real uvicorn server, one client keep-alive connection that is never silently reopened, and
a second PostgreSQL session that holds a table lock so that the gateway's statement waits at
a known point: its backend is then terminated (``pg_terminate_backend``), as a database
restart or failover would. Every such request must answer 503 problem+json with
``Retry-After``, the client's connection must serve its next request, and the audit log must
hold no entry for the work that was not done (and still verify).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from audit.keys import load_public_key
from gateway.app import create_app
from gateway.audit import log as audit_entries
from gateway.audit.export import verify_database
from gateway.audit.models import AuditRecord
from gateway.audit.wiring import key_dir
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.db import transaction
from tests.conftest import settings_without_jobs
from tests.core.live import Answer, KeepAliveClient, served
from tests.exchange.conftest import CASE_MANAGER, POLICE, REPORTS, open_utrecht_case

# Only PostgreSQL: SQLite has no server whose sessions can be terminated.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def settings(tmp_path: Any, database_url: str) -> Settings:
    return settings_without_jobs(tmp_path, database_url)


@pytest.fixture
def port(settings: Settings, context: GatewayContext) -> Iterator[int]:
    with served(create_app(settings, context)) as port:
        yield port


@pytest.fixture
def client(port: int) -> Iterator[KeepAliveClient]:
    client = KeepAliveClient(port)
    yield client
    client.close()


class Saboteur:
    """A second session on the test's database: holds a table lock, watches the gateway's
    backends wait for it, and terminates them."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.holder = self.engine.connect()
        self.watcher = self.engine.connect()

    def lock(self, table: str) -> None:
        self.holder.execute(text("BEGIN"))
        self.holder.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))

    def release(self) -> None:
        self.holder.execute(text("ROLLBACK"))

    def terminate_waiting_backend(self, timeout: float = 20) -> int:
        """Terminate the (one) gateway backend that waits for the lock; its pid."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = (
                self.watcher.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    )
                )
                .scalars()
                .all()
            )
            if pids:
                assert len(pids) == 1, pids
                self.watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
                return int(pids[0])
            time.sleep(0.02)
        raise AssertionError("no gateway backend waited for the lock")

    def terminate_all(self) -> int:
        """Terminate every other backend of the database and wait (up to 5 s each) until
        it is gone, as after a restart: without the wait a backend busy on a loaded machine
        could still answer the pool's ping, and then die under the request that followed
        (seen once in a CI run as a 503 in the test below)."""
        return int(
            self.watcher.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND pid <> :holder"
                ),
                {"holder": self.holder.connection.dbapi_connection.info.backend_pid},  # type: ignore[union-attr]
            ).scalar_one()
        )

    def close(self) -> None:
        self.holder.close()
        self.watcher.close()
        self.engine.dispose()


@pytest.fixture
def saboteur(database_url: str) -> Iterator[Saboteur]:
    saboteur = Saboteur(database_url)
    yield saboteur
    saboteur.close()


def during_lock(saboteur: Saboteur, table: str, send: Callable[[], Answer]) -> Answer:
    """Send a request while ``table`` is locked; terminate the backend that waits for it."""
    saboteur.lock(table)
    with ThreadPoolExecutor(1) as pool:
        answer: Future[Answer] = pool.submit(send)
        try:
            saboteur.terminate_waiting_backend()
        finally:
            saboteur.release()
        return answer.result(timeout=30)


def assert_database_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 503
    assert "internal" not in problem["type"]
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers.get("connection", "").lower() != "close"


def disclosure_entries(context: GatewayContext) -> int:
    with context.session_factory() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.activity == "disclosure")
            ).scalar_one()
        )


def audit_verifies(context: GatewayContext) -> bool:
    """Holes left by rolled-back appends are voided at once (the checkpoint job would after
    its grace period), a checkpoint is signed, and the whole log verifies against it."""
    with transaction(context.session_factory) as session:
        audit_entries.seal(session, grace_seconds=0)
    context.audit.sign_checkpoint(context.session_factory)
    result = verify_database(context.session_factory, [load_public_key(key_dir(context.settings))])
    return result.ok and result.verified_tree_size == result.entries


@pytest.fixture
def answered_request(port: int, auth: Auth) -> tuple[str, Callable[[], dict[str, str]]]:
    """A Utrecht case whose police answer waits to be read by the case manager."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as setup:
        case = open_utrecht_case(setup, auth)  # type: ignore[arg-type]
        request_id = case.request([REPORTS])["id"]
        answered = case.answer(request_id, [{"category": REPORTS, "value": "3 meldingen"}])
        assert answered.status_code == 200, answered.text
    return request_id, lambda: auth(*CASE_MANAGER, user="cm-1")


def test_disclosure_whose_backend_dies_mid_request_answers_503_and_is_not_audited(
    client: KeepAliveClient,
    saboteur: Saboteur,
    context: GatewayContext,
    answered_request: tuple[str, Callable[[], dict[str, str]]],
) -> None:
    request_id, headers = answered_request
    path = f"/v1/information-requests/{request_id}/answers"
    before = disclosure_entries(context)

    # The audit insert is the last statement of the disclosure's transaction.
    answer = during_lock(
        saboteur, "audit_entry", lambda: client.request("GET", path, headers=headers())
    )

    assert_database_unavailable(answer)
    assert disclosure_entries(context) == before
    # The same connection serves the retry, which discloses and is audited.
    retried = client.request("GET", path, headers=headers())
    assert retried.status == 200, retried.body
    assert client.still_the_same_connection()
    assert disclosure_entries(context) == before + 1
    assert audit_verifies(context)


def test_authentication_whose_backend_dies_answers_503_and_the_connection_stays_usable(
    client: KeepAliveClient, saboteur: Saboteur, auth: Auth
) -> None:
    answer = during_lock(
        saboteur, "used_token", lambda: client.request("GET", "/v1/me", headers=auth(*POLICE))
    )

    assert_database_unavailable(answer)
    retried = client.request("GET", "/v1/me", headers=auth(*POLICE))
    assert retried.status == 200, retried.body
    assert client.still_the_same_connection()


def test_case_change_whose_backend_dies_answers_503_and_changes_nothing(
    client: KeepAliveClient,
    saboteur: Saboteur,
    context: GatewayContext,
    auth: Auth,
) -> None:
    from tests.cases.builders import report_body

    with context.session_factory() as session:
        entries = int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())

    answer = during_lock(
        saboteur,
        "audit_entry",
        lambda: client.request(
            "POST",
            "/v1/reports",
            body=report_body(number=99),
            headers=auth("mitros", "woonconsulent"),
        ),
    )

    assert_database_unavailable(answer)
    with context.session_factory() as session:
        assert (
            int(session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())
            == entries
        )
    retried = client.request(
        "POST", "/v1/reports", body=report_body(number=99), headers=auth("mitros", "woonconsulent")
    )
    assert retried.status == 201, retried.body
    assert client.still_the_same_connection()
    assert audit_verifies(context)


def test_every_pooled_connection_dropped_at_once_costs_no_request(
    client: KeepAliveClient,
    saboteur: Saboteur,
    answered_request: tuple[str, Callable[[], dict[str, str]]],
) -> None:
    """A restart closes idle pooled connections too: the pool replaces them unasked."""
    request_id, headers = answered_request
    path = f"/v1/information-requests/{request_id}/answers"
    assert client.request("GET", path, headers=headers()).status == 200

    assert saboteur.terminate_all() >= 1

    answer = client.request("GET", path, headers=headers())
    assert answer.status == 200, answer.body
    assert client.still_the_same_connection()


def test_a_database_refusing_connections_answers_503_until_it_is_back(
    client: KeepAliveClient,
    saboteur: Saboteur,
    answered_request: tuple[str, Callable[[], dict[str, str]]],
    database_url: str,
) -> None:
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin_engine

    name = make_url(database_url).database
    request_id, headers = answered_request
    path = f"/v1/information-requests/{request_id}/answers"
    admin = _admin_engine()  # on another database: one cannot lock oneself out
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        try:
            saboteur.terminate_all()
            down = client.request("GET", path, headers=headers())
            health = client.request("GET", "/v1/health/ready")
        finally:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()

    assert_database_unavailable(down)
    assert health.status == 503
    back = client.request("GET", path, headers=headers())
    assert back.status == 200, back.body
    assert client.still_the_same_connection()


def test_concurrent_reads_while_backends_are_terminated_answer_200_or_503_only(
    port: int,
    saboteur: Saboteur,
    context: GatewayContext,
    answered_request: tuple[str, Callable[[], dict[str, str]]],
) -> None:
    """Four clients reading in a loop while every gateway backend is terminated every 50 ms:
    no 500, no closed connection, and one audit entry per 200 (none per 503)."""
    request_id, headers = answered_request
    path = f"/v1/information-requests/{request_id}/answers"
    before = disclosure_entries(context)
    statuses: list[int] = []
    reused: list[bool] = []
    stop = threading.Event()

    def reader() -> None:
        client = KeepAliveClient(port)
        try:
            for _ in range(40):
                if stop.is_set():
                    break
                statuses.append(client.request("GET", path, headers=headers()).status)
            reused.append(client.still_the_same_connection())
        finally:
            client.close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    kills = 0
    while any(thread.is_alive() for thread in threads) and kills < 200:
        kills += saboteur.terminate_all()
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    # A run here: 13 x 200 and 147 x 503 for 156 terminated backends.
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert reused == [True] * 4
    assert kills > 0
    assert disclosure_entries(context) == before + statuses.count(200)
    assert audit_verifies(context)
