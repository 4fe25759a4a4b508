"""Shared fixtures: a fresh, migrated database per test on SQLite and (when reachable) PostgreSQL.

The PostgreSQL run uses KETENPOORT_TEST_POSTGRES_URL (default: the local server with trust
auth, database ``test``). Each test gets a database of its own, as the migrated template is:
cloned from it, or one an earlier test of the same process used, made like the template
again (tests/databases.py), so tests can run in parallel and never see each other's rows.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import fastapi.routing as fastapi_routing
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.auth.dev import mint_dev_token
from gateway.config import Settings
from gateway.context import GatewayContext, build_context
from gateway.db import upgrade_database
from gateway.policy import bundle as policy_bundle
from gateway.policy import compiler as policy_compiler
from gateway.policy import wiring as policy_wiring
from gateway.policy.covenant import Covenant
from tests import start_memos  # noqa: F401 - the start's pure parts, once per process
from tests.databases import DatabasePool

# The collector's thresholds for the test processes (not the gateway's): a test allocates
# tens of millions of objects (a gateway's start parses ~0.6 MB of bundle data, pydantic
# models, ...), and with the default (700, 10, 10) the collector ran 3,600 times in 40 tests
# of tests/exchange and took 5.0 of their 21.2 s, mostly full collections of a heap that
# holds the session's modules; with (50_000, 20, 100) 1.2 of 15.9 s. It decides only when
# cyclic garbage is freed, not what a test sees.
gc.set_threshold(50_000, 20, 100)

PG_URL = os.environ.get(
    "KETENPOORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_HINT = (
    "PostgreSQL tests skipped: no server at {url} ({error}). To run them, start PostgreSQL "
    "with trust auth for user postgres (or set KETENPOORT_TEST_POSTGRES_URL to a URL of a user "
    "who may CREATE DATABASE); with CI=true they are required."
)


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; skips (or fails under CI) without PostgreSQL."""
    try:
        engine = _admin_engine()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: not reachable
        message = PG_HINT.format(url=PG_URL, error=type(exc).__name__)
        if IN_CI:
            pytest.fail("CI=true but " + message, pytrace=False)
        pytest.skip(message)
    name = f"kp_tpl_{os.getpid()}_{secrets.token_hex(4)}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_pool(postgres_template: str) -> Iterator[DatabasePool]:
    pool = DatabasePool(PG_URL, make_url(postgres_template).database or "")
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "ketenpoort.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template_url: str = request.getfixturevalue("postgres_template")
    pool: DatabasePool = request.getfixturevalue("postgres_pool")
    name = pool.take()
    yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    pool.give_back(name)


@pytest.fixture(scope="session")
def data_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A data directory as a gateway's first start leaves it: the demo partners' keys, the
    audit log's keys, the key-encryption key, the bundle's signing key. Writing them took
    0.2-0.3 s of every test's start at load ~10 (tests/start_memos.py); each test's data
    directory starts as a copy, with its own database, and its gateway still reads, checks
    and uses every key as at any later start."""
    scratch = tmp_path_factory.mktemp("data-template")
    shutil.copy(sqlite_template, scratch / "ketenpoort.db")
    first = settings_without_jobs(scratch, f"sqlite:///{scratch / 'ketenpoort.db'}")
    build_context(first).close()
    shutil.rmtree(first.data_dir / "bundles")  # each gateway writes its own at its start
    return first.data_dir


@pytest.fixture
def settings(tmp_path: Path, database_url: str, data_template: Path) -> Settings:
    shutil.copytree(data_template, tmp_path / "data")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo_mode=True,
        auto_migrate=False,
    )


def settings_without_jobs(tmp_path: Path, database_url: str) -> Settings:
    """As the ``settings`` fixture, without background jobs: the test runs them itself."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        demo_mode=True,
        auto_migrate=False,
        retention_sweep_interval_seconds=0,
        audit_checkpoint_interval_seconds=0,
    )


@pytest.fixture
def context(settings: Settings) -> Iterator[GatewayContext]:
    ctx = build_context(settings)
    yield ctx
    ctx.close()


@pytest.fixture
def app(settings: Settings, context: GatewayContext) -> Iterator[FastAPI]:
    app = create_app(settings, context)
    yield app
    assert not app.dependency_overrides, (
        "the apps of a test session share their routes' state (_effective_route_built_once): "
        "a dependency override would not reach them; build the gateway another way"
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# -- an included route's state, built once per test session ------------------------------
#
# FastAPI builds the state of every route an app includes (its dependant, a pydantic
# TypeAdapter per parameter) on the app's first request: 0.2-0.45 s at load ~7, in every
# test that sends one (cProfile: ``_EffectiveRouteContext.from_api_route`` for 258 routes,
# then 2 ms a request). That state depends on the route and on how it is included, which is
# the same in every app ``create_app`` builds, except for the app as the provider of
# ``dependency_overrides``: no test overrides a dependency (the ``app`` fixture fails one
# that does), so each route's state is built once per session and shared by every app.

_effective_routes: dict[int, list[tuple[object, object, object]]] = {}
_build_effective_route = fastapi_routing._EffectiveRouteContext.from_api_route.__func__


def _effective_route_built_once(
    cls: type[object], *, original_route: object, include_context: object
) -> object:
    inclusion = dataclasses.replace(include_context, dependency_overrides_provider=None)  # type: ignore[type-var]
    built = _effective_routes.setdefault(id(original_route), [])
    for route, known_inclusion, context in built:
        if route is original_route and known_inclusion == inclusion:
            return context
    context = _build_effective_route(
        cls, original_route=original_route, include_context=include_context
    )
    built.append((original_route, inclusion, context))
    return context


fastapi_routing._EffectiveRouteContext.from_api_route = classmethod(  # type: ignore[method-assign,assignment]
    _effective_route_built_once
)


# -- a gateway's policy bundle, compiled once per test session ------------------------------
#
# Every gateway compiles the covenants into a bundle at its start, signs it with its data
# directory's own key, writes it, reads it back and verifies it (gateway/policy/wiring.py).
# Compiling ``data.json`` (~0.6 MB) and hashing it in its canonical form (parsed and dumped
# again, once to sign and once to verify) took 0.11-0.13 s of each test's 0.2 s bundle at
# load ~10, the same work in every test. Two memos, each over a pure function of its key:
#
# - the files of a bundle (``data.json``, ``.manifest``, the Rego modules) for the exact
#   covenant dumps and modules it is compiled from (one compiler per test session, so
#   the same inputs give the same content and revision), and their signature by the
#   public key of the gateway's signing key (ECDSA signs differently each time, and every
#   test's data directory holds the same key: the ``data_template`` fixture); each gateway
#   still writes the bundle and loads it (tests/start_memos.py);
# - ``bundle._file_hash`` by the file's name and the SHA-256 of its bytes, so a changed
#   byte is hashed afresh (a tampered bundle is still refused: tests/policy).
#
# Only the gateway's start (``wiring.build_bundle``) takes the first memo; the tests that
# build bundles themselves call ``gateway.policy.bundle.build_bundle`` and compile each time.

_bundle_files: dict[tuple[bytes, ...], tuple[str, dict[str, Any], dict[str, bytes]]] = {}
_file_hashes: dict[tuple[str, bytes], str] = {}
_signatures: dict[tuple[tuple[bytes, ...], bytes], bytes] = {}
_hash_file = policy_bundle._file_hash


def _file_hash_once(name: str, content: bytes) -> str:
    key = (name, hashlib.sha256(content).digest())
    if key not in _file_hashes:
        _file_hashes[key] = _hash_file(name, content)
    return _file_hashes[key]


def _bundle_compiled_once(
    covenants: Mapping[str, Covenant],
    key: ec.EllipticCurvePrivateKey,
    modules: Mapping[str, str] | None = None,
) -> policy_bundle.Bundle:
    modules = dict(modules) if modules is not None else policy_compiler.rego_modules()
    inputs = tuple(
        policy_compiler.canonical_json(covenants[cid].model_dump(mode="json"))
        for cid in sorted(covenants)
    ) + tuple(f"{name}\0{modules[name]}".encode() for name in sorted(modules))
    if inputs not in _bundle_files:
        built = policy_bundle.build_bundle(covenants, key, modules)
        unsigned = {n: c for n, c in built.files.items() if n != ".signatures.json"}
        _bundle_files[inputs] = (built.revision, built.data, unsigned)
        return built
    revision, data, unsigned = _bundle_files[inputs]
    files = dict(unsigned)
    public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    signature = _signatures.get((inputs, public))
    if signature is None:
        signature = _signatures[(inputs, public)] = policy_bundle._sign(files, key)
    files[".signatures.json"] = signature
    return policy_bundle.Bundle(revision=revision, modules=modules, data=data, files=files)


policy_bundle._file_hash = _file_hash_once
policy_wiring.build_bundle = _bundle_compiled_once


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings) -> TokenFactory:
    """``token("u-centraal", "casemanager", user="cm-1")``: a fresh single-use dev token."""

    def make(partner: str, role: str, *, user: str | None = None, lifetime: int = 300) -> str:
        return mint_dev_token(
            settings, partner_id=partner, role=role, user=user, lifetime_seconds=lifetime
        )

    return make


@pytest.fixture
def auth(token: TokenFactory) -> Callable[..., dict[str, str]]:
    """``auth("u-centraal", "casemanager")``: an Authorization header with a fresh token."""

    def make(partner: str, role: str, *, user: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(partner, role, user=user)}"}

    return make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests ran against PostgreSQL (CI must show the PostgreSQL run)."""
    outcomes = ("passed", "failed", "error", "skipped")
    counts = {
        outcome: sum(
            1
            for report in terminalreporter.stats.get(outcome, [])
            if "postgresql" in getattr(report, "nodeid", "")
        )
        for outcome in outcomes
    }
    url = make_url(PG_URL).render_as_string(hide_password=True)
    terminalreporter.write_line(
        f"PostgreSQL ({url}): {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['error']} errors, {counts['skipped']} skipped"
    )
    # Summaries a test recorded for the reader (record_property("summary", ...)), e.g. the
    # proportions of the policy differential test; they travel back from xdist workers.
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", []):
                if name == "summary" and getattr(report, "when", "") == "call":
                    terminalreporter.write_line(str(value))


# -- no test leaves a background job running ---------------------------------------------
#
# A job outliving its test (a gateway built and never closed) keeps working on a database
# the fixtures have dropped, logging tracebacks into other tests. Jobs started while a
# fixture of wider scope was set up (a module's live server) may live as long as it; any
# other job still running once its test's teardown is done fails that test.

_scoped_jobs: dict[str, set[int]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object]) -> Iterator[object]:
    from gateway.core.jobs import running_jobs

    before = {id(job) for job in running_jobs()}
    result = yield
    if fixturedef.scope != "function":
        started = {id(job) for job in running_jobs()} - before
        _scoped_jobs.setdefault(fixturedef.scope, set()).update(started)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    from gateway.core.jobs import running_jobs

    yield
    if nextitem is None or nextitem.module is not getattr(item, "module", None):
        _scoped_jobs.pop("module", None)  # their fixtures have been torn down by now
        _scoped_jobs.pop("class", None)
    allowed = set().union(*_scoped_jobs.values()) if _scoped_jobs else set()
    leaked = [job for job in running_jobs() if id(job) not in allowed]
    if leaked:
        for job in leaked:
            job.stop()  # so the next test starts clean
        names = ", ".join(sorted(job.name for job in leaked))
        pytest.fail(
            f"background jobs still running after the test: {names} "
            "(close every GatewayContext the test builds)",
            pytrace=False,
        )
