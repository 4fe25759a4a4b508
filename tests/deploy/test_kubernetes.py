"""deploy/kubernetes: every manifest valid against the Kubernetes schemas (kubernetes-validate
carries them offline, strict: no unknown fields), non-root and read-only everywhere, secrets
as files, the jobs as CronJobs with the in-process jobs off, OPA and the database internal,
and every command a container runs one the CLI has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.config import SECRET_FILE_SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes the manifests must run on (Haven follows the supported releases).
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
APP_UID = 10001
POSTGRES_MAX_CONNECTIONS = 100 - 3  # default max_connections minus superuser reserve
RESERVED_FOR_JOBS = 10


def _kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    return data


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in _kustomization()["resources"]:
        docs.extend(d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d)
    return docs


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _documents() if d["kind"] == kind]


def _settings_map() -> dict[str, str]:
    """The gateway's settings (the witness has a map of its own)."""
    (found,) = [d for d in _of_kind("ConfigMap") if d["metadata"]["name"] == "ketenpoort-settings"]
    data: dict[str, str] = found["data"]
    return data


def _uses_settings(container: dict[str, Any]) -> bool:
    sources = container.get("envFrom", [])
    return any(s.get("configMapRef", {}).get("name") == "ketenpoort-settings" for s in sources)


def _pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in _documents():
        name = doc["metadata"]["name"]
        if doc["kind"] in ("Deployment", "Job"):
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def _image(container: dict[str, Any]) -> str:
    """The image as kustomize renders it (the kustomization's images: entries)."""
    image: str = container["image"]
    for rule in _kustomization().get("images", []):
        if image == rule["name"]:
            return f"{rule.get('newName', image)}:{rule['newTag']}"
    return image


def test_the_kustomization_lists_every_manifest() -> None:
    files = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(_kustomization()["resources"]) == files


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    documents = _documents()
    assert len(documents) >= 12
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_a_wrong_field_fails_validation() -> None:
    """Negative control: the validator does look (strict mode rejects unknown fields)."""
    deployment = _of_kind("Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_pod_runs_non_root_read_only_without_privileges_or_api_token() -> None:
    checked = 0
    for name, spec in _pod_specs():
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == APP_UID, name
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, name
        for container in _containers(spec):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert security["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert security["capabilities"]["drop"] == ["ALL"], (name, container["name"])
            assert "memory" in container["resources"]["limits"], (name, container["name"])
            checked += 1
    assert checked >= 6


def test_every_image_is_pinned_to_a_release() -> None:
    for _, spec in _pod_specs():
        for container in _containers(spec):
            repository, _, tag = _image(container).rpartition(":")
            assert repository, container["image"]
            assert tag[:1].isdigit(), f"{container['image']} is not pinned (tag {tag!r})"


def test_secrets_are_mounted_as_files_never_passed_in_the_environment() -> None:
    settings = _settings_map()
    for name, spec in _pod_specs():
        for container in _containers(spec):
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, name
            for variable in container.get("env", []):
                assert "secretKeyRef" not in variable.get("valueFrom", {}), name
        secret_volumes = {v["name"] for v in spec["volumes"] if "secret" in v}
        for container in _containers(spec):
            if not _uses_settings(container):
                continue  # the witness: no database, no secret
            mounted = {m["name"]: m for m in container["volumeMounts"]}
            for volume in secret_volumes:
                assert mounted[volume].get("readOnly") is True, name
            path = settings["KETENPOORT_DATABASE_PASSWORD_FILE"]
            assert any(path.startswith(m["mountPath"] + "/") for m in mounted.values()), name
    # A secret setting appears only as its _FILE (the value lives in a Secret); the database
    # URL may stand in the map as long as it holds no password.
    assert make_url(settings["KETENPOORT_DATABASE_URL"]).password is None
    for name in SECRET_FILE_SETTINGS:
        if name != "database_url":
            assert f"KETENPOORT_{name.upper()}" not in settings, name


def test_every_setting_in_the_config_map_is_one_the_gateway_knows() -> None:
    known = {f"KETENPOORT_{name.upper()}" for name in Settings.model_fields}
    known |= {f"KETENPOORT_{name.upper()}_FILE" for name in SECRET_FILE_SETTINGS}
    # Not PROMETHEUS_MULTIPROC_DIR: serve makes its own (in /tmp, an emptyDir), and a job
    # given a directory that does not exist would fail at its first metric.
    unknown = set(_settings_map()) - known
    assert not unknown


def test_jobs_run_as_cron_jobs_and_the_replicas_run_none() -> None:
    settings = _settings_map()
    assert settings["KETENPOORT_AUDIT_CHECKPOINT_INTERVAL_SECONDS"] == "0"
    assert settings["KETENPOORT_RETENTION_SWEEP_INTERVAL_SECONDS"] == "0"
    assert settings["KETENPOORT_USED_TOKEN_PURGE_INTERVAL_SECONDS"] == "0"
    commands = {
        tuple(job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])
        for job in _of_kind("CronJob")
    }
    assert {("audit", "checkpoint"), ("retention", "run"), ("tokens", "purge")} <= commands
    for job in _of_kind("CronJob"):
        assert job["spec"]["concurrencyPolicy"] == "Forbid"


def test_every_command_a_container_runs_exists_in_the_cli() -> None:
    ran = 0
    for name, spec in _pod_specs():
        for container in _containers(spec):
            if container["image"] != "ketenpoort":
                continue
            result = CliRunner().invoke(cli, [*container["args"], "--help"])
            assert result.exit_code == 0, (name, container["args"], result.output)
            ran += 1
    assert ran >= 5


def _gateway_deployment() -> dict[str, Any]:
    (found,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "ketenpoort-gateway"]
    return found


def test_the_witness_keeps_its_state_on_its_own_volume_and_only_the_gateway_reaches_it() -> None:
    (witness,) = [
        d for d in _of_kind("Deployment") if d["metadata"]["name"] == "ketenpoort-witness"
    ]
    spec = witness["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["args"][:2] == ["witness", "serve"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in spec["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {"ketenpoort-witness-state"}  # never the gateway's keys or data
    assert witness["spec"]["replicas"] == 1
    policy = next(
        p for p in _of_kind("NetworkPolicy") if p["metadata"]["name"] == "witness-from-gateway"
    )
    (rule,) = policy["spec"]["ingress"]
    # The gateways, and the checkpoint CronJob: it signs the checkpoints and asks the
    # witnesses to cosign them (AuditLog.sign_checkpoint), in-process jobs being off.
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ketenpoort-gateway"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ketenpoort-audit-checkpoint"}}},
    ]
    checkpoint = next(
        c for c in _of_kind("CronJob") if c["metadata"]["name"] == "ketenpoort-audit-checkpoint"
    )
    template = checkpoint["spec"]["jobTemplate"]["spec"]["template"]
    assert template["spec"]["containers"][0]["args"] == ["audit", "checkpoint"]
    assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "ketenpoort-audit-checkpoint"


def test_the_gateway_is_probed_on_live_and_ready() -> None:
    deployment = _gateway_deployment()
    gateway = next(
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "gateway"
    )
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/v1/health/live"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/v1/health/ready"
    assert "--no-demo" in gateway["args"]


def test_network_policies_keep_opa_and_the_database_internal() -> None:
    policies = _of_kind("NetworkPolicy")
    default = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert default, "no default-deny policy"
    assert default[0]["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in default[0]["spec"]
    opened = {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for port in rule.get("ports", [])
    }
    assert 8181 not in opened  # OPA: only its own pod's gateway reaches it
    assert 8282 not in opened  # OPA's health listener: the kubelet's probes only
    database = next(
        p
        for p in policies
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
        == "postgresql"
    )
    (rule,) = database["spec"]["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"ketenpoort.nl/database-client": "true"}}}
    ]
    # Every pod that talks to the database carries the label the policy admits.
    for doc in _documents():
        if doc["kind"] in ("Deployment", "Job"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "CronJob":
            labels = doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        else:
            continue
        if doc["metadata"]["name"] == "ketenpoort-witness":
            assert "ketenpoort.nl/database-client" not in labels  # it never needs the database
            continue
        assert labels.get("ketenpoort.nl/database-client") == "true", doc["metadata"]["name"]


def _key(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _egress_policy() -> dict[str, Any]:
    (policy,) = [p for p in _of_kind("NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]]
    return policy


def _pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    labels: dict[str, str] = spec["template"]["metadata"]["labels"]
    return labels


def test_the_gateway_and_its_jobs_reach_only_dns_the_database_and_the_witness() -> None:
    """Egress is closed for the gateway pods and every job (those that talk to the database):
    once a policy of type Egress selects a pod, only what it lists leaves it."""
    policy = _egress_policy()
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector == {"ketenpoort.nl/database-client": "true"}
    selected = {
        doc["metadata"]["name"]
        for doc in _documents()
        if doc["kind"] in ("Deployment", "Job", "CronJob")
        and selector.items() <= _pod_labels(doc).items()
    }
    assert {
        "ketenpoort-gateway",
        "ketenpoort-audit-checkpoint",
        "ketenpoort-retention-sweep",
        "ketenpoort-token-purge",
    } <= selected
    assert "ketenpoort-witness" not in selected
    assert policy["spec"]["policyTypes"] == ["Egress"]
    allowed = {
        (_key(peer), port["protocol"], port["port"])
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        for port in rule["ports"]
    }
    dns = _key(
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    )
    database = _key({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}})
    witness = _key(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ketenpoort-witness"}}}
    )
    assert allowed == {
        (dns, "UDP", 53),
        (dns, "TCP", 53),
        (database, "TCP", 5432),
        (witness, "TCP", 8009),
    }
    # Every rule names its peers and ports: none is open to everywhere, no ipBlock 0.0.0.0/0.
    for rule in policy["spec"]["egress"]:
        assert rule.get("to"), rule
        assert rule.get("ports"), rule
    # The peers are what the settings point at: the database's Service port, the witness's.
    assert make_url(_settings_map()["KETENPOORT_DATABASE_URL"]).port == 5432
    (witness_service,) = [
        s for s in _of_kind("Service") if s["metadata"]["name"] == "ketenpoort-witness"
    ]
    assert witness_service["spec"]["ports"][0]["targetPort"] == "witness"
    witness_deployment = next(
        d for d in _of_kind("Deployment") if d["metadata"]["name"] == "ketenpoort-witness"
    )
    (container,) = witness_deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "witness", "containerPort": 8009} in container["ports"]
    # OPA is the sidecar on loopback: no egress rule names 8181.
    assert _settings_map()["KETENPOORT_OPA_URL"].startswith("http://127.0.0.1:")
    assert all(port != 8181 for _, _, port in allowed)


def test_operations_names_the_egress_rules() -> None:
    text = " ".join((ROOT / "docs" / "operations.md").read_text(encoding="utf-8").split())
    for word in ("gateway-egress", "kube-dns", "5432", "8009", "KETENPOORT_OIDC_ISSUER"):
        assert word in text, word


def test_the_connection_budget_fits_postgresql() -> None:
    deployment = _gateway_deployment()
    settings = _settings_map()
    gateway = next(
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "gateway"
    )
    workers = int(gateway["args"][gateway["args"].index("--workers") + 1])
    per_worker = int(settings["KETENPOORT_DB_POOL_SIZE"]) + int(
        settings["KETENPOORT_DB_MAX_OVERFLOW"]
    )
    # A rolling update runs maxSurge extra replicas next to the old ones.
    replicas = (
        deployment["spec"]["replicas"] + deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    )
    assert replicas * workers * per_worker + RESERVED_FOR_JOBS <= POSTGRES_MAX_CONNECTIONS


def test_the_witness_initialises_itself_and_the_gateway_has_a_witness_setting() -> None:
    """review9c F3: the documented `kubectl exec ... witness init` could not run, since the
    witness container exited at once on its empty volume; now its first start creates the
    key (KETENPOORT_WITNESS_NAME) and the gateways' map names KETENPOORT_AUDIT_WITNESSES."""
    (witness_map,) = [
        d for d in _of_kind("ConfigMap") if d["metadata"]["name"] == "ketenpoort-witness"
    ]
    assert witness_map["data"]["KETENPOORT_WITNESS_NAME"]
    assert witness_map["data"]["KETENPOORT_WITNESS_DIR"] == "/srv/witness"
    assert "witness init" not in (MANIFESTS / "witness.yaml").read_text()
    assert json.loads(_settings_map()["KETENPOORT_AUDIT_WITNESSES"]) == []
    (witness,) = [
        d for d in _of_kind("Deployment") if d["metadata"]["name"] == "ketenpoort-witness"
    ]
    (container,) = witness["spec"]["template"]["spec"]["containers"]
    sources = [s["configMapRef"]["name"] for s in container["envFrom"]]
    assert sources == ["ketenpoort-witness"]
