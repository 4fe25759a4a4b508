"""docker-compose.yml must stay a valid production description (no Docker engine runs here,
so its structure is checked the way `docker compose config` would resolve it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_has_the_production_shape() -> None:
    services = _compose()["services"]
    assert {"db", "opa", "gateway-1", "gateway-2"} <= set(services)
    adapters = {name for name in services if name.startswith("adapter-")}
    assert len(adapters) >= 4
    for replica in ("gateway-1", "gateway-2"):
        env = services[replica]["environment"]
        assert env["KETENPOORT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["KETENPOORT_OPA_URL"] == "http://opa:8181"
        assert env["KETENPOORT_DEMO_MODE"] == "false"


def test_compose_references_resolve() -> None:
    compose = _compose()
    services = compose["services"]
    volumes = set(compose.get("volumes", {}))
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        depends = service.get("depends_on", [])
        for dependency in depends if isinstance(depends, list) else depends.keys():
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"


def test_compose_has_no_secrets_in_it() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert "BEGIN PRIVATE KEY" not in text


def test_readme_documents_every_setting() -> None:
    from gateway.config import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [
        name for name in Settings.model_fields if f"KETENPOORT_{name.upper()}" not in readme
    ]
    assert not missing, f"settings missing from README.md: {missing}"
