"""Run the Logius NL API Design Rules ruleset with Spectral (the npm package pinned in
tools/spectral/package-lock.json) and read its findings.

Spectral is a Node.js program: ``scripts/system-deps.sh`` installs it under CI=true with
``npm ci --prefix tools/spectral``; elsewhere the tests that need it skip and say how to get it.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL_DIR = REPO / "tools" / "spectral"
RULESET = TOOL_DIR / "nl-api-design-rules.spectral.yaml"
SPECTRAL = TOOL_DIR / "node_modules" / ".bin" / "spectral"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MISSING = (
    "NL API Design Rules lint skipped: Spectral is not installed at {path}. Install it with "
    "`npm ci --prefix tools/spectral` (Node.js 18 or later), as scripts/system-deps.sh does "
    "under CI=true; with CI=true this test is required."
)
SEVERITIES = {0: "error", 1: "warning", 2: "info", 3: "hint"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        where = "/".join(part.replace("~", "~0").replace("/", "~1") for part in self.path)
        return f"{self.severity} {self.rule} at #/{where}: {self.message}"


def require_spectral() -> Path:
    """The Spectral executable; skips (or fails under CI) when it is not installed."""
    if not os.access(SPECTRAL, os.X_OK):
        message = MISSING.format(path=SPECTRAL.relative_to(REPO))
        if IN_CI:
            pytest.fail("CI=true but " + message, pytrace=False)
        pytest.skip(message)
    return SPECTRAL


def lint(document: dict[str, Any], workdir: Path) -> list[Finding]:
    """Every finding of the NL API Design Rules ruleset on ``document``."""
    spectral = require_spectral()
    target = workdir / "openapi.json"
    target.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run(
        [str(spectral), "lint", "--ruleset", str(RULESET), "--format", "json", "--quiet"]
        + [str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )
    try:
        raw = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        pytest.fail(f"Spectral printed no JSON (exit {result.returncode}): {result.stderr}")
    if result.returncode not in (0, 1) or not isinstance(raw, list):
        pytest.fail(f"Spectral failed (exit {result.returncode}): {result.stderr}")
    return [
        Finding(
            rule=item["code"],
            severity=SEVERITIES.get(item["severity"], str(item["severity"])),
            path=tuple(str(part) for part in item["path"]),
            message=item["message"],
        )
        for item in raw
    ]
