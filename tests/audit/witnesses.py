"""In-process witnesses for tests: the real witness app (gateway/audit/witness.py) behind an httpx
client that routes by host name, so the gateway's witnessing code and the verifier talk HTTP
to them as they would to `ketenpoort witness serve`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from audit.anchors import WitnessEndpoint
from audit.note import Verifier
from gateway.audit import AuditLog
from gateway.audit.witness import Witness, WitnessState, init_witness, witness_app
from gateway.audit.witnessing import Witnessing

ORIGIN = "ketenpoort.test/audit-log"


@dataclass
class RunningWitness:
    name: str
    directory: Path
    witness: Witness
    client: TestClient
    #: A witness that is down refuses connections.
    down: bool = False

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def host(self) -> str:
        return self.name.replace("/", "-")

    @property
    def verifier(self) -> Verifier:
        return self.witness.cosigner.verifier

    @property
    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.verifier, self.url)

    def state_file(self) -> Path:
        (found,) = (self.directory / "state").glob("*.json")
        return found


def log_verifier(log: AuditLog) -> Verifier:
    return log.signer.note_signer(log.origin).verifier


def start_witness(directory: Path, name: str, log: AuditLog) -> RunningWitness:
    """A fresh witness (``ketenpoort witness init``) that trusts ``log``'s key and origin."""
    cosigner = init_witness(directory, name)
    witness = Witness(cosigner, WitnessState(directory / "state"), [log_verifier(log)])
    return RunningWitness(name, directory, witness, TestClient(witness_app(witness)))


def router(witnesses: list[RunningWitness]) -> httpx.Client:
    """One httpx client reaching each witness by its host name."""
    by_host = {w.host: w for w in witnesses}

    def handle(request: httpx.Request) -> httpx.Response:
        witness = by_host.get(request.url.host)
        if witness is None or witness.down:
            raise httpx.ConnectError("connection refused", request=request)
        answer = witness.client.request(
            request.method, request.url.path, params=request.url.params, content=request.content
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.Client(transport=httpx.MockTransport(handle))


def witnessed(log: AuditLog, witnesses: list[RunningWitness], quorum: int) -> httpx.Client:
    """Configure ``log`` to ask ``witnesses``; returns the client the verifier can use too."""
    http = router(witnesses)
    log.witnessing = Witnessing([w.endpoint for w in witnesses], quorum=quorum, http=http)
    return http
