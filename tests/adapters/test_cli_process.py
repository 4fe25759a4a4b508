"""``ketenpoort-adapter`` as its own process against a gateway served over loopback HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.examples import write_example
from gateway.auth.dev import dev_key_path
from gateway.auth.keys import private_key_pem
from gateway.config import Settings
from tests.adapters.conftest import Auth, open_utrecht_case

ROOT = Path(__file__).resolve().parents[2]
POLICE = "politie-midden-nederland"
ADAPTER = [sys.executable, "-c", "from adapters.cli import main; main()"]


@pytest.fixture
def gateway_url(app: FastAPI) -> Iterator[str]:
    """The test app served by uvicorn on a free loopback port, in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A long poll whose adapter was stopped still waits out its waitSeconds on the server:
    # cancelled after a second at shutdown, instead of the teardown waiting 10 s for it.
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def run_adapter(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ADAPTER, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_police_adapter_process_answers_the_inbox_once_and_exits(
    gateway_url: str, client: TestClient, auth: Auth, settings: Settings, tmp_path: Path
) -> None:
    case = open_utrecht_case(client, auth)
    asked = client.post(
        "/v1/information-requests",
        json={
            "caseId": case.id,
            "purpose": "case-handling",
            "categories": ["police-physical-violence", "police-reports"],
        },
        headers=auth("u-centraal", "casemanager", user="cm-1"),
    )
    assert asked.status_code == 201, asked.text
    export = write_example("police.json", tmp_path / "police.json", {"UTR-DEMO-1": case.reference})
    done = run_adapter(
        "police",
        "--export", str(export),
        "--gateway", gateway_url,
        "--key", str(dev_key_path(settings, POLICE)),
        "--once",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"answered request {asked.json()['id']} (2 answered)" in done.stdout
    assert "done: 1 answered" in done.stdout
    answers = client.get(
        f"/v1/information-requests/{asked.json()['id']}/answers",
        headers=auth("u-centraal", "casemanager", user="cm-1"),
    ).json()
    by_category = {v["category"]: v for v in answers["values"]}
    assert by_category["police-physical-violence"]["yesNo"] is False
    assert by_category["police-reports"]["value"].startswith("3 report(s)")


def test_adapter_process_stops_cleanly_on_sigterm_during_a_long_poll(
    gateway_url: str, settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "police.json"
    export.write_text("[]", encoding="utf-8")
    process = subprocess.Popen(
        [
            *ADAPTER,
            "police",
            "--export", str(export),
            "--gateway", gateway_url,
            "--key", str(dev_key_path(settings, POLICE)),
            "--wait", "30",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        started = process.stdout.readline()
        assert "police adapter for politie-midden-nederland" in started
        time.sleep(0.5)  # now inside the 30-second long poll
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert time.monotonic() - stopping < 5
    assert out.rstrip().endswith("stopped")


def test_adapter_process_refuses_a_key_the_gateway_does_not_trust(
    gateway_url: str, settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "police.json"
    export.write_text(json.dumps([]), encoding="utf-8")
    done = run_adapter(
        "police",
        "--export", str(export),
        "--gateway", gateway_url,
        "--key", str(dev_key_path(settings, "mitros")),
        "--partner", POLICE,
        "--once",
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot run: the gateway does not accept this key" in done.stderr


def test_adapter_process_reports_an_unreachable_gateway(tmp_path: Path) -> None:
    export = tmp_path / "police.json"
    export.write_text("[]", encoding="utf-8")
    key = tmp_path / f"{POLICE}.pem"
    key.write_bytes(private_key_pem(ed25519.Ed25519PrivateKey.generate()))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    done = run_adapter(
        "police",
        "--export", str(export),
        "--gateway", f"http://127.0.0.1:{port}",
        "--key", str(key),
        "--once",
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot reach the gateway" in done.stderr


def test_adapter_process_refuses_an_export_over_the_size_limit(
    gateway_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Review8d S2: a runaway export is refused whole with a clear line (exit 1), not read
    into memory; the control: the same export under a limit that fits it is read."""
    export = tmp_path / "police.json"
    export.write_text(json.dumps([{"caseReference": "X" * 2**20}]), encoding="utf-8")
    common = [
        "--export", str(export),
        "--gateway", gateway_url,
        "--key", str(dev_key_path(settings, POLICE)),
        "--once",
    ]  # fmt: skip
    refused = run_adapter("police", *common, "--max-export-mb", "1")
    assert refused.returncode == 1
    assert f"cannot run: {export}: the export is larger than 1048576 bytes" in refused.stderr
    read = run_adapter("police", *common, "--max-export-mb", "2")
    assert read.returncode == 0, read.stderr
    assert "1 bad row(s) skipped" in read.stdout
