"""Shared fixtures: one signed bundle of the real covenants, loaded into every engine here.

The engines: regorus (its RVM, the embedded production engine, and its interpreter),
rego-cpp (regopy) and OPA's own Go evaluator (opa-go, the semantics of the production OPA
server). opa-go comes from ``make install-test`` (requirements/opa-go.txt); without it its
tests skip, except under CI=true, where a missing engine fails.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy import opa_go
from gateway.policy.bundle import Bundle, build_bundle, pack, read_bundle
from gateway.policy.covenant import Covenant, load_covenants
from gateway.policy.engine import RegopyEngine, RegorusEngine, RegorusInterpreterEngine
from gateway.policy.opa_go import OpaGoEngine
from gateway.policy.schemas import CategoryDecision, PolicyInput

COVENANTS: dict[str, Covenant] = load_covenants()
_KEY = ec.generate_private_key(ec.SECP256R1())
BUNDLE: Bundle = read_bundle(pack(build_bundle(COVENANTS, _KEY)), _KEY.public_key())

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

ENGINE_CLASSES: dict[str, Any] = {
    "regorus": RegorusEngine,
    "regorus-interpreter": RegorusInterpreterEngine,
    "regopy": RegopyEngine,
    "opa-go": OpaGoEngine,
}
#: The Python module each engine needs.
_MODULES = {"regopy": "regopy", "opa-go": opa_go.MODULE}
_loaded: dict[str, Any] = {}


def require_engine(name: str) -> None:
    """Skip when the engine's module is missing; under CI=true fail instead."""
    module = _MODULES.get(name)
    if module is None or importlib.util.find_spec(module) is not None:
        return
    message = f"engine {name} is not installed ({module}; `make install-test` installs it)"
    if IN_CI:
        pytest.fail("CI=true but " + message, pytrace=False)
    pytest.skip(message)


def loaded_engine(name: str) -> Any:
    """One engine per kind for the whole run (loading regopy is slow)."""
    require_engine(name)
    if name not in _loaded:
        engine = ENGINE_CLASSES[name]()
        engine.load(BUNDLE)
        _loaded[name] = engine
    return _loaded[name]


@pytest.fixture(params=sorted(ENGINE_CLASSES))
def any_engine(request: pytest.FixtureRequest) -> Any:
    return loaded_engine(request.param)


def case_decision(
    engine: Any,
    requester: tuple[str, str],
    category: str,
    *,
    phase: str,
    purpose: str,
    team: list[str],
    dwelling: dict[str, str],
    covenant: str = "rijswijk-woonoverlast",
    lead: str = "gemeente-rijswijk",
    extra_case: dict[str, Any] | None = None,
) -> CategoryDecision:
    """``engine``'s decision on one ``category`` of a ``covenant``'s case led by ``lead`` (by
    default a Rijswijk case led by the municipality), asked by ``requester`` (partner, role);
    no police investigation, no consents, no events, and ``extra_case``'s facts."""
    partner, role = requester
    request = PolicyInput.model_validate(
        {
            "requester": {"partner": partner, "role": role, "user": "p"},
            "case": {
                "id": "c1",
                "covenant": covenant,
                "phase": phase,
                "team": team,
                "lead": lead,
                "dwelling": dwelling,
                "policeInvestigation": False,
                "events": [],
                **(extra_case or {}),
            },
            "categories": [category],
            "purpose": purpose,
            "consents": [],
            "now": "2026-03-01T12:00:00Z",
        }
    )
    return engine.decide(request).categories[category]  # type: ignore[no-any-return]
