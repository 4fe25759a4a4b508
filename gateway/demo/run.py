"""``ketenpoort demo``: one scenario per covenant, narrated step by step over real HTTP.

Starts a gateway on loopback in a fresh data directory (or uses ``--gateway URL`` together
with that gateway's ``--data-dir`` for the development keys) and the partners' reference
adapters, each as its own ``ketenpoort-adapter`` process with the partner's development key
and an export file. The demo plays the people (reports, the case manager) with single-use
tokens from the development issuer, and the partners' back offices by writing the adapters'
exports; the answers, pushes and consents on the partner side come from the adapter
processes, whose output is narrated as it comes. Every step says what the covenant expects
and checks that the gateway did exactly that; the run ends with the audit receipts verified
against signed checkpoints and exits non-zero if any step misbehaved. Every process the demo
started is stopped when it ends, fails or is interrupted (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from gateway.auth.dev import dev_key_path, mint_dev_token
from gateway.config import Settings
from gateway.core.cli import plural
from gateway.core.dutch_date import dutch_today
from gateway.policy.reasons import reasons_in_words


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
    adapters: dict[str, AdapterProcess] = field(default_factory=dict)
    receipts: list[tuple[str, str, Partner]] = field(default_factory=list)
    #: The gateway's database, for dating a demo case back past a term the demo cannot wait
    #: for (gateway/demo/clock.py); None when the demo does not know it.
    database_url: str | None = None

    def date_case_back(self, case_id: str, days: int) -> None:
        """Move the demo case's history ``days`` days into the past (R Bijlage E: the
        resident's term after a warning or intention must end before the next rung, and
        the demo cannot wait for it)."""
        if self.database_url is None:
            raise StepFailed(
                "the demo needs the gateway's database to let a term pass: run it with the "
                "gateway's KETENPOORT_DATABASE_URL (or its --data-dir for SQLite)"
            )
        from gateway.demo.clock import date_case_back_in

        date_case_back_in(self.database_url, case_id, days)

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


# --- the partners' adapters ---------------------------------------------------------------------

#: How long an adapter's inbox poll waits: it wakes at once for new work; an export change or a
#: case joined is picked up at the start of the next poll, so keep it short for the demo.
ADAPTER_WAIT_SECONDS = 1.0
#: How long a step waits for an adapter to do its part before the step fails.
ADAPTER_STEP_TIMEOUT = 45.0


class AdapterProcess:
    """One reference adapter (``ketenpoort-adapter``) running as its own process.

    Its output lines are narrated as they come (a reader thread) and kept, so a step can wait
    until the adapter says it did its part. The demo plays the partner's back office by
    writing the adapter's export file; everything the adapter sends, it sends itself."""

    def __init__(
        self,
        key: str,
        command: str,
        partner: str,
        export: Path,
        process: subprocess.Popen[str],
        console: Console | None,
    ) -> None:
        self.key, self.command, self.partner, self.export = key, command, partner, export
        self.process = process
        self.console = console
        self.lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._pump, name=f"demo-adapter-{key}", daemon=True)
        self._reader.start()

    @property
    def label(self) -> str:
        return f"{self.command} adapter ({self.partner}, pid {self.process.pid})"

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
            if self.console is not None:
                self.console.print(f"    [dim]↳ {escape(line)}[/]", highlight=False)
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def mark(self) -> int:
        """Where the adapter's output stands now; ``wait_for`` looks only after it."""
        with self._changed:
            return len(self.lines)

    def wait_for(self, text: str, *, since: int, timeout: float = ADAPTER_STEP_TIMEOUT) -> str:
        """The first line after ``since`` that contains ``text``; StepFailed if the adapter
        does not say it within ``timeout`` seconds or exits first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[since:]:
                    if text in line:
                        return line
                if self._ended:
                    raise StepFailed(
                        f"the {self.label} exited (code {self.process.poll()}) "
                        f"before saying {text!r}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StepFailed(f"the {self.label} did not say {text!r} within {timeout:.0f}s")
                self._changed.wait(remaining)

    def write_export(self, records: list[dict[str, Any]]) -> int:
        """The back office exports anew (written whole, then renamed, so the adapter never
        reads half a file); returns the mark to wait from."""
        since = self.mark()
        partial = self.export.with_suffix(".part")
        partial.write_text(json.dumps(records, indent=2), encoding="utf-8")
        os.replace(partial, self.export)
        return since

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (the adapter stops at once, also in a long poll), then kill if need be."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()


#: The adapters the scenarios use: key -> (ketenpoort-adapter command, partner id).
DEMO_ADAPTERS = {
    "police-u": ("police", "politie-midden-nederland"),
    "mitros": ("corporation", "mitros"),
    "police-r": ("police", "politie-den-haag"),
    "wijkteam-r": ("neighbourhood-team", "sociaal-wijkteam-rijswijk"),
}


def adapter_command(command: str, export: Path, gateway: str, key: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "adapters.cli",
        command,
        "--export",
        str(export),
        "--gateway",
        gateway,
        "--key",
        str(key),
        "--wait",
        str(ADAPTER_WAIT_SECONDS),
    ]


@contextmanager
def partner_adapters(
    gateway: str,
    settings: Settings,
    workdir: Path,
    console: Console | None,
    specs: dict[str, tuple[str, str]] = DEMO_ADAPTERS,
) -> Iterator[dict[str, AdapterProcess]]:
    """Start each reference adapter as its own process, with an empty export and the
    partner's development key; yield them once each has introduced itself to the gateway,
    and stop every one of them on the way out, whatever happened."""
    running: dict[str, AdapterProcess] = {}
    try:
        for key, (command, partner) in specs.items():
            export = workdir / f"{partner}.json"
            export.write_text("[]", encoding="utf-8")
            process = subprocess.Popen(
                adapter_command(command, export, gateway, dev_key_path(settings, partner)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
            running[key] = AdapterProcess(key, command, partner, export, process, console)
        if console is None:
            for adapter in running.values():
                adapter.wait_for("adapter for", since=0, timeout=60)
        else:
            with console.status("Starting the partners' reference adapters ..."):
                for adapter in running.values():
                    adapter.wait_for("adapter for", since=0, timeout=60)
        if console is not None:
            console.print(
                "[green]Adapters running[/]: " + ", ".join(a.label for a in running.values())
            )
        yield running
    finally:
        for adapter in running.values():
            if adapter.process.poll() is None:
                adapter.process.terminate()
        for adapter in running.values():
            adapter.stop()


# --- the scenarios ------------------------------------------------------------------------------

CM_U = Partner("u-centraal", "casemanager", "cm-demo")
MITROS = Partner("mitros", "woonconsulent", "wc-demo")
BUURTTEAM_U = Partner("buurtteam-sociaal", "buurtteam-medewerker", "bt-demo")
POLICE_U = Partner("politie-midden-nederland", "wijkagent", "wa-demo")
ANTECEDENTS = "police-nuisance-antecedents"
VIOLENCE = "police-physical-violence"
ATMOSPHERE = "police-atmosphere-report"
#: The begunstigingstermijn the demo's mayor gives in the warning and the intention (R
#: Bijlage E names no length).
GRACE_DAYS = 14

CM_R = Partner("gemeente-rijswijk", "casemanager", "cm-demo")
RIJSWIJK_WONEN = Partner("rijswijk-wonen", "woonconsulent", "wc-demo")
POLICE_R = Partner("politie-den-haag", "wijkagent", "wa-demo")


def _report(
    gw: DemoGateway,
    who: Partner,
    dwelling: dict[str, Any],
    text: str,
    *,
    joins: bool = False,
    awaiting_lead: bool = False,
) -> Any:
    # 201: a new dossier was opened; 200: the report joined the known dossier; 202: it joined
    # the dossier of a case whose team the reporter is not in (the lead decides, U §6).
    status = 202 if awaiting_lead else 200 if joins else 201
    return gw.call(
        who,
        "POST",
        "/reports",
        {
            "dwelling": dwelling,
            "persons": [{"role": "causer", "bsn": "111222333"}],
            "report": {"channel": "form", "description": text},
        },
        expect_status=status,
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


def _read(gw: DemoGateway, who: Partner, request_id: str) -> dict[str, Any]:
    disclosure = gw.call(who, "GET", f"/information-requests/{request_id}/answers")
    if disclosure["disclosureId"]:
        gw.receipts.append(("disclosure", disclosure["disclosureId"], who))
    return {v["category"]: v for v in disclosure["values"]}


def _police_u_export(reference: str, *, om_consent: bool) -> list[dict[str, Any]]:
    """The police back office's export for the Utrecht case (fictional)."""
    consents = (
        [
            {
                "scope": [ANTECEDENTS],
                "expiresOn": (dutch_today() + timedelta(days=30)).isoformat(),
            }
        ]
        if om_consent
        else []
    )
    return [
        {
            "caseReference": reference,
            "reportCount": 3,
            "reports": [
                "Nachtelijk geluid uit de woning, melding door bovenburen",
                "Bedreiging van een buurvrouw bij de voordeur",
                "Duwen en slaan in het trappenhuis",
            ],
            "physicalViolence": True,
            "seriousIntimidation": True,
            "nuisanceAntecedents": True,
            "investigationRunning": True,
            "omConsents": consents,
            "atmosphereReport": "Wijkagent: aanhoudende overlast, buren durven de deur niet uit.",
        }
    ]


def _mitros_export(
    reference: str, *, permission: bool, eviction: bool = False
) -> list[dict[str, Any]]:
    """Mitros' tenancy administration for the Utrecht case (fictional); ``eviction``: Mitros
    started an eviction procedure (a case event of U §5.2)."""
    record: dict[str, Any] = {
        "caseReference": reference,
        "tenantSince": "2016-04-01",
        "tenancy": "Huurcontract voor onbepaalde tijd, eengezinswoning",
        "nuisanceReports": ["Klacht van bovenburen over geluid in de nacht"],
        "measures": ["Gesprek woonconsulent"],
    }
    if permission:
        record["permission"] = "granted"
    if eviction:
        record["caseEvents"] = [
            {"event": "eviction-procedure", "occurredOn": dutch_today().isoformat()}
        ]
    return [record]


def _sfeerverslag(gw: DemoGateway, who: Partner, case: str, police: AdapterProcess) -> Any:
    """Ask the police for the sfeerverslag for the eviction procedure; wait for the answer
    when it is asked."""
    since = police.mark()
    request = _ask(gw, case, who, "eviction-procedure", [ATMOSPHERE])
    item = request["items"][0]
    if item["state"] == "asked":
        police.wait_for(f"answered request {request['id']}", since=since)
    return request


def utrecht() -> Scenario:
    dwelling = {
        "address": {"postcode": "3511 AB", "houseNumber": 12},
        "ownership": "corporation",
        "corporationId": "mitros",
        "district": "binnenstad",
    }

    def two_reports(gw: DemoGateway, s: dict[str, Any]) -> str:
        # The neighbourhood team reports first: had Mitros opened the case about its own
        # dwelling, that would have been its permission already (U §5.2).
        first = _report(gw, BUURTTEAM_U, dwelling, "Buren melden stankoverlast en vervuiling.")
        second = _report(
            gw, MITROS, dwelling, "Nachtelijk lawaai, bedreiging van buren.", joins=True
        )
        expect(first["created"] and not second["created"], "the second report joins the dossier")
        expect(first["caseId"] == second["caseId"], "both reports are one case")
        s["case"], s["reference"] = first["caseId"], first["reference"]
        # The partners' back offices now know the case by its reference.
        police, mitros = gw.adapters["police-u"], gw.adapters["mitros"]
        since = police.write_export(_police_u_export(s["reference"], om_consent=False))
        police.wait_for("record(s)", since=since)
        since = mitros.write_export(_mitros_export(s["reference"], permission=False))
        mitros.wait_for("record(s)", since=since)
        return (
            "The neighbourhood team and Mitros reported the same dwelling: "
            f"one case {first['reference']}; the police's and Mitros' exports now hold it."
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
        mitros = gw.adapters["mitros"]
        since = mitros.mark()
        _transition(gw, CM_U, s["case"], "request-permission")
        deadlines = gw.call(MITROS, "GET", "/deadlines")["_embedded"]["deadlines"]
        due = [
            d
            for d in deadlines
            if d.get("deadline") == "corporation-permission-answer" and d.get("caseId") == s["case"]
        ]
        expect(bool(due), "the corporation's 3-day answer shows in Mitros' deadlines")
        due_on = due[0]["dueOn"]
        mitros.wait_for(
            f"case {s['reference']}: permission asked (answer due {due_on}); no decision",
            since=since,
        )
        return (
            f"Permission asked of Mitros (U §5.1); answer due {due_on} "
            "(3 days, U §5.2). Mitros' adapter found it in its inbox; "
            "no decision in its export yet."
        )

    def permission_given(gw: DemoGateway, s: dict[str, Any]) -> str:
        mitros = gw.adapters["mitros"]
        since = mitros.write_export(_mitros_export(s["reference"], permission=True))
        mitros.wait_for(f"case {s['reference']}: permission granted", since=since)
        _transition(
            gw, CM_U, s["case"], "take-on", oggzCheck={"targetGroup": False, "referred": False}
        )
        police = gw.adapters["police-u"]
        since = police.mark()
        gw.call(CM_U, "POST", f"/cases/{s['case']}/team", {"partnerId": "politie-midden-nederland"})
        # Now in the case team, the police adapter brings the gateway up to date.
        police.wait_for(
            f"case {s['reference']}: told the gateway an investigation runs", since=since
        )
        return (
            "Mitros' woonconsulent granted permission in its own system and the adapter passed "
            "it on; the case is taken on; the police joined the case team, and their adapter "
            "said that an investigation runs."
        )

    def withheld(gw: DemoGateway, s: dict[str, Any]) -> str:
        police = gw.adapters["police-u"]
        since = police.mark()
        request = _ask(gw, s["case"], CM_U, "case-handling", [ANTECEDENTS, VIOLENCE])
        items = {i["category"]: i for i in request["items"]}
        expect(items[ANTECEDENTS]["state"] == "denied", "antecedents are withheld")
        expect(items[ANTECEDENTS]["reasons"] == ["om-consent-missing"], "reason: no OM consent")
        expect(items[VIOLENCE]["state"] == "asked", "violence (yes/no) is asked")
        police.wait_for(f"answered request {request['id']}", since=since)
        values = _read(gw, CM_U, request["id"])
        expect(values[VIOLENCE]["yesNo"] is True, "violence disclosed as yes/no only")
        expect(values[ANTECEDENTS]["outcome"] == "redacted", "antecedents redacted")
        return (
            "Antecedents withheld because "
            f"{reasons_in_words(values[ANTECEDENTS]['reasons'])} "
            f"- clause {', '.join(values[ANTECEDENTS]['clauses'])}; "
            "the police adapter answered 'physical violence' from its export: yes."
        )

    def om_consent(gw: DemoGateway, s: dict[str, Any]) -> str:
        police = gw.adapters["police-u"]
        since = police.write_export(_police_u_export(s["reference"], om_consent=True))
        police.wait_for(f"case {s['reference']}: registered an OM consent", since=since)
        case = gw.call(CM_U, "GET", f"/cases/{s['case']}")
        expect(
            any(c["kind"] == "om-consent" and c["live"] for c in case["consents"]),
            "the OM consent is on file",
        )
        return (
            "The OM consented to sharing the antecedents; the police export holds it and the "
            "police adapter registered it (valid 30 days)."
        )

    def answered(gw: DemoGateway, s: dict[str, Any]) -> str:
        police = gw.adapters["police-u"]
        since = police.mark()
        request = _ask(gw, s["case"], CM_U, "case-handling", [ANTECEDENTS])
        expect(request["items"][0]["state"] == "asked", "now the antecedents are asked")
        police.wait_for(f"answered request {request['id']}", since=since)
        values = _read(gw, CM_U, request["id"])
        expect(values[ANTECEDENTS]["outcome"] == "disclosed", "antecedents disclosed")
        expect(values[ANTECEDENTS]["yesNo"] is True, "antecedents: yes")
        return (
            "Asked again; the police adapter answered: known for nuisance antecedents: yes "
            "(U-5.3-antecedenten)."
        )

    def eviction(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_U, s["case"], "adopt-plan", bothSidesHeard=True)
        police, mitros = gw.adapters["police-u"], gw.adapters["mitros"]
        early = _sfeerverslag(gw, CM_U, s["case"], police)["items"][0]
        expect(early["state"] == "denied", "no sfeerverslag before an eviction procedure")
        expect(
            early["reasons"] == ["event-not-recorded:eviction-procedure"],
            "reason: the landlord's eviction procedure is not on record",
        )
        s["refused"] = reasons_in_words(early["reasons"])
        since = mitros.write_export(_mitros_export(s["reference"], permission=True, eviction=True))
        mitros.wait_for(f"case {s['reference']}: recorded eviction-procedure", since=since)
        request = _sfeerverslag(gw, CM_U, s["case"], police)
        expect(request["items"][0]["state"] == "asked", "now the sfeerverslag is asked")
        values = _read(gw, CM_U, request["id"])
        expect(values[ATMOSPHERE]["outcome"] == "disclosed", "sfeerverslag disclosed")
        expect(values[ATMOSPHERE]["clauses"] == ["U-5.3-sfeerverslag"], "under U-5.3-sfeerverslag")
        return (
            f"Plan adopted; a sfeerverslag was refused because {s['refused']}; Mitros "
            "started an eviction procedure in its own system, its adapter recorded it on the "
            "case, and the police's sfeerverslag went to the case lead (U §5.3)."
        )

    def closure(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_U, s["case"], "record-evaluation")
        _transition(gw, CM_U, s["case"], "start-final-evaluation")
        _close(gw, CM_U, s["case"], neighbours="improved", partners="resolved")
        return "Evaluated, final evaluation, closed on two legs (U §7)."

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
            ("Eviction procedure, then the sfeerverslag", eviction),
            ("Evaluation, closure", closure),
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
            gw, POLICE_R, dwelling, "Melding geluidsoverlast en bedreiging.", awaiting_lead=True
        )
        expect(
            second["caseId"] is None and second["awaitingLead"],
            "the police's report joined the dossier without showing the police the case",
        )
        s["case"], s["reference"] = first["caseId"], first["reference"]
        case = gw.call(RIJSWIJK_WONEN, "GET", f"/cases/{s['case']}")
        pending = case["pendingReports"]
        expect(
            [p["partnerId"] for p in pending] == ["politie-den-haag"]
            and pending[0]["id"] == second["reportId"],
            "the lead sees the police's report awaiting its decision",
        )
        gw.call(
            RIJSWIJK_WONEN,
            "POST",
            f"/cases/{s['case']}/reports/{second['reportId']}/reporter-decision",
            {"addToTeam": True},
        )
        return (
            "Rijswijk Wonen and the police reported the same dwelling: "
            f"one case {first['reference']}; the lead (Rijswijk Wonen, R §3.2.2) added the "
            "police to the team (need to know: the lead decides who is involved)."
        )

    def complex_case(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, RIJSWIJK_WONEN, s["case"], "classify-complex")
        for partner in ("sociaal-wijkteam-rijswijk", "politie-den-haag"):
            gw.call(CM_R, "POST", f"/cases/{s['case']}/team", {"partnerId": partner})
        _transition(gw, CM_R, s["case"], "form-team")
        _transition(gw, CM_R, s["case"], "weigh-serious", bothSidesHeard=True)
        return "Complex (R §3.2.3): the lead moved to the municipality; nuisance team formed."

    def registrations(gw: DemoGateway, s: dict[str, Any]) -> str:
        police = gw.adapters["police-r"]
        since = police.write_export(
            [
                {
                    "caseReference": s["reference"],
                    "reportCount": 2,
                    "reports": ["Geluidsoverlast (maart)", "Bedreiging van een buurman (maart)"],
                    "physicalViolence": False,
                    "seriousIntimidation": True,
                    "nuisanceAntecedents": False,
                    "investigationRunning": False,
                    "atmosphereReport": "Sfeerrapportage: aanhoudende dreiging in de portiek.",
                }
            ]
        )
        police.wait_for(f"case {s['reference']}: pushed police-registrations", since=since)
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
        return (
            "The police registered two reports in their own system; their adapter pushed them "
            "to the case; the municipality read them for dossier building."
        )

    def household_actions(gw: DemoGateway, s: dict[str, Any]) -> str:
        wijkteam = gw.adapters["wijkteam-r"]
        since = wijkteam.write_export(
            [
                {
                    "caseReference": s["reference"],
                    "known": True,
                    "actions": ["Huisbezoek afgelegd", "Schuldhulp aangevraagd"],
                }
            ]
        )
        wijkteam.wait_for("record(s)", since=since)
        since = wijkteam.mark()
        request = _ask(gw, s["case"], CM_R, "integrated-approach", ["neighbourhood-team-actions"])
        wijkteam.wait_for(f"answered request {request['id']}", since=since)
        values = _read(gw, CM_R, request["id"])
        expect(values["neighbourhood-team-actions"]["outcome"] == "disclosed", "disclosed")
        expect(
            "Huisbezoek afgelegd" in values["neighbourhood-team-actions"]["value"],
            "the actions named in the wijkteam's export",
        )
        return (
            "The social neighbourhood team's adapter told the case lead its actions in the "
            "household (R Bijlage A)."
        )

    def escalation(gw: DemoGateway, s: dict[str, Any]) -> str:
        # R Bijlage E: the warning gives a begunstigingstermijn, and the intention comes only
        # when the nuisance did not stop after it; the behavioural order only after the
        # intention's term (review8a F4). The demo shows the refusal within the term, then
        # dates the case back past it: it cannot wait two weeks.
        case = s["case"]
        warned = _transition(gw, CM_R, case, "issue-warning", days=GRACE_DAYS)
        (term,) = [d for d in warned["deadlines"] if d["deadline"] == "grace-period-ends"]
        early = gw.call(
            CM_R,
            "POST",
            f"/cases/{case}/transitions",
            {"transition": "announce-intention", "days": GRACE_DAYS},
            expect_status=409,
        )
        expect(early["guard"] == "grace-period-ended", "no intention within the warning's term")
        gw.date_case_back(case, GRACE_DAYS + 1)
        _transition(gw, CM_R, case, "announce-intention", days=GRACE_DAYS)
        gw.date_case_back(case, GRACE_DAYS + 1)
        _transition(gw, CM_R, case, "impose-behavioural-order", measure="behavioural-order")
        police = gw.adapters["police-r"]
        early = _sfeerverslag(gw, CM_R, s["case"], police)["items"][0]
        expect(early["state"] == "denied", "phase 4a alone does not unlock the sfeerrapportage")
        expect(
            early["reasons"] == ["event-not-recorded:eviction-procedure"],
            "reason: the corporation's eviction procedure is not on record",
        )
        refused = reasons_in_words(early["reasons"])
        gw.call(
            RIJSWIJK_WONEN,
            "POST",
            f"/cases/{s['case']}/events",
            {"event": "eviction-procedure"},
            expect_status=201,
        )
        request = _sfeerverslag(gw, CM_R, s["case"], police)
        expect(request["items"][0]["state"] == "asked", "now the sfeerrapportage is asked")
        values = _read(gw, CM_R, request["id"])
        expect(values[ATMOSPHERE]["outcome"] == "disclosed", "sfeerrapportage disclosed")
        return (
            f"Warning by the mayor with a {GRACE_DAYS}-day begunstigingstermijn (to "
            f"{term['dueOn']}); the intention was refused within it (R Bijlage E). The demo "
            f"cannot wait: it dated the case's history back {GRACE_DAYS + 1} days, twice, "
            "for the intention and then the behavioural order by the mayor; the "
            f"sfeerrapportage was refused because {refused}, until Rijswijk Wonen recorded "
            "its court procedure for eviction (R Bijlage F); then the police's report went to "
            "the case lead."
        )

    def closure(gw: DemoGateway, s: dict[str, Any]) -> str:
        _transition(gw, CM_R, s["case"], "nuisance-stopped")
        _close(gw, CM_R, s["case"], neighbours="resolved", partners="improved")
        return "Nuisance stopped, evaluated and closed."

    return Scenario(
        "Rijswijk: woonoverlast",
        [
            ("Two reports become one case", two_reports),
            ("Complex case, nuisance team", complex_case),
            ("Police registrations pushed and read", registrations),
            ("Household actions asked of the wijkteam", household_actions),
            ("Escalation, eviction procedure, sfeerrapportage", escalation),
            ("Closure", closure),
        ],
    )


# --- receipts -----------------------------------------------------------------------------------


def verify_receipts(
    gw: DemoGateway, wait_seconds: float, progress: Callable[[str], None] | None = None
) -> str:
    """Every receipt's inclusion proof leads to a checkpoint signed by the audit key.

    A receipt has its proof once a signed (and, with witnesses, cosigned) checkpoint covers
    it: the gateway signs one every KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS (a second
    for the demo's own gateway, 5 s under ``serve --demo``, a minute by default).
    ``progress`` hears, about every second, what is waited for and for how long."""
    from audit.keys import load_public_key, verify_signature
    from audit.merkle import verify_inclusion
    from gateway.audit.wiring import key_dir

    public_key = load_public_key(key_dir(gw.settings))
    verified = 0
    started = time.monotonic()
    total = len(gw.receipts)
    for number, (kind, ident, who) in enumerate(gw.receipts, start=1):
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
            if progress is not None:
                progress(
                    f"Receipt {number} of {total} (log entry {receipt['index']}): waiting for "
                    f"the gateway's next signed checkpoint, {time.monotonic() - started:.0f} s "
                    f"so far (it signs one every KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS; "
                    f"giving up after {wait_seconds:.0f} s) ..."
                )
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
    waited = time.monotonic() - started
    return (
        f"{plural(verified, 'receipt')}: inclusion proofs and checkpoint signatures verified "
        f"(in {waited:.0f} s)."
    )


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
            console.print(f"[green]✓ {number}. {title}[/]: {escape(said)}")
    console.rule("[bold]Audit receipts")
    with console.status("Verifying every receipt against a signed checkpoint ...") as status:
        try:
            said = verify_receipts(gw, checkpoint_wait, status.update)
            console.print(f"[green]✓[/] {said}")
        except Exception as exc:  # noqa: BLE001 - any verification error fails the demo
            failures.append(f"receipts: {exc}")
            console.print(f"[red]✗ receipts[/]: {exc}")
    return failures


class DemoInterrupted(Exception):
    """SIGTERM or SIGINT: stop the demo and everything it started."""


@contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into an exception in the main thread, so that the ``finally``
    blocks stop the adapters and the gateway.

    SIGINT explicitly too: Python raises KeyboardInterrupt only if SIGINT was at its default
    when the process started, and a non-interactive shell starts a background job
    (``ketenpoort demo &``) with SIGINT ignored, so the demo would ignore Ctrl-C's signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise DemoInterrupted(signal.Signals(signum).name)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_demo(
    *,
    gateway: str | None,
    data_dir: Path | None,
    checkpoint_wait: float,
    console: Console,
    database_url: str | None = None,
) -> int:
    """Play both scenarios with the reference adapters running as their own processes;
    0 when every step behaved as the covenants say, 1 if not, 130 when interrupted.

    The demo dates one case's history back past a term it cannot wait for (gateway/demo/
    clock.py), so it writes to the gateway's database: its own gateway's SQLite file, or for
    ``gateway`` the ``database_url`` given, else the one the environment and ``data_dir``
    name (KETENPOORT_DATABASE_URL, as that gateway reads it)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the narration says what happens
    if gateway is not None and data_dir is None:
        console.print("[red]--gateway needs --data-dir of that gateway (its development keys).")
        return 2
    try:
        with _interruptible(), contextmanager(_data_dir)(data_dir) as directory:
            settings = Settings(data_dir=directory, demo_mode=True)
            with (
                tempfile.TemporaryDirectory(prefix="ketenpoort-demo-exports-") as exports,
                httpx.Client(timeout=30) as client,
            ):
                if gateway is not None:
                    url = gateway.rstrip("/")
                    _wait_ready(url, 30, None)
                    database = database_url or settings.resolved_database_url
                    failures = _play_with_adapters(
                        url, settings, Path(exports), client, console, checkpoint_wait, database
                    )
                else:
                    # gateway_process: a fresh SQLite database in the data directory.
                    own = f"sqlite:///{(directory / 'ketenpoort.db').resolve()}"
                    with local_gateway(directory, console) as url:
                        failures = _play_with_adapters(
                            url, settings, Path(exports), client, console, checkpoint_wait, own
                        )
    except (KeyboardInterrupt, DemoInterrupted):
        console.print("[yellow]Interrupted: the adapters and the gateway have been stopped.")
        return 130
    console.rule("[bold]Summary")
    if failures:
        for failure in failures:
            console.print(f"[red]✗[/] {failure}")
        console.print(f"[red bold]{len(failures)} step(s) did not behave as the covenant says.")
        return 1
    console.print("[green bold]Every step behaved as the covenants say; every receipt verified.")
    return 0


def _play_with_adapters(
    url: str,
    settings: Settings,
    exports: Path,
    client: httpx.Client,
    console: Console,
    checkpoint_wait: float,
    database_url: str | None,
) -> list[str]:
    try:
        with partner_adapters(url, settings, exports, console) as adapters:
            gw = DemoGateway(url, settings, client, adapters, database_url=database_url)
            return play(gw, console, checkpoint_wait)
    except StepFailed as exc:  # only the adapters' start: play() reports its own failures
        console.print(f"[red]✗ adapters[/]: {exc}")
        return [f"adapters: {exc}"]


def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="ketenpoort-demo-") as tmp:
        yield Path(tmp)
