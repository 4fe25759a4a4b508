"""The covenant package's YAML parser: libyaml's safe loader, as safe as PyYAML's own."""

from __future__ import annotations

import pytest
import yaml

from gateway.core import yaml_text


def test_the_package_is_parsed_by_libyaml_where_pyyaml_has_it() -> None:
    # PyPI's PyYAML wheels carry libyaml; the pure-Python parser took ~0.4 s of every start.
    assert yaml.__with_libyaml__
    assert yaml_text.SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system",
        "value: !!python/object/new:dict {}",
    ],
)
def test_a_python_tag_is_refused_as_by_safe_load(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load(text)
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml_text.safe_load(text)


def test_plain_yaml_reads_as_safe_load_reads_it() -> None:
    text = "covenant: x\nlist: [1, 2.5, 'a', null, true]\ndate: 2026-12-06\nnested: {a: {b: c}}\n"
    assert yaml_text.safe_load(text) == yaml.safe_load(text)
    assert yaml_text.safe_load(text.encode()) == yaml.safe_load(text)
