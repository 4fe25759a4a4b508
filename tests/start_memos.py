"""A gateway's start in the tests: the parts that are a pure function of their inputs, done
once per test process instead of in every test.

Every test that uses the ``context`` fixture starts a gateway (``build_context``). On the
2-core CI machine of 6 December 2026 the suite took 15-16 minutes of its 20-minute budget,
and cProfile of a test file (tests/api/test_authentication.py, load ~10-20) put 0.65-1.2 s of
a test's 1.3 s in the start, against ~0.1 s in the test itself. Per start, at that load:
parsing and validating the three YAML files of every covenant folder ~0.34 s; compiling
the bundle into a regorus program and deriving its answer contract ~0.18 s; gzip of the
bundle on writing and on reading back ~0.08 s; reading the bundle back (two parses of its
0.6 MB ``data.json``) ~0.05 s.

Each memo is keyed by everything its result depends on, so a test that changes an input
(a covenant file, a Rego module, the bundle's data or bytes) gets the real computation:

- the covenant, workflow and retention loaders by the path, inode, size and modification
  time of every file under the covenant directory (and the retention periods); only a
  successful load is kept, so a broken file raises its error in every test that loads it;
  the dicts come back copied;
- ``engine._compile_program`` by the modules and data it compiles: a hit gives a *new*
  program, deserialized from the first one's serialized form, never a shared object;
- ``engine.answer_contract`` by the bundle's data (its canonical JSON);
- ``bundle.pack`` by the bundle's files;
- the start's read-back of the bundle it wrote (``wiring.read_bundle``) by the bytes and
  the verification key; tests/policy call ``bundle.read_bundle`` itself, which verifies
  every time.

What stays per test: writing the bundle, loading it into the test's own engine (each
thread's VM parses the data), the keys (copied from the ``data_template`` fixture, read and
checked as at any later start), the database. Measured after (same file, one process,
alternating with main at load 20-28): 14.0-14.6 s of user CPU against 19.4-19.6 s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway import covenant_package
from gateway.policy import bundle as policy_bundle
from gateway.policy import engine as policy_engine
from gateway.policy import wiring as policy_wiring
from gateway.policy.layout import default_package_dir


def _tree_state(directory: Path | None) -> tuple[tuple[str, int, int, int], ...]:
    """Every file under the directory with its inode, size and modification time: a test that
    writes a covenant file (or replaces it) changes one of them."""
    root = directory if directory is not None else default_package_dir()
    files = []
    for path in sorted(root.rglob("*")):
        stat = path.stat()
        files.append((str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(files)


def _loader_once(load: Callable[..., Any]) -> Callable[..., Any]:
    """``load(directory, **periods)`` once per directory content; dicts come back copied, so a
    test that changes its gateway's covenants does not change another's."""
    loaded: dict[tuple[object, ...], Any] = {}

    def once(directory: Path | None = None, **periods: int) -> Any:
        key = (_tree_state(directory), str(directory), tuple(sorted(periods.items())))
        if key not in loaded:
            loaded[key] = load(directory, **periods)
        result = loaded[key]
        return dict(result) if isinstance(result, dict) else result

    return once


covenant_package.load_covenants = _loader_once(covenant_package.load_covenants)  # type: ignore[assignment]
covenant_package.load_workflows = _loader_once(covenant_package.load_workflows)  # type: ignore[assignment]
covenant_package.load_rules = _loader_once(covenant_package.load_rules)  # type: ignore[assignment]


_programs: dict[bytes, bytes] = {}
_compile_program = policy_engine._compile_program


def _program_compiled_once(modules: list[tuple[str, str]], data_json: str) -> Any:
    import regorus

    key = hashlib.sha256(orjson.dumps([modules, data_json])).digest()
    serialized = _programs.get(key)
    if serialized is not None:
        program, partial = regorus.Program.deserialize_binary(serialized)
        if not partial:
            return program
    program = _compile_program(modules, data_json)
    _programs[key] = bytes(program.serialize_binary())
    return program


policy_engine._compile_program = _program_compiled_once


_contracts: dict[bytes, Any] = {}
_answer_contract = policy_engine.answer_contract


def _contract_derived_once(bundle: policy_bundle.Bundle) -> Any:
    key = hashlib.sha256(orjson.dumps(bundle.data, option=orjson.OPT_SORT_KEYS)).digest()
    if key not in _contracts:
        _contracts[key] = _answer_contract(bundle)
    return _contracts[key]


policy_engine.answer_contract = _contract_derived_once


_packed: dict[bytes, bytes] = {}
_pack = policy_bundle.pack


def _packed_once(bundle: policy_bundle.Bundle) -> bytes:
    digest = hashlib.sha256()
    for name in sorted(bundle.files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(bundle.files[name]).digest())
    key = digest.digest()
    if key not in _packed:
        _packed[key] = _pack(bundle)
    return _packed[key]


policy_bundle.pack = _packed_once
policy_wiring.pack = _packed_once


_read: dict[tuple[bytes, bytes], policy_bundle.Bundle] = {}
_read_bundle = policy_wiring.read_bundle


def _read_once(blob: bytes, public_key: ec.EllipticCurvePublicKey) -> policy_bundle.Bundle:
    """The gateway's start reads back the bundle it wrote; tests/policy read and verify
    bundles themselves through ``bundle.read_bundle``, which this does not replace."""
    public = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    key = (hashlib.sha256(blob).digest(), public)
    if key not in _read:
        _read[key] = _read_bundle(blob, public_key)
    return _read[key]


policy_wiring.read_bundle = _read_once
