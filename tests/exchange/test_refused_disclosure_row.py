"""A disclosure row the database refuses (a constraint, a trigger) is a fault of that row, not
an outage of the audit log: the mediated read answers 500 problem+json whose detail quotes
nothing of the database's message, discloses nothing and records nothing (its audit entry
is written by the same statement on PostgreSQL, in the same transaction on SQLite), on both
databases, and readiness stays ready. Before: 503 "the audit entry could not be written" on
PostgreSQL, and the audit log reported failing for up to a minute. Controls: the same read
without the refusal discloses; an outage at the same statement is still 503 and does mark
the audit log failing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from gateway.audit.models import AuditRecord
from gateway.context import GatewayContext
from gateway.exchange.models import Disclosure
from tests.exchange.conftest import CASE_MANAGER, UtrechtCase

#: In the database's message only: it must not reach the client.
MARKER = "refused-row-marker"
AUDIT_FAILING = "audit writes are failing: nothing can be disclosed"


def _refuse(context: GatewayContext, how: str, table: str = "disclosure") -> None:
    """Make the database refuse (or, for ``outage``, drop the connection at) every insert
    into ``table``: only the test's own database is changed."""
    postgresql = context.engine.dialect.name == "postgresql"
    if how == "check" and not postgresql:
        pytest.skip("SQLite adds no constraint to an existing table")
    if postgresql:
        body = {
            "trigger": f"RAISE EXCEPTION '{MARKER}';",
            # The backend ends its own session mid-statement, as a server restart would.
            "outage": "PERFORM pg_terminate_backend(pg_backend_pid());",
        }.get(how)
        statements = (
            [f"ALTER TABLE {table} ADD CONSTRAINT {MARKER.replace('-', '_')} CHECK (false)"]
            if body is None
            else [
                "CREATE FUNCTION refuse_disclosure() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {body} RETURN NEW; END $$",
                f"CREATE TRIGGER refuse_disclosure BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_disclosure()",
            ]
        )
    else:
        raised = {
            "trigger": f"SELECT RAISE(ABORT, '{MARKER}')",
            # sqlite3.OperationalError, the class is_outage takes for SQLite's outages (a
            # locked or unreadable database).
            "outage": "SELECT no_such_function_in_sqlite()",
        }[how]
        statements = [
            f"CREATE TRIGGER refuse_disclosure BEFORE INSERT ON {table} BEGIN {raised}; END"
        ]
    with context.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    context.engine.dispose()  # no pooled connection keeps a plan made before the change


def _counts(context: GatewayContext) -> tuple[int, int]:
    with context.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(AuditRecord)) or 0,
            session.scalar(select(func.count()).select_from(Disclosure)) or 0,
        )


def _read(utrecht_case: UtrechtCase, request_id: str) -> tuple[int, dict[str, object], str]:
    response = utrecht_case.client.get(
        f"/v1/information-requests/{request_id}/answers",
        headers=utrecht_case.as_(CASE_MANAGER, "cm-1"),
    )
    return response.status_code, response.json(), response.headers["content-type"]


def _readiness(client: TestClient) -> tuple[int, object]:
    response = client.get("/v1/health/ready")
    return response.status_code, response.json()["checks"].get("audit")


@pytest.mark.parametrize("how", ["trigger", "check", None])
def test_a_refused_disclosure_row_is_a_500_that_discloses_nothing_and_leaves_readiness(
    utrecht_case: UtrechtCase, context: GatewayContext, how: str | None
) -> None:
    if how == "trigger" and context.engine.dialect.name == "postgresql":
        pytest.skip("a trigger's RAISE names no table: the log's (the test below)")
    request_id = utrecht_case.answered_request()
    assert _readiness(utrecht_case.client)[0] == 200
    if how is not None:
        _refuse(context, how)
    before = _counts(context)
    status, body, media_type = _read(utrecht_case, request_id)
    if how is None:  # the control: the same read, no refusal
        assert status == 200, body
        assert _counts(context) == (before[0] + 1, before[1] + 1)
    else:
        assert status == 500, body
        assert media_type.startswith("application/problem+json")
        assert MARKER not in str(body)
        assert "2 meldingen" not in str(body)
        assert _counts(context) == before  # nothing disclosed, nothing recorded
    assert _readiness(utrecht_case.client) == (200, "ok")


def test_an_outage_at_the_disclosure_row_is_still_a_503_and_marks_the_log_failing(
    utrecht_case: UtrechtCase, context: GatewayContext
) -> None:
    request_id = utrecht_case.answered_request()
    _refuse(context, "outage")
    before = _counts(context)
    status, body, media_type = _read(utrecht_case, request_id)
    assert status == 503, body
    assert media_type.startswith("application/problem+json")
    assert _counts(context) == before
    assert _readiness(utrecht_case.client) == (503, AUDIT_FAILING)


@pytest.mark.parametrize(("how", "table"), [("trigger", "audit_entry"), ("trigger", "disclosure")])
def test_a_refusal_not_provably_the_row_s_is_the_log_s_503(
    utrecht_case: UtrechtCase, context: GatewayContext, how: str, table: str
) -> None:
    """Only a refusal that is provably the row's is a 500 (the row's own statement on SQLite,
    an error naming ``disclosure`` on PostgreSQL). A refusal of the log's own table, or one
    naming no table (a trigger's RAISE on PostgreSQL, a revoked grant), is the log's: 503,
    and readiness says the log is failing, so a broken log never looks healthy. The control
    of each is the same read without the refusal (the first test's ``None``)."""
    postgresql = context.engine.dialect.name == "postgresql"
    if table == "disclosure" and not postgresql:
        pytest.skip("on SQLite the row is its own statement: provably the row's (500, above)")
    request_id = utrecht_case.answered_request()
    _refuse(context, how, table)
    before = _counts(context)
    status, body, media_type = _read(utrecht_case, request_id)
    assert status == 503, body
    assert media_type.startswith("application/problem+json")
    assert MARKER not in str(body)
    assert _counts(context) == before
    assert _readiness(utrecht_case.client) == (503, AUDIT_FAILING)
