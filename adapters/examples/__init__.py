"""Fictional example exports, and a helper to bind their placeholder case references."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

EXAMPLES_DIR = Path(__file__).parent

#: The example file each adapter command ships with.
DEFAULT_EXAMPLES = {
    "police": "police.json",
    "corporation": "corporation.json",
    "neighbourhood-team": "neighbourhood-team.json",
    "municipality": "municipality.json",
}


def example_path(name: str) -> Path:
    path = EXAMPLES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"no example export {name!r} in {EXAMPLES_DIR}")
    return path


def write_example(name: str, destination: Path, references: Mapping[str, str]) -> Path:
    """Copy an example export with placeholder references (``UTR-DEMO-1``) replaced by
    the gateway's case references; returns ``destination``."""
    text = example_path(name).read_text(encoding="utf-8")
    # Longest first, so UTR-DEMO-1 never eats the start of a UTR-DEMO-10.
    for placeholder in sorted(references, key=len, reverse=True):
        text = text.replace(placeholder, references[placeholder])
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text, encoding="utf-8")
    return destination
