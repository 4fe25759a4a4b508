"""An entry appended now that claims to have been recorded before a checkpoint that does not
contain it is ``backdated`` (review8b F4).

The witnesses' cosignature times prove when the log had only N entries; an entry at index N or
later stamped well before that was stamped by a clock set back (the gateway's clock patched
here, the same as writing the row with SQL and recomputing its hash).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from audit.merkle import leaf_hash
from audit.verify import BACKDATE_ALLOWANCE_SECONDS
from gateway.audit import log as audit_log_module
from gateway.db import transaction, utcnow

from .builders import disclosure
from .test_tamper_matrix import SIZE, Deployment, deployment, first  # noqa: F401


def _append_at(deployment: Deployment, moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    with monkeypatch.context() as patched:
        patched.setattr(audit_log_module, "utcnow", lambda: moment)
        deployment.append(1, start=SIZE)
    deployment.log.sign_checkpoint(deployment.factory)  # cosigned now


def test_an_entry_dated_months_back_is_named(
    deployment: Deployment,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _append_at(deployment, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), monkeypatch)
    result = deployment.verify()
    problem = first(result)
    assert (problem.kind, problem.index) == ("backdated", SIZE)
    assert "recorded at 2026-03-02T09:00:00.000000Z" in problem.detail
    assert f"cosigned checkpoint {SIZE}, which does not contain it" in problem.detail
    assert result.witnessed_tree_size == SIZE + 1  # witnessed all the same: only time tells


def test_an_entry_within_the_allowance_verifies(
    deployment: Deployment,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Positive control: clocks that differ by a couple of minutes are no finding."""
    _append_at(
        deployment, utcnow() - timedelta(seconds=BACKDATE_ALLOWANCE_SECONDS - 60), monkeypatch
    )
    result = deployment.verify()
    assert result.ok, result.problems
    assert result.witnessed_tree_size == SIZE + 1


def test_normal_appends_around_checkpoints_verify(deployment: Deployment) -> None:  # noqa: F811
    """Positive control: more entries and checkpoints in the ordinary way."""
    for start in (SIZE, SIZE + 3, SIZE + 4):
        deployment.append(3 if start == SIZE else 1, start=start)
        deployment.log.sign_checkpoint(deployment.factory)
    result = deployment.verify()
    assert result.ok, result.problems
    assert result.witnessed_tree_size == SIZE + 5


def test_an_entry_committed_after_a_checkpoint_below_it_verifies(
    deployment: Deployment,  # noqa: F811
    factory: sessionmaker[Session],
    database_url: str,
) -> None:
    """Positive control, PostgreSQL (appends take no lock there): entry 21 takes its index
    and its time, a checkpoint over 21 entries is signed and cosigned while its transaction
    is still open, then it commits. Its time is before that cosignature, legitimately."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's writer lock keeps the checkpoint waiting for the append")
    deployment.append(1, start=SIZE)
    with transaction(factory) as session:
        deployment.log.append(session=session, entry=disclosure(SIZE + 1))
        deployment.log.sign_checkpoint(factory)  # over 21: entry 21 not yet committed
    deployment.log.sign_checkpoint(factory)
    result = deployment.verify()
    assert result.ok, result.problems
    assert result.witnessed_tree_size == SIZE + 2
    with factory() as session:
        from sqlalchemy import text

        sizes = session.execute(text("SELECT tree_size FROM audit_checkpoint")).scalars()
        assert SIZE + 1 in set(sizes)


@pytest.mark.parametrize(
    ("recorded", "said"),
    [(None, "missing"), ('"2026-03-02 09:00"', "no time with a zone"), ('"gisteren"', "no time")],
)
def test_an_entry_whose_time_cannot_be_read_is_named_not_passed(
    deployment: Deployment,  # noqa: F811
    recorded: str | None,
    said: str,
) -> None:
    """Unknown is not "not earlier": an entry past a witnessed checkpoint whose recordedAt is
    missing or no time with a zone cannot be placed after it, and is named. The control is
    the test above: the same entry with its own time verifies."""
    deployment.append(1, start=SIZE)
    deployment.log.sign_checkpoint(deployment.factory)
    with deployment.factory() as session:
        body = session.execute(
            text("SELECT body FROM audit_entry WHERE idx = :i"), {"i": SIZE}
        ).scalar_one()
    entry = json.loads(body)
    if recorded is None:
        del entry["recordedAt"]
    else:
        entry["recordedAt"] = json.loads(recorded)
    crafted = json.dumps(entry, separators=(",", ":"), sort_keys=True)
    deployment.sql(
        "UPDATE audit_entry SET body = :b, leaf_hash = :h WHERE idx = :i",
        b=crafted,
        h=leaf_hash(crafted.encode()),
        i=SIZE,
    )
    problems = [p for p in deployment.verify().problems if p.index == SIZE]
    assert any(
        p.kind == "malformed" and "recordedAt" in p.detail and said in p.detail for p in problems
    ), problems
