"""Every deployment names its own token audience (review8d, suspicion S3).

A partner's token names the gateway it is for (``aud``). Two deployments left at the default
``ketenpoort`` (the police are in both covenants, with one key) accept each other's tokens, and
the jti store that stops a replay is each deployment's own: a token spent at one is accepted
once more at the other. Outside demo mode the gateway now refuses to start with the default or
a ``replace-with-...`` placeholder, which the deployment files carry until the operator sets
it (docs/operations.md). Demo mode keeps the default (its tokens come from its own development
issuer). The positive controls: a named audience starts and serves, and the deployment files
hand the adapters the gateways' own setting.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway.config import EXAMPLE_AUDIENCE, Settings, token_audience_problem
from gateway.context import build_context
from tests.cli.test_commands import _serve
from tests.deploy.test_audit_log_origin import _settings

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "replace-with-this-deployments-name"
ORIGIN = "ketenpoort.utrecht.nl/audit-log"


@pytest.mark.parametrize("audience", [EXAMPLE_AUDIENCE, PLACEHOLDER])
def test_the_gateway_refuses_to_start_outside_demo_mode_on_the_default_audience(
    tmp_path: Path, database_url: str, audience: str
) -> None:
    settings = _settings(
        tmp_path, database_url, demo_mode=False, audit_log_origin=ORIGIN, audience=audience
    )
    with pytest.raises(ValueError, match="KETENPOORT_AUDIENCE") as refused:
        build_context(settings)
    assert "docs/operations.md" in str(refused.value)
    # The positive control: this deployment's own audience starts.
    named = _settings(
        tmp_path,
        database_url,
        demo_mode=False,
        audit_log_origin=ORIGIN,
        audience="ketenpoort.utrecht.nl",
    )
    build_context(named).close()


def test_demo_mode_keeps_the_default_audience(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url, demo_mode=True)
    assert settings.audience == EXAMPLE_AUDIENCE
    assert token_audience_problem(settings) is None
    build_context(settings).close()


@pytest.mark.parametrize("audience", [EXAMPLE_AUDIENCE, PLACEHOLDER])
def test_serve_refuses_the_default_audience_outside_demo_mode_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, audience: str
) -> None:
    refused = _serve(monkeypatch, tmp_path, "--no-demo", KETENPOORT_AUDIENCE=audience)
    assert refused.exit_code == 1, refused.output
    assert "KETENPOORT_AUDIENCE" in refused.output
    assert "ketenpoort.utrecht.nl" in refused.output  # says what to set
    assert not (tmp_path / "data").exists()  # before anything was made
    # The positive control: a named audience serves.
    named = _serve(monkeypatch, tmp_path, "--no-demo", KETENPOORT_AUDIENCE="kp.rijswijk.nl")
    assert named.exit_code == 0, named.output


def test_the_deployment_files_carry_a_placeholder_the_gateway_refuses() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    value = compose["x-gateway-env"]["KETENPOORT_AUDIENCE"]
    found = re.fullmatch(r"\$\{KETENPOORT_AUDIENCE:-([^}]+)\}", value)
    assert found, value  # the operator's setting (.env), else the placeholder
    # The adapters mint their tokens for the same audience (their --audience reads it).
    adapters = [name for name in compose["services"] if name.startswith("adapter-")]
    assert adapters
    for name in adapters:
        assert compose["services"][name]["environment"]["KETENPOORT_AUDIENCE"] == value, name
    config = yaml.safe_load((ROOT / "deploy/kubernetes/configmap.yaml").read_text())["data"]
    for placeholder in (found.group(1), config["KETENPOORT_AUDIENCE"]):
        assert placeholder == PLACEHOLDER
        problem = token_audience_problem(Settings(demo_mode=False, audience=placeholder))
        assert problem is not None
    operations = (ROOT / "docs/operations.md").read_text()
    assert operations.count("KETENPOORT_AUDIENCE") >= 2  # compose and Kubernetes
