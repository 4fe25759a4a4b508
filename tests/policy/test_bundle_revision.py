"""The bundle's revision identifies the bundle: a digest of its content (the Rego modules and
``data.json`` without the revision field), not of the compiler's inputs alone.

The revision was a hash of the covenants and the modules only. A change to the compiler alone
(6a96054, the review6b P1 leak fix, changed only compiler.py) changed ``data.json`` and kept
the revision, so an OPA server still serving the older bundle was accepted as serving the
gateway's (its answers carry the revision label), and the fixed leak came back (review of
the OPA path, H1). Here: the same covenants and modules compiled by another compiler give
another revision, and an OPA serving that bundle is refused; the positive controls: the same
inputs give the same revision, in this process, in other processes, and with another key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.config import Settings
from gateway.policy import compiler
from gateway.policy.bundle import Bundle, build_bundle, pack, read_bundle
from gateway.policy.compiler import DATA_ROOT, compile_data, rego_modules, revision_of
from gateway.policy.opa_server import OpaServerEngine
from gateway.policy.wiring import make_engine
from tests.policy.conftest import BUNDLE, COVENANTS
from tests.policy.opa_stand_in import opa_stand_in
from tests.policy.test_decisions import utrecht_request
from tests.policy.test_opa_client import decisions_asked

ROOT = Path(__file__).resolve().parents[2]
#: The reason the compiler before 6a96054 also gave a requester that every clause refuses by
#: its relation to the case (review6b P1: whether the landlord started its eviction procedure).
LEAKED = "event-not-recorded:eviction-procedure"


def _older_compiler(real: Any) -> Any:
    """``compile_covenant`` as a compiler with the review6b P1 leak compiled it: a refusal
    for not being the dwelling's landlord also names the missing eviction procedure."""

    def compile_covenant(covenant: Any) -> dict[str, Any]:
        compiled: dict[str, Any] = real(covenant)
        for plan in compiled["plans"].values():
            for states in plan["categories"].values():
                for by_om in states.values():
                    for verdict in by_om.values():
                        if "not-dwelling-landlord" in verdict["reasons"]:
                            verdict["reasons"] = [*verdict["reasons"], LEAKED]
        return compiled

    return compile_covenant


@pytest.fixture
def older_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler, "compile_covenant", _older_compiler(compiler.compile_covenant))


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_the_revision_is_the_digest_of_the_bundles_content() -> None:
    bundle = build_bundle(COVENANTS, _key())
    assert bundle.revision == revision_of(bundle.data, bundle.modules)
    assert bundle.data[DATA_ROOT]["revision"] == bundle.revision
    assert json.loads(bundle.files[".manifest"])["revision"] == bundle.revision
    # The revision field itself is left out of the digest, so the digest can be checked
    # on a bundle as read (the test bundle was packed, signed and verified).
    assert revision_of(BUNDLE.data, BUNDLE.modules) == BUNDLE.revision


def test_same_covenants_and_modules_give_the_same_revision_whatever_the_key() -> None:
    """The positive control: nothing but the content moves the revision (not the signing
    key, not a second build)."""
    first, second = build_bundle(COVENANTS, _key()), build_bundle(COVENANTS, _key())
    assert first.revision == second.revision == BUNDLE.revision
    assert first.files["data.json"] == second.files["data.json"]


def test_the_same_covenants_compiled_differently_give_another_revision(
    older_compiler: None,
) -> None:
    """Only the compiler differs (the covenants and the Rego modules are the same): the
    compiled tables differ, and so does the revision. Before, both had one revision."""
    older = build_bundle(COVENANTS, _key())
    assert older.modules == BUNDLE.modules
    # The older compiler's tables really differ: more refusals name the eviction procedure.
    assert json.dumps(older.data).count(LEAKED) > json.dumps(BUNDLE.data).count(LEAKED)
    assert older.revision != BUNDLE.revision
    assert older.revision == revision_of(older.data, older.modules)


def test_any_change_of_the_content_changes_the_revision() -> None:
    modules = rego_modules()
    data = compile_data(COVENANTS, modules)
    revision = data[DATA_ROOT]["revision"]
    name = sorted(modules)[0]
    assert revision_of(data, modules) == revision  # the control: unchanged content
    assert revision_of(data, {**modules, name: modules[name] + "\n"}) != revision
    assert revision_of(data, {**modules, "rego/extra.rego": "package extra\n"}) != revision
    covenants = dict(data[DATA_ROOT]["covenants"])
    first = sorted(covenants)[0]
    covenants[first] = {**covenants[first], "name": covenants[first]["name"] + " "}
    changed = {DATA_ROOT: {**data[DATA_ROOT], "covenants": covenants}}
    assert revision_of(changed, modules) != revision
    # One covenant fewer: another bundle, another revision.
    one = {first: COVENANTS[first]}
    assert compile_data(one, modules)[DATA_ROOT]["revision"] != revision


_REVISION_IN_A_PROCESS = """
from cryptography.hazmat.primitives.asymmetric import ec
from gateway.policy.bundle import build_bundle
from gateway.policy.covenant import load_covenants
print(build_bundle(load_covenants(), ec.generate_private_key(ec.SECP256R1())).revision)
"""


def test_the_revision_is_the_same_in_other_processes() -> None:
    """Deterministic across processes (other string hash seeds, hence other set orders): a
    gateway replica, ``ketenpoort policy build`` and this process agree on one revision."""
    revisions = set()
    for seed in ("0", "1", "4242"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _REVISION_IN_A_PROCESS],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
            cwd=ROOT,
        )
        revisions.add(result.stdout.strip())
    assert revisions == {BUNDLE.revision}


def _request() -> Any:
    return utrecht_request(categories=["police-reports", "police-physical-violence"])


def _gateway_engine(url: str) -> OpaServerEngine:
    engine = make_engine(Settings(opa_url=url, policy_timeout_seconds=0.5))
    assert isinstance(engine, OpaServerEngine)
    engine.load(BUNDLE)  # the bundle the gateway built with today's compiler
    return engine


def _older_bundle(monkeypatch: pytest.MonkeyPatch) -> Bundle:
    with monkeypatch.context() as patch:
        patch.setattr(compiler, "compile_covenant", _older_compiler(compiler.compile_covenant))
        key = _key()
        return read_bundle(pack(build_bundle(COVENANTS, key)), key.public_key())


def test_an_opa_still_serving_the_older_compilers_bundle_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The review's reproduction: the gateway upgraded (a compiler fix, covenants and
    modules unchanged) while its OPA still serves the bundle the older compiler built.
    That OPA serves another revision: every decision fails closed (503), found by the
    read of what OPA serves before OPA is asked (tests/policy/test_opa_content_check.py);
    were it asked, its answer would carry that revision and be refused too
    (tests/policy/test_opa_client.py)."""
    older = _older_bundle(monkeypatch)
    with opa_stand_in("answer", older) as opa:
        decision = _gateway_engine(opa.url).decide(_request())
        assert decisions_asked(opa) == 0
    assert decision.allow is False
    assert decision.errors == ["engine-error"]
    stale = [r for r in caplog.records if r.getMessage().startswith("OPA serves another bundle")]
    assert [(r.served_revision, r.expected_revision) for r in stale] == [  # type: ignore[attr-defined]
        (older.revision, BUNDLE.revision)
    ]


def test_an_opa_serving_the_gateways_own_bundle_decides() -> None:
    """The positive control: the same request, an OPA serving the bundle the gateway built."""
    with opa_stand_in("answer", BUNDLE) as opa:
        decision = _gateway_engine(opa.url).decide(_request())
    assert decision.errors == []
    assert decision.allow is True
    assert decision.bundle_revision == BUNDLE.revision
