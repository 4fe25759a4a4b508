"""YAML from the covenant package, parsed by libyaml when PyYAML was built with it.

The covenant, workflow and retention files are read at every start (and by every test that
builds a gateway). PyYAML's pure-Python parser spent about 0.4 s of a start on them; the
same library's libyaml binding (``CSafeLoader``, in PyPI's wheels) builds the same nodes and
objects with the same safe constructor in a fraction of that. Where PyYAML was built without
libyaml the pure-Python ``SafeLoader`` is used: the same YAML, only slower.
"""

from __future__ import annotations

from typing import Any

import yaml

#: The safe loader: libyaml's when available, PyYAML's own otherwise.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """``yaml.safe_load`` with :data:`SafeLoader`."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader, as safe_load's
