"""End to end: the gateway as its own process over real HTTP on loopback, both covenants'
scenarios played by ``ketenpoort demo --gateway URL``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text

from gateway.exchange.demo import _free_port, _wait_ready, run_demo

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway_process(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "gateway"
    data_dir.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "KETENPOORT_DATA_DIR": str(data_dir),
        "KETENPOORT_DATABASE_URL": database_url,
        "KETENPOORT_DEMO_MODE": "true",
        "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "1",
    }
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "gateway.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, 60, process)
        yield url, data_dir
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_both_covenant_scenarios_behave_and_every_receipt_verifies(
    gateway_process: tuple[str, Path], database_url: str
) -> None:
    url, data_dir = gateway_process
    output = io.StringIO()
    code = run_demo(
        gateway=url,
        data_dir=data_dir,
        checkpoint_wait=30,
        console=Console(file=output, width=200),
    )
    assert code == 0, output.getvalue()
    assert "antecedents withheld (reason om-consent-missing" in output.getvalue()

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            activities = dict(
                connection.execute(
                    text("SELECT activity, count(*) FROM audit_entry GROUP BY activity")
                ).all()
            )
            disclosures = connection.execute(text("SELECT count(*) FROM disclosure")).scalar_one()
    finally:
        engine.dispose()
    assert activities["information-request"] == 3
    assert activities["information-answer"] == 3
    assert activities["disclosure"] == disclosures == 4
