"""The published OpenAPI passes the Logius NL API Design Rules linter with 0 errors.

Every route anyone adds is linted too: a failure names the rule and the JSON path of each
finding (``#/paths/~1cases~1{caseId}/get/responses/200``), so it says what to fix.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.core.openapi import conform
from tests.standards.spectral import lint


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document the gateway serves at /v1/openapi.json (no database needed for it)."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))
    return app.openapi()


def test_openapi_has_no_nl_api_design_rules_errors(
    document: dict[str, Any], tmp_path: Path
) -> None:
    findings = lint(document, tmp_path)
    errors = [finding for finding in findings if finding.severity == "error"]
    assert not errors, (
        f"the NL API Design Rules linter finds {len(errors)} errors in /v1/openapi.json "
        "(fix the route or schema, not the ruleset):\n" + "\n".join(map(str, findings))
    )


def test_linter_names_the_rule_and_path_of_each_place_the_rules_are_broken(
    document: dict[str, Any], tmp_path: Path
) -> None:
    """The check can fail: the same document with one response's headers removed and one
    date's format hidden in an anyOf, the two forms the gateway published before."""
    broken = copy.deepcopy(document)
    del broken["paths"]["/reports"]["post"]["responses"]["200"]["headers"]
    source_date = broken["components"]["schemas"]["RetentionStateOut"]["properties"]["sourceDate"]
    source_date.clear()
    source_date["anyOf"] = [{"type": "string", "format": "date"}, {"type": "null"}]
    errors = sorted(str(f) for f in lint(broken, tmp_path) if f.severity == "error")
    assert len(errors) == 2, errors
    assert errors[0].startswith(
        "error nlgov:missing-header at #/paths/~1reports/post/responses/200: "
    )
    assert errors[1].startswith(
        "error nlgov:specify-format-for-date-and-time at "
        "#/components/schemas/RetentionStateOut/properties/sourceDate: "
    )


def test_every_operation_documents_the_api_version_header_on_every_response(
    document: dict[str, Any],
) -> None:
    header = document["components"]["headers"]["API-Version"]
    assert header["required"] is True
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                assert "API-Version" in response.get("headers", {}), (path, method, status)


def test_paths_are_relative_to_a_server_url_with_the_major_version(
    document: dict[str, Any],
) -> None:
    assert document["servers"] == [{"url": "/v1", "description": "this gateway"}]
    assert "/cases/{caseId}/retention" in document["paths"]
    assert not [path for path in document["paths"] if path.startswith("/v1")]


def test_register_report_documents_both_answers_joined_200_and_opened_201(
    document: dict[str, Any],
) -> None:
    responses = document["paths"]["/reports"]["post"]["responses"]
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/IntakeResult"}


def test_retention_paths_take_the_case_id_with_the_id_pattern_of_every_case_path(
    document: dict[str, Any],
) -> None:
    case_paths = [path for path in document["paths"] if "{caseId}" in path]
    retention = [path for path in case_paths if "/retention" in path]
    assert len(retention) == 5
    for path in case_paths:
        for method, operation in document["paths"][path].items():
            (parameter,) = [p for p in operation["parameters"] if p["name"] == "caseId"]
            assert parameter["schema"]["pattern"] == "^[A-Za-z0-9-]+$", (path, method)
            assert parameter["schema"]["maxLength"] == 36, (path, method)
    assert not [path for path in document["paths"] if "{case_id}" in path]


def test_a_nullable_date_keeps_its_format_beside_the_type() -> None:
    document = {
        "paths": {},
        "components": {
            "schemas": {
                "X": {
                    "properties": {
                        "on": {
                            "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                            "title": "On",
                        },
                        "kind": {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]},
                        "ref": {"anyOf": [{"$ref": "#/components/schemas/Y"}, {"type": "null"}]},
                    }
                }
            }
        },
    }
    properties = conform(document, base_path="/v1")["components"]["schemas"]["X"]["properties"]
    assert properties["on"] == {"type": ["string", "null"], "format": "date", "title": "On"}
    # An enum or a reference does not accept null beside it: those keep their anyOf.
    assert "anyOf" in properties["kind"]
    assert "anyOf" in properties["ref"]


def test_a_route_outside_the_versioned_base_path_cannot_be_published() -> None:
    with pytest.raises(ValueError, match="/health is published but not under"):
        conform({"paths": {"/health": {}}}, base_path="/v1")
