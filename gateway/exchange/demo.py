"""``ketenpoort demo``: one scenario per covenant, narrated step by step over real HTTP.

Starts a gateway on loopback in a fresh data directory (or uses ``--gateway URL`` together
with that gateway's ``--data-dir`` for the development tokens), then plays the partners:
each partner call carries its own single-use token from the development issuer. Every step
says what the covenant expects and checks that the gateway did exactly that; the run ends
with the audit receipts verified against signed checkpoints and exits non-zero if any step
misbehaved.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from gateway.auth.dev import mint_dev_token
from gateway.config import Settings


class StepFailed(Exception):
    """A step did not behave as the covenant says."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)


@dataclass
class Partner:
    id: str
    role: str
    user: str | None = None


@dataclass
class DemoGateway:
    """Speaks to the gateway as any demo partner, one fresh token per call."""

    url: str
    settings: Settings
    client: httpx.Client
    receipts: list[tuple[str, str, Partner]] = field(default_factory=list)

    def call(
        self, who: Partner, method: str, path: str, body: Any = None, expect_status: int = 200
    ) -> Any:
        token = mint_dev_token(
            self.settings, partner_id=who.id, role=who.role, user=who.user, lifetime_seconds=60
        )
        response = self.client.request(
            method, f"{self.url}/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code != expect_status:
            detail = response.text[:300]
            raise StepFailed(
                f"{method} {path} as {who.id}/{who.role}: HTTP {response.status_code} "
                f"(expected {expect_status}): {detail}"
            )
        return response.json() if response.content else None


@dataclass
class Scenario:
    title: str
    steps: list[tuple[str, Callable[[DemoGateway, dict[str, Any]], str]]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StepFailed(f"the gateway exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise StepFailed(f"the gateway at {url} did not become ready in {timeout:.0f}s")


@contextmanager
def gateway_process(
    data_dir: Path,
    *,
    log_path: Path,
    database_url: str | None = None,
    console: Console | None = None,
) -> Iterator[str]:
    """A gateway process on a free loopback port, in demo mode, signing checkpoints every
    second; yields its URL once it is ready and stops it on exit (the demo and the e2e tests).
    Without ``database_url`` it uses a fresh SQLite database in ``data_dir``."""
    port = _free_port()
    env = {
        **os.environ,
        "KETENPOORT_DATA_DIR": str(data_dir),
        "KETENPOORT_DEMO_MODE": "true",
        "KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS": "1",
    }
    if database_url is None:
        # A fresh data directory means a fresh SQLite database, whatever the shell says.
        env.pop("KETENPOORT_DATABASE_URL", None)
    else:
        env["KETENPOORT_DATABASE_URL"] = database_url
    log = log_path.open("wb")
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
        if console is None:
            _wait_ready(url, 60, process)
        else:
            with console.status(f"Starting the gateway on {url} (data in {data_dir}) ..."):
                _wait_ready(url, 60, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def local_gateway(data_dir: Path, console: Console) -> Iterator[str]:
    """The demo's own gateway on a fresh SQLite database in ``data_dir``."""
    log_path = data_dir / "gateway.log"
    with gateway_process(data_dir, log_path=log_path, console=console) as url:
        console.print(f"[green]Gateway ready[/] at {url}/v1 (log: {log_path})")
        yield url


# --- the scenarios ------------------------------------------------------------------------------

CM_U = Partner("u-centraal", "casemanager", "cm-demo")
MITROS = Partner("mitros", "woonconsulent", "wc-demo")
BUURTTEAM_U = Partner("buurtteam-sociaal", "buurtteam-medewerker", "bt-demo")
POLICE_U = Partner("politie-midden-nederland", "wijkagent", "wa-demo")
POLICE_U_ADAPTER = Partner("politie-midden-nederland", "adapter")
ANTECEDENTS = "police-nuisance-antecedents"
VIOLENCE = "police-physical-violence"

CM_R = Partner("gemeente-rijswijk", "casemanager", "cm-demo")
RIJSWIJK_WONEN = Partner("rijswijk-wonen", "woonconsulent", "wc-demo")
POLICE_R = Partner("politie-den-haag", "wijkagent", "wa-demo")
WIJKTEAM_R = Partner("sociaal-wijkteam-rijswijk", "adapter")


def _report(
    gw: DemoGateway, who: Partner, dwelling: dict[str, Any], text: str, *, joins: bool = False
) -> Any:
    # 201: a new dossier was opened; 200: the report joined the known dossier.
    return gw.call(
        who,
        "POST",
        "/reports",
        {
            "dwelling": dwelling,
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "form", "description": text},
        },
        expect_status=200 if joins else 201,
    )


def _transition(gw: DemoGateway, who: Partner, case: str, name: str, **facts: Any) -> Any:
    return gw.call(who, "POST", f"/cases/{case}/transitions", {"transition": name, **facts})


def _close(gw: DemoGateway, who: Partner, case: str, *, neighbours: str, partners: str) -> None:
    """Close on the two legs: the neighbours' and the partners' judgement, no aftercare."""
    result = {"neighboursJudgement": neighbours, "partnersJudgement": partners, "aftercare": "none"}
    summary = _transition(gw, who, case, "close", result=result)
    expect(summary["state"] == "closed", "the case is closed")


def _ask(gw: DemoGateway, case: str, who: Partner, purpose: str, categories: list[str]) -> Any:
    result = gw.call(
        who,
        "POST",
        "/information-requests",
        {"caseId": case, "purpose": purpose, "categories": categories},
        expect_status=201,
    )
    gw.receipts.append(("request", result["id"], who))
    return result


def _answer_inbox(gw: DemoGateway, adapter: Partner, answers: dict[str, Any]) -> int:
    """The partner's adapter: long-poll the inbox and answer what it holds."""
    inbox = gw.call(adapter, "GET", "/inbox?waitSeconds=5")
    answered = 0
    for item in inbox["items"]:
        if item["kind"] != "information-request":
            continue
        given = []
        for category in item["categories"]:
            value = answers.get(category)
            if isinstance(value, bool):
                given.append({"category": category, "yesNo": value})
            elif value is None:
                given.append({"category": category, "notAvailable": True})
            else:
                given.append({"category": category, "value": value})
        gw.call(
            adapter,
            "POST",
            f"/information-requests/{item['requestId']}/answers",
            {"answers": given},
        )
        answered += 1
    return answered


def _read(gw: DemoGateway, who: Partner, request_id: str) -> dict[str, Any]:
    disclosure = gw.call(who, "GET", f"/information-requests/{request_id}/answers")
    if disclosure["disclosureId"]:
        gw.receipts.append(("disclosure", disclosure["disclosureId"], who))
    return {v["category"]: v for v in disclosure["values"]}


def utrecht() -> Scenario:
    dwelling = {
        "address": {"postcode": "3511 AB", "houseNumber": 12},
        "ownership": "corporation",
        "corporationId": "mitros",
        "district": "binnenstad",
    }

    def two_reports(gw: DemoGateway, s: dict[str, Any]) -> str:
        first = _report(gw, MITROS, dwelling, "Nachtelijk lawaai, bedreiging van buren.")
        second = _report(
            gw, BUURTTEAM_U, dwelling, "Buren melden stankoverlast en vervuiling.", joins=True
        )
        expect(first["created"] and not second["created"], "the second report joins the dossier")
        expect(first["caseId"] == second["caseId"], "both reports are one case")
        s["case"] = first["caseId"]
        return (
            "Mitros and the neighbourhood team reported the same dwelling: "
            f"one case {first['reference']}."
        )

    def criteria(gw: DemoGateway, s: dict[str, Any]) -> str:
        gw.call(
            CM_U,
            "POST",
            f"/cases/{s['case']}/criteria",
            {
                "criteria": [
                    {"criterion": "dwelling-related", "holds": True},
                    {"criterion": "several-forms", "holds": True},
                    {"criterion": "multidisciplinary", "holds": True},
                ]
            },
        )
        return "U Centraal found 3 of the 6 criteria of U §2 (at least 2 needed)."

    def permission_requested(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_U, s["case"], "request-permission")
        deadlines = gw.call(MITROS, "GET", "/deadlines")
        due = [
            d
            for d in deadlines
            if d.get("deadline") == "corporation-permission-answer" and d.get("caseId") == s["case"]
        ]
        expect(bool(due), "the corporation's 3-day answer shows in Mitros' deadlines")
        inbox = gw.call(Partner("mitros", "adapter"), "GET", "/inbox")
        expect(
            any(i["kind"] == "permission-request" for i in inbox["items"]),
            "Mitros' inbox shows the permission request",
        )
        return (
            f"Permission asked of Mitros (U §5.1); due {due[0]['dueAt'][:10]} "
            "(3 working days, U §5.2)."
        )

    def permission_given(gw: DemoGateway, s: dict[str, Any]) -> str:
        gw.call(
            MITROS,
            "POST",
            f"/cases/{s['case']}/consents",
            {"kind": "corporation-permission"},
            expect_status=201,
        )
        _transition(
            gw, CM_U, s["case"], "take-on", oggzCheck={"targetGroup": False, "referred": False}
        )
        gw.call(CM_U, "POST", f"/cases/{s['case']}/team", {"partnerId": "politie-midden-nederland"})
        return "Mitros gave permission; the case is taken on; the police join the case team."

    def withheld(gw: DemoGateway, s: dict[str, Any]) -> str:
        gw.call(POLICE_U, "PUT", f"/cases/{s['case']}/investigation-status", {"running": True})
        request = _ask(gw, s["case"], CM_U, "case-handling", [ANTECEDENTS, VIOLENCE])
        items = {i["category"]: i for i in request["items"]}
        expect(items[ANTECEDENTS]["state"] == "denied", "antecedents are withheld")
        expect(items[ANTECEDENTS]["reasons"] == ["om-consent-missing"], "reason: no OM consent")
        expect(items[VIOLENCE]["state"] == "asked", "violence (yes/no) is asked")
        expect(_answer_inbox(gw, POLICE_U_ADAPTER, {VIOLENCE: True}) == 1, "police answer")
        values = _read(gw, CM_U, request["id"])
        expect(values[VIOLENCE]["yesNo"] is True, "violence disclosed as yes/no only")
        expect(values[ANTECEDENTS]["outcome"] == "redacted", "antecedents redacted")
        return (
            "An investigation runs and no OM consent is on file: antecedents withheld "
            f"(reason om-consent-missing, clause {', '.join(values[ANTECEDENTS]['clauses'])}); "
            "'physical violence' answered: yes."
        )

    def om_consent(gw: DemoGateway, s: dict[str, Any]) -> str:
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        gw.call(
            POLICE_U,
            "POST",
            f"/cases/{s['case']}/consents",
            {"kind": "om-consent", "scope": [ANTECEDENTS], "expiresAt": expires},
            expect_status=201,
        )
        return "The police registered the OM's consent for the antecedents, valid 30 days."

    def answered(gw: DemoGateway, s: dict[str, Any]) -> str:
        request = _ask(gw, s["case"], CM_U, "case-handling", [ANTECEDENTS])
        expect(request["items"][0]["state"] == "asked", "now the antecedents are asked")
        expect(_answer_inbox(gw, POLICE_U_ADAPTER, {ANTECEDENTS: True}) == 1, "police answer")
        values = _read(gw, CM_U, request["id"])
        expect(values[ANTECEDENTS]["outcome"] == "disclosed", "antecedents disclosed")
        return "Asked again: known for nuisance antecedents: yes (U-5.3-antecedenten)."

    def closure(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_U, s["case"], "adopt-plan", bothSidesHeard=True)
        _transition(gw, CM_U, s["case"], "record-evaluation")
        _transition(gw, CM_U, s["case"], "start-final-evaluation")
        _close(gw, CM_U, s["case"], neighbours="improved", partners="resolved")
        return "Plan of approach adopted, evaluated, final evaluation, closed on two legs (U §7)."

    return Scenario(
        "Utrecht: aanpak extreme woonoverlast",
        [
            ("Two reports become one case", two_reports),
            ("Criteria (U §2)", criteria),
            ("Corporation permission requested", permission_requested),
            ("Permission given, case taken on", permission_given),
            ("Police asked during an investigation", withheld),
            ("OM consent registered", om_consent),
            ("Same request answered", answered),
            ("Plan, evaluation, closure", closure),
        ],
    )


def rijswijk() -> Scenario:
    dwelling = {
        "address": {"postcode": "2282 AB", "houseNumber": 7},
        "ownership": "corporation",
        "corporationId": "rijswijk-wonen",
        "district": "rijswijk-zuid",
    }

    def two_reports(gw: DemoGateway, s: dict[str, Any]) -> str:
        first = _report(gw, RIJSWIJK_WONEN, dwelling, "Burenruzie, harde muziek, dreigementen.")
        second = _report(
            gw, POLICE_R, dwelling, "Melding geluidsoverlast en bedreiging.", joins=True
        )
        expect(first["caseId"] == second["caseId"], "both reports are one case")
        s["case"] = first["caseId"]
        return (
            "Rijswijk Wonen and the police reported the same dwelling: "
            f"one case {first['reference']}."
        )

    def complex_case(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, RIJSWIJK_WONEN, s["case"], "classify-complex")
        gw.call(
            CM_R, "POST", f"/cases/{s['case']}/team", {"partnerId": "sociaal-wijkteam-rijswijk"}
        )
        _transition(gw, CM_R, s["case"], "form-team")
        _transition(gw, CM_R, s["case"], "start-integrated-approach")
        return "Complex (R §3.2.3): the lead moved to the municipality; nuisance team formed."

    def registrations(gw: DemoGateway, s: dict[str, Any]) -> str:
        pushed = gw.call(
            POLICE_R,
            "POST",
            "/case-facts",
            {
                "caseId": s["case"],
                "category": "police-registrations",
                "value": "2 registraties geluidsoverlast (maart)",
            },
            expect_status=201,
        )
        expect(pushed["receipt"]["index"] >= 0, "the push is audited")
        read = gw.call(
            CM_R,
            "POST",
            "/case-facts/queries",
            {
                "caseId": s["case"],
                "purpose": "dossier-building",
                "categories": ["police-registrations"],
            },
        )
        expect(read["values"][0]["outcome"] == "disclosed", "registrations disclosed")
        gw.receipts.append(("disclosure", read["disclosureId"], CM_R))
        return "The police added registrations; the municipality read them for dossier building."

    def care_worker(gw: DemoGateway, s: dict[str, Any]) -> str:
        request = _ask(
            gw, s["case"], CM_R, "integrated-approach", ["neighbourhood-team-care-worker"]
        )
        expect(
            _answer_inbox(gw, WIJKTEAM_R, {"neighbourhood-team-care-worker": "J. de Vries"}) == 1,
            "the wijkteam answers",
        )
        values = _read(gw, CM_R, request["id"])
        expect(values["neighbourhood-team-care-worker"]["outcome"] == "disclosed", "disclosed")
        return "The social neighbourhood team named the care worker (R Bijlage F)."

    def escalation(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_R, s["case"], "issue-warning")
        _transition(gw, CM_R, s["case"], "nuisance-stopped")
        _close(gw, CM_R, s["case"], neighbours="resolved", partners="improved")
        return "Warning by the mayor (R Bijlage E), nuisance stopped, evaluated and closed."

    return Scenario(
        "Rijswijk: woonoverlast",
        [
            ("Two reports become one case", two_reports),
            ("Complex case, nuisance team", complex_case),
            ("Police registrations pushed and read", registrations),
            ("Care worker asked of the wijkteam", care_worker),
            ("Escalation and closure", escalation),
        ],
    )


# --- receipts -----------------------------------------------------------------------------------


def verify_receipts(gw: DemoGateway, wait_seconds: float) -> str:
    """Every receipt's inclusion proof leads to a checkpoint signed by the audit key."""
    from audit.keys import load_public_key, verify_signature
    from audit.merkle import verify_inclusion
    from audit.wiring import key_dir

    public_key = load_public_key(key_dir(gw.settings))
    verified = 0
    for kind, ident, who in gw.receipts:
        path = (
            f"/information-requests/{ident}"
            if kind == "request"
            else f"/disclosures/{ident}/receipt"
        )
        deadline = time.monotonic() + wait_seconds
        while True:
            body = gw.call(who, "GET", path)
            receipt = body["receipt"] if kind == "request" else body
            if receipt.get("inclusionProof") is not None or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        checkpoint = receipt.get("checkpoint")
        expect(checkpoint is not None, f"a signed checkpoint covers entry {receipt['index']}")
        verify_inclusion(
            receipt["index"],
            checkpoint["treeSize"],
            bytes.fromhex(receipt["leafHash"]),
            [bytes.fromhex(h) for h in receipt["inclusionProof"]],
            bytes.fromhex(checkpoint["rootHash"]),
        )
        expect(
            verify_signature(
                public_key, base64.b64decode(checkpoint["signature"]), checkpoint["note"].encode()
            ),
            "the checkpoint signature verifies",
        )
        verified += 1
    expect(verified > 0, "there are receipts to verify")
    return f"{verified} receipts: inclusion proofs and checkpoint signatures verified."


# --- running ------------------------------------------------------------------------------------


def play(gw: DemoGateway, console: Console, checkpoint_wait: float) -> list[str]:
    failures: list[str] = []
    for scenario in (utrecht(), rijswijk()):
        console.rule(f"[bold]{scenario.title}")
        state: dict[str, Any] = {}
        for number, (title, step) in enumerate(scenario.steps, start=1):
            with console.status(f"{number}. {title} ..."):
                try:
                    said = step(gw, state)
                except (StepFailed, httpx.HTTPError, KeyError) as exc:
                    failures.append(f"{scenario.title} / {title}: {exc}")
                    console.print(f"[red]✗ {number}. {title}[/]: {exc}")
                    break
            console.print(f"[green]✓ {number}. {title}[/]: {said}")
    console.rule("[bold]Audit receipts")
    with console.status("Waiting for a signed checkpoint and verifying receipts ..."):
        try:
            console.print(f"[green]✓[/] {verify_receipts(gw, checkpoint_wait)}")
        except Exception as exc:  # noqa: BLE001 - any verification error fails the demo
            failures.append(f"receipts: {exc}")
            console.print(f"[red]✗ receipts[/]: {exc}")
    return failures


def run_demo(
    *, gateway: str | None, data_dir: Path | None, checkpoint_wait: float, console: Console
) -> int:
    """Play both scenarios; 0 when every step behaved as the covenants say."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the narration says what happens
    if gateway is not None and data_dir is None:
        console.print("[red]--gateway needs --data-dir of that gateway (its development keys).")
        return 2
    with contextmanager(_data_dir)(data_dir) as directory:
        settings = Settings(data_dir=directory, demo_mode=True)
        with httpx.Client(timeout=30) as client:
            if gateway is not None:
                _wait_ready(gateway.rstrip("/"), 30, None)
                failures = play(
                    DemoGateway(gateway.rstrip("/"), settings, client), console, checkpoint_wait
                )
            else:
                with local_gateway(directory, console) as url:
                    failures = play(DemoGateway(url, settings, client), console, checkpoint_wait)
    console.rule("[bold]Summary")
    if failures:
        for failure in failures:
            console.print(f"[red]✗[/] {failure}")
        console.print(f"[red bold]{len(failures)} step(s) did not behave as the covenant says.")
        return 1
    console.print("[green bold]Every step behaved as the covenants say; every receipt verified.")
    return 0


def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="ketenpoort-demo-") as tmp:
        yield Path(tmp)
