"""NL API Design Rules: /v1, API-Version, problem+json for every error, OpenAPI with contact."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

# One rule for every route, pages included: tests/standards/test_path_parameters.py.
from tests.standards.test_path_parameters import CAMEL_CASE


def test_openapi_is_published_with_contact_and_semver(client: TestClient) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["api-version"] == "1.0.0"
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["info"]["contact"]) == {"name", "email", "url"}
    major, minor, patch = spec["info"]["version"].split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_every_path_is_versioned_kebab_case_without_trailing_slash(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json").json()
    # The major version is in the server's base URL; the paths are relative to it.
    assert [server["url"] for server in spec["servers"]] == ["/v1"]
    paths = spec["paths"]
    assert paths
    parameters = set()
    for path in paths:
        assert path.startswith("/"), path
        assert not path.startswith("/v1/"), path
        assert not path.endswith("/"), path
        for segment in path.split("/"):
            if segment.startswith("{"):
                assert segment.endswith("}"), path
                assert CAMEL_CASE.fullmatch(segment[1:-1]), path
                parameters.add(segment[1:-1])
                continue
            assert segment == segment.lower(), path
            assert "_" not in segment, path
    # The check saw the parameters it is about (a spec without any would pass it vacuously).
    assert {"caseId", "requestId"} <= parameters


def test_unknown_path_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.headers["api-version"] == "1.0.0"


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/v1/health/live")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Method not allowed"


def test_security_headers_on_every_response(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = client.get("/v1/me", headers=auth("u-centraal", "casemanager"))
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_readiness_reports_ok_when_database_reachable(client: TestClient) -> None:
    response = client.get("/v1/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["database"] == "ok"


def test_readiness_fails_closed_when_a_check_fails(client: TestClient) -> None:
    context = client.app.state.context  # type: ignore[attr-defined]
    context.readiness_checks["keys"] = lambda: "key provider unreachable"
    response = client.get("/v1/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"]["keys"] == "key provider unreachable"


def test_partners_lists_only_the_callers_covenant(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = client.get("/v1/partners", headers=auth("gemeente-rijswijk", "casemanager"))
    assert response.status_code == 200, response.text
    partners = response.json()
    assert partners
    assert {p["covenantId"] for p in partners} == {"rijswijk-woonoverlast"}
    assert "u-centraal" not in {p["id"] for p in partners}
