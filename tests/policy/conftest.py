"""Shared fixtures: one signed bundle of the real covenants, loaded into every engine here."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.policy.bundle import Bundle, build_bundle, pack, read_bundle
from gateway.policy.covenant import Covenant, load_covenants
from gateway.policy.engine import RegopyEngine, RegorusEngine, RegorusInterpreterEngine

COVENANTS: dict[str, Covenant] = load_covenants()
_KEY = ec.generate_private_key(ec.SECP256R1())
BUNDLE: Bundle = read_bundle(pack(build_bundle(COVENANTS, _KEY)), _KEY.public_key())

ENGINE_CLASSES: dict[str, Any] = {
    "regorus": RegorusEngine,
    "regorus-interpreter": RegorusInterpreterEngine,
    "regopy": RegopyEngine,
}
_loaded: dict[str, Any] = {}


def loaded_engine(name: str) -> Any:
    """One engine per kind for the whole run (loading regopy is slow)."""
    if name == "regopy" and importlib.util.find_spec("regopy") is None:
        pytest.skip("regopy is not installed")
    if name not in _loaded:
        engine = ENGINE_CLASSES[name]()
        engine.load(BUNDLE)
        _loaded[name] = engine
    return _loaded[name]


@pytest.fixture(params=sorted(ENGINE_CLASSES))
def any_engine(request: pytest.FixtureRequest) -> Any:
    return loaded_engine(request.param)
