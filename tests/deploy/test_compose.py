"""docker-compose.yml must describe a stack that starts. No Docker engine runs here, so the
file is resolved by `docker-compose config` (Debian's docker-compose, no engine needed) and
what an engine would do with it is checked against the image's directory tree
(deploy/image-layout.sh), the database's connection limit and the secret handling."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
APP_UID = 10001
IMAGE = "ketenpoort"
# `db upgrade`, the `ketenpoort` tool service and cron-driven jobs (docs/operations.md).
RESERVED_FOR_COMMANDS = 10
# PostgreSQL keeps superuser_reserved_connections (default 3) out of everyone else's reach.
SUPERUSER_RESERVED = 3


def without_dependency_restarts(compose: dict[str, Any]) -> list[tuple[str, str]]:
    """Take ``restart`` out of every long-form ``depends_on`` entry, in place; the
    (service, dependency) pairs it was in.

    Debian's docker-compose (1.29) predates that key of the compose spec (Docker Compose
    2.17) and refuses the file with it, so the file is resolved without it;
    tests/deploy/test_compose_opa.py checks the key on the file as written."""
    taken = []
    for name, service in compose["services"].items():
        dependencies = service.get("depends_on") or {}
        if not isinstance(dependencies, dict):
            continue  # the short form (a list of names) has no options
        for dependency, condition in dependencies.items():
            if isinstance(condition, dict) and "restart" in condition:
                del condition["restart"]
                taken.append((name, dependency))
    return taken


def _compose_config(env_file: Path | None = None) -> dict[str, Any]:
    """The compose file as `docker-compose config` resolves it (anchors, merges, paths),
    with the variables of ``env_file`` as an operator's .env gives them."""
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose not installed (apt-get install docker-compose)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}; scripts/system-deps.sh installs it")
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETENPOORT_", "COMPOSE_"))}
    extra = ["--env-file", str(env_file)] if env_file is not None else []
    # The file as written, anchors and all, less what docker-compose 1.29 cannot read.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    without_dependency_restarts(compose)
    result = subprocess.run(
        [
            binary,
            "--project-directory",
            str(ROOT),
            "-f",
            "-",
            *extra,
            "config",
        ],
        input=yaml.safe_dump(compose),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = yaml.safe_load(result.stdout)
    return data


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The compose file as `docker-compose config` resolves it, without a .env."""
    return _compose_config()


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's directory tree, made by the script the Dockerfile runs."""
    if os.geteuid() != 0:
        pytest.skip("deploy/image-layout.sh sets owners (uid 10001): run as root, as CI does")
    root = tmp_path_factory.mktemp("image")
    subprocess.run(["sh", str(ROOT / "deploy" / "image-layout.sh"), str(root)], check=True)
    return root


def _gateway_services(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in resolved["services"].items()
        if service.get("command", [None])[0] == "serve"
    }


def test_compose_has_the_production_shape(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert {"db", "opa", "migrate", "policy-bundle", "gateway-1", "gateway-2"} <= set(services)
    assert len([name for name in services if name.startswith("adapter-")]) >= 4
    gateways = _gateway_services(resolved)
    assert sorted(gateways) == ["gateway-1", "gateway-2"]
    for service in gateways.values():
        env = service["environment"]
        assert env["KETENPOORT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["KETENPOORT_OPA_URL"] == "http://opa:8181"
        assert env["KETENPOORT_DEMO_MODE"] == "false"
        assert "--no-demo" in service["command"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert "/v1/health/ready" in " ".join(service["healthcheck"]["test"])


def test_every_image_is_pinned_to_a_version(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
        assert re.match(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a release"


def test_every_volume_the_image_writes_to_is_owned_by_its_user(
    resolved: dict[str, Any], layout: Path
) -> None:
    """A named volume takes the owner of the image directory it is first mounted on; a path
    missing from the image becomes a root-owned volume uid 10001 cannot write."""
    checked = 0
    for name, service in resolved["services"].items():
        if not service["image"].startswith(f"{IMAGE}:"):
            continue
        for mount in service.get("volumes", []):
            source, target, *options = mount.split(":")
            if source.startswith("/"):
                continue  # a bind mount of the repository (example exports), read-only
            path = layout / target.lstrip("/")
            assert path.is_dir(), f"{name}: {target} does not exist in the image"
            status = path.stat()
            assert status.st_uid == APP_UID, f"{name}: {target} is not owned by uid {APP_UID}"
            assert status.st_mode & 0o700 == 0o700, f"{name}: {target} is not writable"
            checked += 1
    assert checked >= 10


def test_secrets_come_from_mounted_files_never_from_the_environment(
    resolved: dict[str, Any],
) -> None:
    for name, service in resolved["services"].items():
        env = service.get("environment") or {}
        assert "POSTGRES_PASSWORD" not in env, name
        for variable, value in env.items():
            assert "PASSWORD" not in variable or variable.endswith("_FILE"), (name, variable)
            if variable.endswith("DATABASE_URL"):
                assert make_url(value).password is None, f"{name}: password in the URL"
            if variable.endswith("_FILE"):
                source = variable.removeprefix("KETENPOORT_").removeprefix("POSTGRES_")
                assert value.startswith("/run/secrets/"), (name, variable, source)
                secret = value.removeprefix("/run/secrets/")
                mounted = {entry["source"] for entry in service.get("secrets", [])}
                assert secret in mounted, f"{name}: {secret} is not mounted"
    assert "postgres-password" in resolved["secrets"]


def test_the_database_connection_budget_stays_within_postgres_limit(
    resolved: dict[str, Any],
) -> None:
    """replicas x workers x (pool + overflow) + commands <= max_connections - reserved."""
    db_command = resolved["services"]["db"]["command"]
    limit = int(
        next(arg.split("=", 1)[1] for arg in db_command if arg.startswith("max_connections="))
    )
    defaults = Settings.model_fields
    needed = RESERVED_FOR_COMMANDS
    for service in _gateway_services(resolved).values():
        command = service["command"]
        workers = int(command[command.index("--workers") + 1])
        env = service["environment"]
        pool = int(env.get("KETENPOORT_DB_POOL_SIZE", defaults["db_pool_size"].default))
        overflow = int(env.get("KETENPOORT_DB_MAX_OVERFLOW", defaults["db_max_overflow"].default))
        needed += workers * (pool + overflow)
    assert needed <= limit - SUPERUSER_RESERVED, f"{needed} connections > {limit} - reserved"


def test_compose_has_no_secrets_in_it() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "BEGIN PRIVATE KEY" not in text
    assert "POSTGRES_PASSWORD:" not in text
    assert "deploy/secrets/" in (ROOT / ".gitignore").read_text()


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"KETENPOORT_{name.upper()}" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def _networks(service: dict[str, Any]) -> set[str]:
    networks = service.get("networks") or {"default": None}
    return set(networks)


def test_opa_and_the_database_are_on_an_internal_network_of_the_gateways_only(
    resolved: dict[str, Any],
) -> None:
    """OPA has no authentication (its REST API can read its data and, but for the bundle's
    roots, replace the policy) and PostgreSQL is the store: only the gateways and their
    one-off jobs reach them, not the adapters or the witness (review6a, noticed). The
    positive control: the adapters and the witness still reach the gateways."""
    services = resolved["services"]
    assert resolved["networks"]["backend"]["internal"] is True
    assert _networks(services["db"]) == {"backend"}
    assert _networks(services["opa"]) == {"backend"}
    on_backend = {name for name, service in services.items() if "backend" in _networks(service)}
    assert on_backend == {
        "db",
        "opa",
        "gateway-1",
        "gateway-2",
        "migrate",
        "policy-bundle",
        "ketenpoort",
    }
    for name, service in services.items():
        if name.startswith(("adapter-", "witness-")):
            assert _networks(service) == {"frontend"}, name
            assert "frontend" in _networks(services["gateway-1"])
    for gateway in ("gateway-1", "gateway-2"):
        assert _networks(services[gateway]) == {"backend", "frontend"}
        assert services[gateway]["ports"]  # published through the non-internal network


def test_every_service_with_the_gateways_settings_gets_the_witnesses_from_env(
    resolved: dict[str, Any], tmp_path: Path
) -> None:
    """KETENPOORT_AUDIT_WITNESSES set in .env reaches the gateways, which sign the checkpoints
    and ask the witnesses to cosign them, and the one-off commands (review9c F3: it reached
    none, so the production shape's log stayed unwitnessed). Without it: an empty list."""
    witnesses = '["witness.partner.example/ketenpoort+1a2b3c4d+BAbc http://witness-partner:8009"]'
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"KETENPOORT_AUDIT_WITNESSES={witnesses}\nKETENPOORT_AUDIT_LOG_ORIGIN=x.example/log\n"
    )
    configured = _compose_config(env_file)["services"]
    with_settings = [
        name
        for name, service in configured.items()
        if "KETENPOORT_DATABASE_URL" in service.get("environment", {})
    ]
    assert {"gateway-1", "gateway-2", "migrate", "ketenpoort"} <= set(with_settings)
    for name in with_settings:
        env = configured[name]["environment"]
        assert env["KETENPOORT_AUDIT_WITNESSES"] == witnesses, name
        # Positive control: the .env is read at all (the origin came through before).
        assert env["KETENPOORT_AUDIT_LOG_ORIGIN"] == "x.example/log", name
        assert resolved["services"][name]["environment"]["KETENPOORT_AUDIT_WITNESSES"] == "[]"
    assert Settings(audit_witnesses=json.loads(witnesses)).audit_witnesses  # a value it reads


def test_the_witness_starts_without_a_manual_step_and_not_before_its_log_key(
    resolved: dict[str, Any],
) -> None:
    """The witness creates its key and state at its first start (``witness serve --name``, see
    tests/deploy/test_witness_first_start.py) and is in its own profile: a plain `docker
    compose up -d` does not start it before the log key exists, where it exited with code 2
    and restarted forever (review9c F3)."""
    (witness,) = [s for n, s in resolved["services"].items() if n.startswith("witness-")]
    assert witness["profiles"] == ["witness"]
    assert witness["command"][:2] == ["witness", "serve"]
    env = witness["environment"]
    assert env["KETENPOORT_WITNESS_NAME"]
    assert env["KETENPOORT_WITNESS_DIR"] == "/srv/witness"
    assert "KETENPOORT_WITNESS_LOGS" in env
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "witness init" not in compose  # no manual step left to run
    assert "--profile witness up" in compose


def test_only_services_that_listen_keep_a_healthcheck(resolved: dict[str, Any]) -> None:
    """The adapters poll the gateway and listen on no port: the image's HEALTHCHECK (port
    8000) would call them unhealthy forever (review9c F7), so theirs is off. The positive
    control: the gateways and the witness are still checked on their own ports."""
    services = resolved["services"]
    adapters = [name for name in services if name.startswith("adapter-")]
    assert len(adapters) >= 4
    for name in adapters:
        assert services[name]["healthcheck"] in ({"disable": True}, {"test": ["NONE"]}), name
    for name in ("gateway-1", "gateway-2"):
        assert "127.0.0.1:8000/v1/health/ready" in " ".join(services[name]["healthcheck"]["test"])
    (witness,) = [s for n, s in services.items() if n.startswith("witness-")]
    assert "127.0.0.1:8009" in " ".join(witness["healthcheck"]["test"])
