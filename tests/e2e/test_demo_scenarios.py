"""End to end: the gateway and the reference adapters, each as its own process over real HTTP
on loopback, both covenants' scenarios played by ``ketenpoort demo --gateway URL``, on SQLite
and on PostgreSQL; and the demo leaves no process behind, whether it ends well or not."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text

from gateway.config import Settings
from gateway.demo.run import (
    AdapterProcess,
    StepFailed,
    gateway_process,
    partner_adapters,
    run_demo,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "gateway"
    data_dir.mkdir()
    with gateway_process(
        data_dir, log_path=tmp_path / "gateway.log", database_url=database_url
    ) as url:
        yield url, data_dir


def _as_datetime(value: Any) -> datetime:
    """A timestamp as SQLite (text) or PostgreSQL (datetime) returns it, naive UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=None)


def _rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_both_covenant_scenarios_behave_and_every_receipt_verifies(
    gateway: tuple[str, Path], database_url: str
) -> None:
    url, data_dir = gateway
    output = io.StringIO()
    code = run_demo(
        gateway=url,
        data_dir=data_dir,
        checkpoint_wait=30,
        console=Console(file=output, width=300),
        database_url=database_url,
    )
    said = output.getvalue()
    assert code == 0, said
    # R Bijlage E (review8a F4): the intention is refused within the warning's term; the demo
    # dates its case back past each term instead of waiting.
    assert re.search(
        r"Warning by the mayor with a 14-day begunstigingstermijn \(to \d{4}-\d{2}-\d{2}\); "
        r"the intention was refused within it \(R Bijlage E\)",
        said,
    ), said
    assert "dated the case's history back 15 days, twice" in said
    dated = _rows(
        database_url,
        "SELECT t.transition, t.at, f.opened_at FROM case_transition t "
        "JOIN case_file f ON f.id = t.case_id WHERE t.transition = 'issue-warning'",
    )
    (warning,) = dated
    # The warning lies 30 days (two terms of 14 days and a day) before the behavioural order.
    orders = _rows(
        database_url,
        "SELECT at FROM case_transition WHERE transition = 'impose-behavioural-order'",
    )
    assert len(orders) == 1
    assert _as_datetime(orders[0][0]) - _as_datetime(warning[1]) >= timedelta(days=30)
    # Reasons in words first, the code second.
    assert (
        "Antecedents withheld because an investigation is running and the OM has not "
        "consented (om-consent-missing) - clause U-5.3-antecedenten;"
    ) in said
    assert "the landlord's eviction procedure (event-not-recorded:eviction-procedure)" in said
    assert re.search(r"✓ 13 receipts: inclusion proofs and checkpoint signatures verified", said)
    # The adapters' own narration, as their processes said it.
    assert "[police politie-midden-nederland] case UTR-" in said
    assert "told the gateway an investigation runs" in said
    assert "(1 answered, 1 denied)" in said
    assert "[corporation mitros] case UTR-" in said
    assert ": permission granted" in said
    # One deadline, one date: the demo's narration and the corporation adapter's own line
    # name the same day for the answer to the permission request (U §5.2).
    narrated = re.search(r"answer due (\d{4}-\d{2}-\d{2}) \(3 days", said)
    assert narrated is not None, said
    assert f"permission asked (answer due {narrated.group(1)})" in said
    assert "[police politie-den-haag] case RIJ-" in said
    assert ": pushed police-registrations" in said
    # The sfeerverslag is refused until the landlord's eviction procedure is on record (U §5.3;
    # R Bijlage A), which Mitros' adapter records from its export.
    assert re.search(r"\[corporation mitros\] case UTR-\S+: recorded eviction-procedure", said)
    assert "Eviction procedure, then the sfeerverslag" in said
    assert "Escalation, eviction procedure, sfeerrapportage" in said
    assert "[neighbourhood-team sociaal-wijkteam-rijswijk] case RIJ-" in said

    activities = dict(
        _rows(database_url, "SELECT activity, count(*) FROM audit_entry GROUP BY activity")
    )
    disclosures = _rows(database_url, "SELECT count(*) FROM disclosure")[0][0]
    # Two sfeerverslag requests per covenant: refused before, asked after the eviction.
    assert activities["information-request"] == 7
    assert activities["information-answer"] == 5
    assert activities["disclosure"] == disclosures == 6
    events = set(_rows(database_url, "SELECT kind, recorded_by FROM case_event"))
    assert {kind for kind, _ in events} == {"eviction-procedure"}
    assert {who.split("/")[0] for _, who in events} == {"mitros", "rijswijk-wonen"}

    # Every answer, the pushed registrations and the consents came from the adapters'
    # processes, signed with the partners' keys in the adapter role.
    answers = _rows(
        database_url,
        "SELECT category, recorded_by FROM case_fact WHERE source = 'answer' ORDER BY category",
    )
    assert sorted(answers) == [
        ("neighbourhood-team-actions", "sociaal-wijkteam-rijswijk/adapter"),
        ("police-atmosphere-report", "politie-den-haag/adapter"),
        ("police-atmosphere-report", "politie-midden-nederland/adapter"),
        ("police-nuisance-antecedents", "politie-midden-nederland/adapter"),
        ("police-physical-violence", "politie-midden-nederland/adapter"),
    ]
    pushes = set(
        _rows(database_url, "SELECT category, recorded_by FROM case_fact WHERE source = 'push'")
    )
    assert ("police-registrations", "politie-den-haag/adapter") in pushes
    assert ("corporation-case-information", "mitros/adapter") in pushes
    consents = set(_rows(database_url, "SELECT kind, recorded_by FROM case_consent"))
    assert consents == {
        ("corporation-permission", "mitros/adapter"),
        ("om-consent", "politie-midden-nederland/adapter"),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_adapters_are_stopped_when_a_demo_step_fails_inside_them(
    gateway: tuple[str, Path],
) -> None:
    url, data_dir = gateway
    settings = Settings(data_dir=data_dir, demo_mode=True)
    workdir = data_dir / "exports"
    workdir.mkdir()
    started: dict[str, AdapterProcess] = {}

    def a_step_fails_while_they_run() -> None:
        with partner_adapters(url, settings, workdir, None) as adapters:
            started.update(adapters)
            adapters["police-u"].wait_for("never said", since=0, timeout=0.5)

    with pytest.raises(StepFailed, match="did not say 'never said'"):
        a_step_fails_while_they_run()
    pids = [a.process.pid for a in started.values()]
    assert len(pids) == 4
    assert all(a.process.returncode is not None for a in started.values())
    assert not any(_alive(pid) for pid in pids)


def _session_members(session: int) -> list[int]:
    """Processes still alive in a session (Linux /proc), zombies not counted."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            members.append(int(entry.name))
    return members


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_the_demo_stops_its_gateway_and_adapters(
    stop: signal.Signals, tmp_path: Path
) -> None:
    env = {**os.environ}
    env.pop("KETENPOORT_DATABASE_URL", None)
    demo = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env={**env, "COLUMNS": "300"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the demo leads its own session: find whatever it started
        # As a non-interactive shell starts a background job ("ketenpoort demo &"): with
        # SIGINT ignored, which Python then leaves ignored unless the demo handles it itself.
        preexec_fn=_ignore_sigint,
    )
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 120
        for line in demo.stdout:
            seen.append(line)
            if "Adapters running" in line or time.monotonic() > deadline:
                break
        assert any("Adapters running" in line for line in seen), "".join(seen)
        started = _session_members(demo.pid)
        assert len(started) >= 6, started  # the demo, the gateway, four adapters
        demo.send_signal(stop)  # only the demo, not its group: it must stop the rest
        rest, _ = demo.communicate(timeout=60)
        assert demo.returncode == 130, "".join(seen) + rest
        assert "Interrupted" in rest
        deadline = time.monotonic() + 5
        while _session_members(demo.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _session_members(demo.pid) == []
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
