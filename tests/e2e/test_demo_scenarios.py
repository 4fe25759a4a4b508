"""End to end: the gateway as its own process over real HTTP on loopback, both covenants'
scenarios played by ``ketenpoort demo --gateway URL``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text

from gateway.exchange.demo import gateway_process, run_demo

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "gateway"
    data_dir.mkdir()
    with gateway_process(
        data_dir, log_path=tmp_path / "gateway.log", database_url=database_url
    ) as url:
        yield url, data_dir


def test_both_covenant_scenarios_behave_and_every_receipt_verifies(
    gateway: tuple[str, Path], database_url: str
) -> None:
    url, data_dir = gateway
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
