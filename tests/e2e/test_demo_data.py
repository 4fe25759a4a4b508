"""``ketenpoort serve --demo`` (``make run``) seeds demo cases to explore, over the API and
audited, once: after a restart nothing is seeded again. Each state the pages should show is
asked of the API: open cases of both covenants in several phases, requests waiting,
answered, partly refused and refused, a case meeting planned, a legal hold and a case due
for erasure."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from gateway.config import Settings
from gateway.demo.run import CM_R, CM_U, RIJSWIJK_WONEN, DemoGateway, Partner

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PRIVACY_R = Partner("gemeente-rijswijk", "privacy-officer", "po-demo")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_demo(data_dir: Path, database_url: str) -> Iterator[tuple[str, list[str]]]:
    """``ketenpoort serve --demo`` as make run starts it; yields its URL and its output
    once the demo-data block ended (the curl hint is its last line)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETENPOORT_")}
    env["KETENPOORT_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Try: curl") and any("demo cases" in x.lower() for x in lines):
                done.set()
        done.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        assert done.wait(120), "\n".join(lines)
        assert process.poll() is None, "\n".join(lines)
        yield f"http://127.0.0.1:{port}", lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql)).all()]
    finally:
        engine.dispose()


def _states(request: dict[str, Any]) -> dict[str, str]:
    return {item["category"]: item["state"] for item in request["items"]}


def test_serve_demo_seeds_every_state_once_through_the_api(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    with serve_demo(data_dir, database_url) as (url, said):
        output = "\n".join(said)
        assert "Seeding demo cases to explore" in output, output
        assert "Seeding the demo cases stopped" not in output, output
        marker = json.loads((data_dir / "demo-data.json").read_text())
        cases = {c["key"]: c for c in marker["cases"]}
        assert len(cases) == 7
        for case in cases.values():
            assert f"  {case['reference']}: " in output
        # The curl hint names the token command as this installation has it, with a user.
        assert "dev-token --partner u-centraal --role casemanager --user cm-1" in output

        with httpx.Client(timeout=30) as client:
            gw = DemoGateway(url, Settings(data_dir=data_dir, demo_mode=True), client)
            listed_u = {
                c["reference"]: c
                for c in gw.call(CM_U, "GET", "/cases?limit=500")["_embedded"]["cases"]
            }
            listed_r = {
                c["reference"]: c
                for who in (RIJSWIJK_WONEN, CM_R)
                for c in gw.call(who, "GET", "/cases?limit=500")["_embedded"]["cases"]
            }

            def state(key: str) -> str:
                reference = cases[key]["reference"]
                found = listed_u.get(reference) or listed_r.get(reference)
                assert found is not None, (reference, listed_u, listed_r)
                return str(found["state"])

            # Open cases of both covenants, in several phases; one closed Rijswijk case.
            assert state("utrecht-intake") == "intake"
            assert state("utrecht-permission") == "permission-requested"
            assert state("utrecht-requests") == "plan-of-approach"
            assert state("utrecht-legal-hold") == "execution"
            assert state("rijswijk-mediation") == "mediation"
            assert state("rijswijk-requests") == "integrated-approach"
            assert state("rijswijk-due") == "closed"

            # Requests: partly refused, refused whole, waiting, answered; per covenant.
            utrecht = cases["utrecht-requests"]["requests"]
            partly = gw.call(CM_U, "GET", f"/information-requests/{utrecht['partly-refused']}")
            assert _states(partly) == {
                "police-nuisance-antecedents": "denied",
                "police-physical-violence": "answered",
            }
            denied = next(i for i in partly["items"] if i["state"] == "denied")
            assert denied["reasons"] == ["om-consent-missing"]
            refused = gw.call(CM_U, "GET", f"/information-requests/{utrecht['refused']}")
            assert set(_states(refused).values()) == {"denied"}
            waiting = gw.call(CM_U, "GET", f"/information-requests/{utrecht['waiting']}")
            assert set(_states(waiting).values()) == {"asked"}
            answered_id = cases["utrecht-legal-hold"]["requests"]["answered"]
            answered = gw.call(CM_U, "GET", f"/information-requests/{answered_id}")
            assert set(_states(answered).values()) == {"answered"}
            rijswijk = cases["rijswijk-requests"]["requests"]
            for kind, expected in (("answered", "answered"), ("waiting", "asked"),
                                   ("refused", "denied")):  # fmt: skip
                request = gw.call(CM_R, "GET", f"/information-requests/{rijswijk[kind]}")
                assert set(_states(request).values()) == {expected}, (kind, request)

            # A case meeting planned for the Utrecht cases' district, its open cases on it.
            meetings = gw.call(CM_U, "GET", "/meetings?district=Oost")["_embedded"]["meetings"]
            assert [m["id"] for m in meetings] == [marker["meetingId"]]
            agenda = {item["reference"] for item in meetings[0]["agenda"]}
            assert {c["reference"] for k, c in cases.items() if k.startswith("utrecht")} <= agenda

            # A legal hold; and its positive control: the case without one has none.
            held = cases["utrecht-legal-hold"]["caseId"]
            hold = gw.call(CM_U, "GET", f"/cases/{held}/retention")["legalHold"]
            assert hold is not None
            assert hold["liftedAt"] is None
            free = cases["utrecht-requests"]["caseId"]
            assert gw.call(CM_U, "GET", f"/cases/{free}/retention")["legalHold"] is None

            # Due for erasure, as the privacy officer's dry run shows it; the other
            # Rijswijk cases are not.
            due = gw.call(PRIVACY_R, "GET", "/retention/due")
            due_ids = {item["caseId"] for item in due["items"]}
            assert cases["rijswijk-due"]["caseId"] in due_ids
            assert cases["rijswijk-requests"]["caseId"] not in due_ids

    # Every step went through the API: the audit log has its entries.
    activities = dict(
        _rows(database_url, "SELECT activity, count(*) FROM audit_entry GROUP BY activity")
    )
    assert activities["information-request"] == 7
    assert activities["information-answer"] == 3
    assert activities["disclosure"] >= 4
    assert activities["case-intake"] >= 7
    assert activities["case-meeting-planned"] == 1
    entries = sum(activities.values())

    # Restarted: nothing seeded again, the same cases named.
    with serve_demo(data_dir, database_url) as (url, said):
        output = "\n".join(said)
        assert "Demo cases already there" in output, output
        assert "Seeding demo cases" not in output
        for case in cases.values():
            assert case["reference"] in output
    again = dict(
        _rows(database_url, "SELECT activity, count(*) FROM audit_entry GROUP BY activity")
    )
    assert again == activities
    assert sum(again.values()) == entries
