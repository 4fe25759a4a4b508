"""A sweep whose sync touches 100,000 cases, and sweeps that fail or die.

The sync used to bind one parameter per case id (``IN (...)``): over 65,535 on PostgreSQL
the statement was refused, the sweep rolled back, every later run failed the same way, a
case that was due stayed unerased, and readiness still said "ok"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text, update

from gateway.context import GatewayContext
from gateway.db import transaction
from gateway.retention import runs
from gateway.retention.models import RetentionCase, RetentionFact, RetentionRun
from tests.retention.conftest import Seeder

AS_OF = date(2025, 3, 10)
#: Over PostgreSQL's 65,535 parameters; on SQLite (whose limit is 32,766 or, as Debian builds
#: it, 250,000) fewer suffice to show the one-parameter form at scale, in half the time.
MANY = {"postgresql": 100_000, "sqlite": 40_000}
Auth = Callable[..., dict[str, str]]


def clone_closed_cases(context: GatewayContext, template_id: str, count: int) -> None:
    """``count`` closed copies of one case file, set-based (a recursive series works on both
    databases): each gives the sync a new case and a new 'case-closed' fact to import."""
    with transaction(context.session_factory) as session:
        columns = [c["name"] for c in inspect(session.connection()).get_columns("case_file")]
        generated = {
            "id": "'bulk-' || CAST(g.n AS TEXT)",
            "reference": "'B-' || CAST(g.n AS TEXT)",
            "closed_at": "t.opened_at",
            # Each clone a record key of its own (the column has no default since migration
            # 0050's review; copying the template's gave every clone the same key). Spread
            # by a multiplicative hash: test data, not the CSPRNG the gateway draws from.
            "record_key": "CAST((g.n * 2654435761) % 2147483648 AS INTEGER)",
        }
        values = ", ".join(generated.get(name, f"t.{name}") for name in columns)
        session.execute(
            text(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count) "
                f"INSERT INTO case_file ({', '.join(columns)}) "
                f"SELECT {values} FROM g, case_file t WHERE t.id = :template"
            ),
            {"count": count, "template": template_id},
        )


def is_erased(context: GatewayContext, case_id: str) -> bool:
    with context.session_factory() as session:
        erased = session.scalar(
            select(RetentionCase.erased_at).where(RetentionCase.case_id == case_id)
        )
    return erased is not None


def test_a_sweep_whose_sync_touches_100k_cases_still_erases_the_due_case(
    context: GatewayContext, seed: Seeder
) -> None:
    # Due on 2024-01-03 (two years after its sanction, R §3.4); the clones, closed on
    # 2024-01-02 without sanctions, are kept until 2025-01-02 (R-3.4-zonder-sancties).
    due = seed(facts=[("sanction-imposed", date(2022, 1, 3), "penalty")])
    template = seed()
    many = MANY[context.engine.dialect.name]
    clone_closed_cases(context, template.case_id, many)

    report = context.require_retention().sweep(as_of=date(2024, 6, 1))

    assert report.redacted == 1
    assert is_erased(context, due.case_id)
    with context.session_factory() as session:
        closed = session.scalar(
            select(func.count())
            .select_from(RetentionFact)
            .where(RetentionFact.kind == "case-closed")
        )
        stale = session.scalar(
            select(func.count()).select_from(RetentionCase).where(RetentionCase.stale.is_(True))
        )
        status = session.scalar(select(RetentionRun.status).where(RetentionRun.id == report.run_id))
    assert closed == many
    assert stale == 0
    assert status == "finished"


@contextmanager
def failing_sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sync raises as the database did when it refused the statement."""
    import gateway.retention.sweeper as sweeper

    def refused(**_: object) -> int:
        raise RuntimeError("number of parameters must be between 0 and 65535")

    with monkeypatch.context() as patch:
        patch.setattr(sweeper, "sync_from_cases", refused)
        yield


def test_a_sweep_that_keeps_failing_makes_the_gateway_not_ready_and_shows_in_the_api(
    context: GatewayContext,
    client: TestClient,
    auth: Auth,
    seed: Seeder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])
    # The case's covenant's officer: another covenant's reads none of its erasures (review5 F4).
    officer = ("gemeente-rijswijk", "privacy-officer")
    assert client.get("/v1/health/ready").status_code == 200

    with failing_sync(monkeypatch):
        for attempt in range(runs.FAILING_AFTER):
            with pytest.raises(RuntimeError):
                context.require_retention().sweep(as_of=AS_OF)
            ready = client.get("/v1/health/ready")
            # One failure is not yet "keeps failing"; the positive control of the check.
            assert (ready.status_code == 503) == (attempt + 1 >= runs.FAILING_AFTER)

    assert ready.json()["checks"]["retention"] == "the last 3 retention sweeps failed"
    sweeps = client.get("/v1/retention/sweeps", headers=auth(*officer))
    assert sweeps.status_code == 200, sweeps.text
    body = sweeps.json()
    assert body["failing"] is True
    assert body["failuresInARow"] == 3
    assert [run["status"] for run in body["runs"]] == ["failed"] * 3

    # Once a sweep goes through again, the gateway is ready and the due case is erased.
    report = context.require_retention().sweep(as_of=AS_OF)
    assert report.redacted == 1
    assert client.get("/v1/health/ready").status_code == 200
    after = client.get("/v1/retention/sweeps", headers=auth(*officer)).json()
    assert after["failing"] is False
    assert after["runs"][0]["status"] == "finished"
    assert after["runs"][0]["erased"] == 1


def test_the_sweeps_are_for_privacy_officers_only(client: TestClient, auth: Auth) -> None:
    refused = client.get("/v1/retention/sweeps", headers=auth("u-centraal", "casemanager"))
    assert refused.status_code == 403
    allowed = client.get("/v1/retention/sweeps", headers=auth("u-centraal", "privacy-officer"))
    assert allowed.status_code == 200


def test_a_run_whose_process_died_is_closed_by_the_next_with_the_cases_it_erased(
    context: GatewayContext, seed: Seeder
) -> None:
    """As if the process was killed after its first batch committed: the run row still says
    running with nothing erased, though its batch erased cases (tests/retention/test_kill.py
    kills a real process)."""
    cases = [seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")]) for _ in range(3)]
    first = context.require_retention().sweep(as_of=AS_OF)
    assert first.redacted == 3
    with transaction(context.session_factory) as session:
        session.execute(
            update(RetentionRun)
            .where(RetentionRun.id == first.run_id)
            .values(status="running", redacted=0, finished_at=None)
        )
    seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")])

    second = context.require_retention().sweep(as_of=AS_OF)

    assert second.redacted == 1
    with context.session_factory() as session:
        died = session.get(RetentionRun, first.run_id)
        assert died is not None
        assert (died.status, died.redacted) == ("interrupted", len(cases))
        assert died.finished_at is not None
        latest = session.get(RetentionRun, second.run_id)
        assert latest is not None
        assert (latest.status, latest.redacted) == ("finished", 1)
