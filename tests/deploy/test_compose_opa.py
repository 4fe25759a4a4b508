"""The compose OPA loads the gateway's signed bundle. No Docker engine and no ``opa`` binary
run here, so the ``opa`` service of docker-compose.yml is read and its command line is
checked against OPA's documented ``opa run`` options and against what the gateway really
builds: the signing algorithm and key id in a freshly built bundle's signature, the files
``ketenpoort policy build`` writes and the volume OPA reads them from. The health check's
query is evaluated by OPA's own Go evaluator against a health endpoint on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy import opa_go
from gateway.policy.bundle import (
    BUNDLE_FILE,
    KEY_ID,
    SIGNING_ALGORITHM,
    VERIFICATION_KEY_FILE,
    build_bundle,
)
from gateway.policy.covenant import load_covenants
from tests.deploy.test_compose import without_dependency_restarts
from tests.policy.conftest import require_engine

ROOT = Path(__file__).resolve().parents[2]

#: ``opa run``'s options as OPA's CLI reference documents them (openpolicyagent.org/docs,
#: "CLI", ``opa run``; OPA v1), name -> None for a switch, "" for a free value, or the
#: values it accepts. Only options of that list may appear in the compose command.
OPA_RUN_OPTIONS: dict[str, tuple[str, ...] | str | None] = {
    "--addr": "", "--authentication": ("token", "tls", "off"),
    "--authorization": ("basic", "off"), "--bundle": None, "--config-file": "",
    "--diagnostic-addr": "", "--disable-telemetry": None, "--exclude-files-verify": "",
    "--format": "", "--h2c": None, "--history": "", "--ignore": "",
    "--log-format": ("text", "json", "json-pretty"), "--log-level": ("debug", "info", "error"),
    "--log-timestamp-format": "", "--max-errors": "", "--min-tls-version": "",
    "--pprof": None, "--ready-timeout": "", "--scope": "", "--server": None, "--set": "",
    "--set-file": "", "--shutdown-grace-period": "", "--shutdown-wait-period": "",
    # RS256 is the default; OPA verifies the RS*, PS*, ES* and HS* families.
    "--signing-alg": (
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
    ),
    "--skip-known-schema-check": None, "--skip-verify": None, "--tls-ca-cert-file": "",
    "--tls-cert-file": "", "--tls-cert-refresh-period": "", "--tls-cipher-suites": "",
    "--tls-private-key-file": "", "--unix-socket-perm": "", "--v0-compatible": None,
    "--verification-key": "", "--verification-key-id": "", "--watch": None,
}  # fmt: skip
#: ``opa eval``'s options the health check uses (same reference, ``opa eval``).
OPA_EVAL_OPTIONS = {"--fail"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.fixture(scope="module")
def opa_service(compose: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"]["opa"]
    return service


def _options(command: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """``--name=value`` and ``--switch`` options, and the positional arguments."""
    options: dict[str, str | None] = {}
    positional: list[str] = []
    for argument in command:
        if argument.startswith("--"):
            name, _, value = argument.partition("=")
            options[name] = value if "=" in argument else None
        else:
            positional.append(argument)
    return options, positional


def test_opa_runs_as_a_server_with_documented_options_only(opa_service: dict[str, Any]) -> None:
    command = opa_service["command"]
    assert command[0] == "run"
    options, positional = _options(command[1:])
    for name, value in options.items():
        assert name in OPA_RUN_OPTIONS, f"{name} is not an option of opa run"
        allowed = OPA_RUN_OPTIONS[name]
        if allowed is None:
            assert value is None, f"{name} is a switch"
        else:
            assert value, f"{name} needs a value (--name=value)"
            if isinstance(allowed, tuple):
                assert value in allowed, f"{name}={value}"
    assert "--server" in options
    assert "--skip-verify" not in options


def test_opa_verifies_the_bundle_as_the_gateway_signs_it(opa_service: dict[str, Any]) -> None:
    options, positional = _options(opa_service["command"][1:])
    # Without --signing-alg OPA verifies RS256 and refuses the gateway's ES256 bundle.
    assert options["--signing-alg"] == SIGNING_ALGORITHM == "ES256"
    assert options["--verification-key-id"] == KEY_ID
    # A bundle the gateway builds is signed exactly so: algorithm and key id in the header,
    # key id in the claims (which OPA compares with --verification-key-id).
    key = ec.generate_private_key(ec.SECP256R1())
    signatures = json.loads(build_bundle(load_covenants(), key).files[".signatures.json"])
    token = signatures["signatures"][0]
    assert jwt.get_unverified_header(token)["alg"] == options["--signing-alg"]
    assert jwt.get_unverified_header(token)["kid"] == options["--verification-key-id"]
    claims = jwt.decode(token, key.public_key(), algorithms=[options["--signing-alg"] or ""])
    assert claims["keyid"] == options["--verification-key-id"]


def test_opa_reads_the_bundle_policy_build_writes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    options, positional = _options(services["opa"]["command"][1:])
    assert "--bundle" in options  # verification needs bundle mode
    mount = _mount(services["opa"], "bundles")
    assert mount.endswith(":ro")
    opa_dir = mount.split(":")[1]
    assert positional == [f"{opa_dir}/{BUNDLE_FILE}"]
    # `ketenpoort policy build --out <dir>` writes the bundle into that volume.
    builder = services["policy-bundle"]
    out = builder["command"][builder["command"].index("--out") + 1]
    assert _mount(builder, "bundles").split(":")[1] == out
    assert builder["command"][:2] == ["policy", "build"]


def test_opas_verification_key_is_out_of_the_bundle_writers_reach(
    compose: dict[str, Any],
) -> None:
    """OPA's key is a config from a host file written once at install, mounted read-only,
    not a file in the `bundles` volume: whoever wrote that volume replaced the bundle and
    the key together (OPA path review M1: a tampered policy verified with a key placed
    beside it). No service mounts the config but OPA, and the key file is git-ignored."""
    services = compose["services"]
    options, _ = _options(services["opa"]["command"][1:])
    key_path = options["--verification-key"] or ""
    (config,) = services["opa"]["configs"]
    assert key_path == config["target"]
    assert PurePosixPath(key_path).name == VERIFICATION_KEY_FILE
    source = compose["configs"][config["source"]]
    assert set(source) == {"file"}  # a host file, not one a container writes
    assert source["file"].startswith("./deploy/secrets/")
    assert "deploy/secrets/" in (ROOT / ".gitignore").read_text()
    # No volume of OPA holds the key: its volumes are read-only, and the key is not under
    # any of their mount points.
    for mount in services["opa"]["volumes"]:
        assert mount.endswith(":ro")
        target = PurePosixPath(mount.split(":")[1])
        assert target not in PurePosixPath(key_path).parents
    for name, service in services.items():
        if name != "opa":
            assert "configs" not in service, name


def test_opa_restarts_when_compose_reruns_the_bundle_job(compose: dict[str, Any]) -> None:
    """OPA reads its bundle only at start. Without `restart: true` a `docker compose up -d`
    that re-ran `policy-bundle` (a new image) left OPA on the old bundle: every decision 503
    until someone restarted it (OPA path review H1/M2). No --watch instead: OPA's file
    watcher reloads a changed bundle without verifying its signature."""
    dependency = compose["services"]["opa"]["depends_on"]["policy-bundle"]
    assert dependency == {"condition": "service_completed_successfully", "restart": True}
    options, _ = _options(compose["services"]["opa"]["command"][1:])
    assert "--watch" not in options


def test_only_the_opa_dependency_carries_an_option_docker_compose_1_cannot_read(
    compose: dict[str, Any],
) -> None:
    """tests/deploy/test_compose.py resolves the file without `restart` in `depends_on`
    (docker-compose 1.29 refuses it): that is all it takes out."""
    copy = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert without_dependency_restarts(copy) == [("opa", "policy-bundle")]
    assert "restart" not in copy["services"]["opa"]["depends_on"]["policy-bundle"]


def _mount(service: dict[str, Any], volume: str) -> str:
    mounts = [m for m in service["volumes"] if m.split(":")[0] == volume]
    assert len(mounts) == 1, service["volumes"]
    return str(mounts[0])


def _kubernetes_opa() -> dict[str, Any]:
    """The OPA sidecar of the gateway Deployment (deploy/kubernetes/gateway.yaml)."""
    documents = yaml.safe_load_all((ROOT / "deploy/kubernetes/gateway.yaml").read_text())
    (deployment,) = [d for d in documents if d and d["kind"] == "Deployment"]
    (sidecar,) = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "opa"
    ]
    return sidecar  # type: ignore[no-any-return]


def test_opa_image_is_pinned_to_the_release_the_tests_decide_with(
    opa_service: dict[str, Any],
) -> None:
    """Compose's OPA and the Kubernetes sidecar both run the OPA release whose Go evaluator
    the tests decide with (review6a F4: the sidecar ran 1.20.0, untested)."""
    require_engine("opa-go")
    version = opa_go.opa_version()
    assert version is not None
    expected = f"openpolicyagent/opa:{version.removeprefix('v')}"
    assert opa_service["image"] == expected
    assert _kubernetes_opa()["image"] == expected


def test_the_kubernetes_sidecar_runs_as_compose_does_without_telemetry(
    opa_service: dict[str, Any],
) -> None:
    """The same ``opa run`` options (every one documented), telemetry off in both; only the
    addresses differ: the sidecar's API listens on the pod's loopback (the gateway's
    KETENPOORT_OPA_URL), its probes ask a read-only diagnostic listener (OPA path review L3:
    the API listened on 0.0.0.0)."""
    sidecar, _ = _options(_kubernetes_opa()["args"][1:])
    composed, _ = _options(opa_service["command"][1:])
    assert set(sidecar) <= set(OPA_RUN_OPTIONS)
    assert "--disable-telemetry" in sidecar
    assert "--disable-telemetry" in composed
    addresses = {"--addr", "--diagnostic-addr"}
    assert {k: v for k, v in sidecar.items() if k not in addresses} == {
        k: v for k, v in composed.items() if k not in addresses
    }
    assert sidecar["--addr"] == "127.0.0.1:8181"
    assert _kubernetes_setting("KETENPOORT_OPA_URL") == "http://127.0.0.1:8181"
    health_port = int((sidecar["--diagnostic-addr"] or "").rsplit(":", 1)[1])
    probes = [_kubernetes_opa()[probe]["httpGet"] for probe in ("readinessProbe", "livenessProbe")]
    ports = {p["name"]: p["containerPort"] for p in _kubernetes_opa()["ports"]}
    assert [ports[probe["port"]] for probe in probes] == [health_port, health_port]
    assert 8181 not in ports.values()  # nothing outside the pod asks the API


def _kubernetes_setting(name: str) -> str:
    documents = yaml.safe_load_all((ROOT / "deploy/kubernetes/configmap.yaml").read_text())
    (settings,) = [d for d in documents if d and d["metadata"]["name"] == "ketenpoort-settings"]
    return str(settings["data"][name])


def test_the_kubernetes_sidecar_takes_its_key_from_a_configmap_not_the_bundle_volume() -> None:
    """As in compose (M1): the init container writes the bundle into the `bundles` emptyDir;
    the key comes from a ConfigMap made once at install, which the pod cannot write."""
    sidecar = _kubernetes_opa()
    options, positional = _options(sidecar["args"][1:])
    key_path = PurePosixPath(options["--verification-key"] or "")
    mounts = {m["name"]: m for m in sidecar["volumeMounts"]}
    assert all(m.get("readOnly") is True for m in mounts.values())
    (holding,) = [m for m in mounts.values() if PurePosixPath(m["mountPath"]) in key_path.parents]
    assert holding["name"] != "bundles"
    assert PurePosixPath(positional[0]).parent == PurePosixPath(mounts["bundles"]["mountPath"])
    documents = yaml.safe_load_all((ROOT / "deploy/kubernetes/gateway.yaml").read_text())
    (deployment,) = [d for d in documents if d and d["kind"] == "Deployment"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    config_map = volumes[holding["name"]]["configMap"]
    assert config_map["name"] == "ketenpoort-policy-bundle-verification-key"
    assert config_map["items"] == [{"key": VERIFICATION_KEY_FILE, "path": key_path.name}]
    # The init container that builds the bundle does not mount it.
    init = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["initContainers"]}
    assert holding["name"] not in {m["name"] for m in init["policy-bundle"]["volumeMounts"]}


def test_opa_api_is_not_reachable_from_outside_the_compose_network(
    compose: dict[str, Any], opa_service: dict[str, Any]
) -> None:
    assert "ports" not in opa_service
    assert "network_mode" not in opa_service
    options, _ = _options(opa_service["command"][1:])
    port = (options["--addr"] or "").rsplit(":", 1)[1]
    for name, service in compose["services"].items():
        if name.startswith("gateway-"):
            assert service["environment"]["KETENPOORT_OPA_URL"] == f"http://opa:{port}"


def test_gateways_wait_for_a_healthy_opa(compose: dict[str, Any]) -> None:
    gateways = [s for n, s in compose["services"].items() if n.startswith("gateway-")]
    assert len(gateways) >= 2
    for gateway in gateways:
        assert gateway["depends_on"]["opa"]["condition"] == "service_healthy"


def test_opa_health_check_asks_the_health_api_for_activated_bundles(
    opa_service: dict[str, Any],
) -> None:
    check = opa_service["healthcheck"]
    test = check["test"]
    assert test[:3] == ["CMD", "/opa", "eval"]  # the image's own binary: no shell in it
    options = [a for a in test[3:-1] if a.startswith("--")]
    assert set(options) <= OPA_EVAL_OPTIONS
    assert "--fail" in options  # an undefined result (status not 200) exits non-zero
    run_options, _ = _options(opa_service["command"][1:])
    port = (run_options["--addr"] or "").rsplit(":", 1)[1]
    assert f"http://127.0.0.1:{port}/health?bundles" in test[-1]


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the handler's API
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(self.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def health_server(request: pytest.FixtureRequest) -> Iterator[http.server.HTTPServer]:
    handler = type("Handler", (_Health,), {"status": request.param})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("health_server", "healthy"), [(200, True), (500, False)],
                         indirect=["health_server"])  # fmt: skip
def test_health_check_query_is_true_only_when_opa_answers_200(
    opa_service: dict[str, Any], health_server: http.server.HTTPServer, healthy: bool
) -> None:
    require_engine("opa-go")
    from opa_bindings import OpaEngine

    port = health_server.server_address[1]
    query = opa_service["healthcheck"]["test"][-1].replace(":8181/", f":{port}/")
    results = OpaEngine().eval_query(query)
    # `opa eval --fail` exits non-zero when the query has no result (a defined false, as a
    # lone comparison gives, would pass).
    assert bool(results) is healthy
    assert health_server.paths == ["/health?bundles"]  # type: ignore[attr-defined]


def test_health_check_query_fails_when_nothing_listens(opa_service: dict[str, Any]) -> None:
    require_engine("opa-go")
    from opa_bindings import OpaEngine, OpaError

    query = opa_service["healthcheck"]["test"][-1].replace(":8181/", ":9/")
    with pytest.raises(OpaError, match="connection refused"):
        OpaEngine().eval_query(query)  # an error: `opa eval` exits non-zero
