"""Kill the sweeper process halfway (SIGKILL: no cleanup at all), rerun, and every due case
is erased exactly once, with exactly one audit entry, and the audit log verifies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from gateway.context import GatewayContext
from gateway.retention.errors import SweepAlreadyRunning
from gateway.retention.models import RetentionCase, RetentionRun
from gateway.retention.sweeper import SweepReport
from tests.retention.conftest import Seeder, audit_verifies, redaction_entries

REPO = Path(__file__).resolve().parents[2]
SLOW_SWEEP = """
import sys, time
from datetime import date
from gateway.config import Settings
from gateway.context import build_context

context = build_context(Settings())
def progress(done, total):
    print(f"progress {done}/{total}", flush=True)
    if done:
        time.sleep(0.5)
context.require_retention().sweep(as_of=date(2025, 3, 10), progress=progress)
print("finished", flush=True)
"""


def test_sweeper_killed_halfway_then_rerun_erases_everything_exactly_once(
    context: GatewayContext, seed: Seeder
) -> None:
    cases = [seed(facts=[("mediation-ended", date(2024, 3, 10), "solved")]) for _ in range(10)]
    settings = context.settings
    env = {
        **os.environ,
        "KETENPOORT_DATA_DIR": str(settings.data_dir),
        "KETENPOORT_DATABASE_URL": settings.resolved_database_url,
        "KETENPOORT_DEMO_MODE": "true",
        "KETENPOORT_AUTO_MIGRATE": "false",
        "KETENPOORT_RETENTION_SWEEP_INTERVAL_SECONDS": "0",
        "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "0",
        "KETENPOORT_RETENTION_BATCH_SIZE": "2",
    }
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_SWEEP],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("progress 4/"):
                break
        process.kill()
        process.wait(timeout=30)
    assert lines, "the sweeper printed nothing"
    assert "finished" not in lines
    with context.session_factory() as session:
        erased = session.scalar(
            select(func.count())
            .select_from(RetentionCase)
            .where(RetentionCase.erased_at.is_not(None))
        )
    assert erased is not None
    assert 4 <= erased < 10

    report = _rerun_once_the_lock_is_free(context)
    assert report.redacted == 10 - erased
    with context.session_factory() as session:
        killed = session.scalars(select(RetentionRun).where(RetentionRun.id != report.run_id)).one()
    # The killed run is closed by the rerun with what it had erased, not left 'running', 0.
    assert (killed.status, killed.redacted) == ("interrupted", erased)
    with context.session_factory() as session:
        for case in cases:
            assert redaction_entries(session, case.case_id) == 1
    assert audit_verifies(context)


def _rerun_once_the_lock_is_free(context: GatewayContext) -> SweepReport:
    """On PostgreSQL the killed client's server process may still be finishing (then rolling
    back) its last statement, holding the sweep lock for a moment: a rerun is refused until
    then, as it would be for an operator, and succeeds once the lock is released."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return context.require_retention().sweep(as_of=date(2025, 3, 10))
        except SweepAlreadyRunning:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
