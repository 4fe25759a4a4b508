"""The suite's own check (tests/conftest.py): a test that leaves a background job running
fails; the same test that closes its gateway passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
from gateway.config import Settings
from gateway.context import build_context


def test_leaves_its_gateway_open(tmp_path):
    build_context(Settings(data_dir=tmp_path / "d", demo_mode=True))


def test_closes_its_gateway(tmp_path):
    build_context(Settings(data_dir=tmp_path / "d", demo_mode=True)).close()
"""


def test_a_test_that_leaks_a_job_thread_fails_and_one_that_closes_its_gateway_passes(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
            str(probe),
            "--rootdir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout
    assert "ERROR at teardown of test_leaves_its_gateway_open" in out, out
    assert "background jobs still running after the test: audit-checkpoints" in out, out
    assert "test_probe.py::test_closes_its_gateway" in out, out
    assert "2 passed, 1 error" in out, out
