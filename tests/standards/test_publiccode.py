"""publiccode.yml (Standard for Public Code, developer.overheid.nl) is valid against the
standard's core schema (publiccode.schema.json, transcribed from the standard; see its
$comment for what it does not check)."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from gateway.app import create_app
from gateway.config import Settings

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "publiccode.schema.json").read_text("utf-8"))


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.Draft202012Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def publiccode() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "publiccode.yml").read_text("utf-8"))
    return loaded


def test_publiccode_yml_is_valid_against_the_standards_schema(
    publiccode: dict[str, Any],
) -> None:
    assert _errors(publiccode) == []


def test_publiccode_yml_says_what_the_project_says_of_itself(
    publiccode: dict[str, Any], tmp_path: Path
) -> None:
    """One source of truth: the license and version are those of pyproject and the API."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == publiccode["legal"]["license"]  # an SPDX expression (PEP 639)
    assert project["version"] == publiccode["softwareVersion"]
    info = create_app(Settings(data_dir=tmp_path)).openapi()["info"]
    assert info["license"]["name"] == publiccode["legal"]["license"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.pop("maintenance"), "maintenance"),
        (lambda d: d.update(developmentStatus="done"), "developmentStatus"),
        (lambda d: d.update(categories=["woonoverlast"]), "categories/0"),
        (lambda d: d["maintenance"].pop("contacts"), "contacts"),
        (lambda d: d["description"]["en"].update(shortDescription="x" * 151), "shortDescription"),
        (lambda d: d.update(releaseDate="2 December 2026"), "releaseDate"),
    ],
)
def test_the_schema_refuses_what_the_standard_does_not_allow(
    publiccode: dict[str, Any], change: Any, complaint: str
) -> None:
    broken = copy.deepcopy(publiccode)
    change(broken)
    errors = _errors(broken)
    assert errors
    assert any(complaint in error for error in errors), errors
