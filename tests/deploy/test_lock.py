"""requirements.lock pins every run-time dependency exactly, with hashes, inside the ranges
pyproject.toml declares; the Dockerfile installs it with --require-hashes and CI (make) uses
it as constraints, so the image runs what CI tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def _pins() -> dict[str, tuple[Version, int]]:
    """name -> (version, number of hashes) for every requirement in the lock."""
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            hashes = len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block))
            pins[canonicalize_name(match[1])] = (Version(match[2]), hashes)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["hsm"]
    return [Requirement(line) for line in lines]


def test_every_runtime_dependency_is_pinned_within_its_declared_range() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock (make lock)"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}: locked {version} is outside {requirement.specifier}"
        )


def test_every_pin_carries_hashes_and_the_lock_names_no_machine_paths() -> None:
    pins = _pins()
    assert len(pins) >= len(_declared())
    assert all(hashes >= 1 for _, hashes in pins.values())
    text = LOCK.read_text()
    assert "--index-url" not in text
    assert "--find-links" not in text
    assert "file://" not in text


def test_the_policy_engine_is_pinned_exactly_in_pyproject() -> None:
    """gordon-to-regorus is one maintainer's fork (docs/policy.md): no silent upgrade."""
    engine = next(r for r in _declared() if r.name == "gordon-to-regorus")
    assert str(engine.specifier).startswith("==")
    assert engine.specifier.contains(_pins()["gordon-to-regorus"][0])


def test_the_image_and_ci_install_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    assert "-r /tmp/requirements.lock" in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert "requirements.lock" in makefile
    assert "-c $(VENV)/constraints.txt -e '.[test]'" in makefile
