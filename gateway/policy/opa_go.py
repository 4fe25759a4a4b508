"""Open Policy Agent's own Go evaluator, in process: the reference the other engines answer to.

Production may decide on an OPA server (``KETENPOORT_OPA_URL``); no ``opa`` binary can be
installed where the tests run, so the test suite loads OPA's Go ``rego`` package itself,
from the PyPI package ``opa-golib-python-bindings`` (module ``opa_bindings``: OPA v1.20.2
built as a c-shared library, with a ctypes wrapper). Its metadata asks for Python >= 3.14
but the library and wrapper load on 3.11; ``make install-test`` installs it pinned by
version and hash with ``--ignore-requires-python`` (requirements/opa-go.txt, docs/policy.md).

Used by ``ketenpoort policy test`` and tests/policy (engine ``opa-go``), and by
bench/bench_policy.py. Not a production engine: the gateway decides on embedded regorus or
on an OPA server.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.policy.bundle import Bundle
from gateway.policy.engine import DECISION_RULE, DEFAULT_TIMEOUT_SECONDS, _Engine
from gateway.policy.errors import BundleError

#: The Python module of ``opa-golib-python-bindings``.
MODULE = "opa_bindings"
#: The distribution, for its version in reports.
DISTRIBUTION = "opa-golib-python-bindings"
_OPA_MODULE = re.compile(rb"open-policy-agent/opa@(v[0-9]+\.[0-9]+\.[0-9]+)/")


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None


@functools.cache
def opa_version() -> str | None:
    """The OPA release built into the shared library, from the Go module paths it embeds
    (``opa.runtime()`` is empty there): v1.20.2 for the pinned 0.4.4."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or spec.origin is None:
        return None
    library = Path(spec.origin).parent / "libopabridge.so"
    try:
        found = _OPA_MODULE.search(library.read_bytes())
    except OSError:
        return None
    return found.group(1).decode() if found else None


def describe() -> str:
    """For reports: which OPA this is."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "OPA (Go): not installed (make install-test)"
    return (
        f"OPA (Go) {opa_version() or 'of unknown version'}, the production OPA server's "
        f"evaluator ({DISTRIBUTION} {version})"
    )


class Undefined(LookupError):
    """The rule has no value for this input (OPA's undefined, not JSON null)."""


class OpaGo:
    """One OPA Go engine with the given modules and data; ``rule`` evaluates a ``data.``
    reference with a JSON input. Thread-safe: the wrapper serialises evaluations."""

    def __init__(self, modules: Mapping[str, str], data: Any) -> None:
        from opa_bindings import OpaEngine

        self._engine = OpaEngine()
        for name, text in sorted(modules.items()):
            self._engine.add_policy(name, text)
        self._engine.add_data(data)

    def rule(self, ref: str, input_document: Any) -> Any:
        """The value of ``ref`` (``data.x.y``); raises ``Undefined`` when it has none and
        ``opa_bindings.OpaError`` when OPA reports an error (compile, type, conflict)."""
        from opa_bindings import OpaUndefinedError

        if not ref.startswith("data."):
            raise ValueError(f"not a data reference: {ref}")
        try:
            return self._engine.eval_document(ref[len("data.") :], input_document)
        except OpaUndefinedError:
            raise Undefined(ref) from None

    def close(self) -> None:
        self._engine.close()


class OpaGoEngine(_Engine):
    """The policy decision on OPA's Go evaluator, through the same fail-closed ``decide``
    as the embedded engines."""

    name = "opa-go"

    def __init__(self, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout_seconds)
        self._opa: OpaGo | None = None

    def load(self, bundle: Bundle) -> None:
        try:
            opa = OpaGo(bundle.modules, bundle.data)
            opa.rule(DECISION_RULE, {})  # compiles and type-checks the bundle
        except Undefined:
            raise BundleError(f"{DECISION_RULE} is undefined on OPA") from None
        except Exception as exc:  # noqa: BLE001 - opa_bindings raises its own OpaError
            raise BundleError(f"bundle {bundle.revision} does not compile on OPA: {exc}") from None
        # The previous engine is closed when the last thread using it lets go (its __del__).
        self._opa = opa
        self._expect(bundle)

    def _evaluate(self, document: dict[str, Any]) -> Any:
        opa = self._opa
        assert opa is not None
        try:
            return opa.rule(DECISION_RULE, document)
        except Undefined:
            return None
