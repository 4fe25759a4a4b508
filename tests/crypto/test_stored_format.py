"""The stored format does not change with the hot path: values sealed by an earlier version of
``FieldCipher`` (made once, kept here as bytes) still open, through the database and through
the in-memory key cache, and every mismatch of key, scope, table, record id or field fails
closed. Also the nonce pool: one nonce per value, never shared with a forked child."""

from __future__ import annotations

import os

import pytest

from gateway.context import GatewayContext
from gateway.crypto import CryptoServices, UndecryptableValue
from gateway.crypto import fields as field_module
from gateway.crypto.keystore import wrap_aad
from gateway.crypto.models import DataKey
from gateway.db import transaction

# Sealed on 3 December 2026 by FieldCipher of main 8ed7ba4 (before the hot path was cut
# down) with data key id 4711 = bytes(range(32)) of scope "case:2026", table "case_person".
KEY = bytes(range(32))
DEK_ID = 4711
SCOPE = "case:2026"
TABLE = "case_person"
STORED = [
    (
        17,
        "name",
        "Jan de Vries",
        "010000000000001267a911688711e3530b739a96ed7d9d46a90d81e2fd38b7a6c9d4bb09cc6430184eb2"
        "49b3071cf0b7c6",
    ),
    (
        "r-9",
        "description",
        "Melder klaagt over harde muziek; bemiddeling is niet gelukt.",
        "0100000000000012671b1b07b54ab6ff8857aafbf0f2067a30fd2106b3a0380b003f4f55d81e25c406d6"
        "a85362dedc278e3bf3df53d961b529dc1afee52df8155e8dfaff0db20bf53bdfbb1171c5018c5b6a563e"
        "054ce4554182a6fbe8cbdc2c35",
    ),
]


@pytest.fixture
def stored_key(context: GatewayContext, crypto: CryptoServices) -> None:
    """The fixtures' data key as a row of crypto_data_key, wrapped by this test's KEK."""
    version = crypto.provider.active_version()
    with transaction(context.session_factory) as session:
        session.add(
            DataKey(
                id=DEK_ID,
                scope=SCOPE,
                kek_version=version,
                wrapped_key=crypto.provider.wrap(version, KEY, wrap_aad(SCOPE)),
            )
        )
    crypto.keys.clear()


def _open(
    context: GatewayContext,
    crypto: CryptoServices,
    ciphertext: bytes,
    *,
    scope: str = SCOPE,
    table: str = TABLE,
    record_id: int | str,
    field: str,
) -> object:
    with transaction(context.session_factory) as session:
        return crypto.fields.decrypt(
            session=session,
            scope=scope,
            table=table,
            record_id=record_id,
            field=field,
            ciphertext=ciphertext,
        )


@pytest.mark.usefixtures("stored_key")
@pytest.mark.parametrize(("record_id", "field", "plaintext", "sealed"), STORED)
def test_value_sealed_before_the_change_opens_from_the_database_and_the_cache(
    context: GatewayContext,
    crypto: CryptoServices,
    record_id: int | str,
    field: str,
    plaintext: str,
    sealed: str,
) -> None:
    ciphertext = bytes.fromhex(sealed)
    assert crypto.keys.cached_count() == 0
    # First from the database (the key row is unwrapped), then from the cache.
    assert _open(context, crypto, ciphertext, record_id=record_id, field=field) == plaintext
    assert crypto.keys.cached_count() == 1
    assert _open(context, crypto, ciphertext, record_id=record_id, field=field) == plaintext


@pytest.mark.usefixtures("stored_key")
@pytest.mark.parametrize("cached", [False, True], ids=["from-database", "from-cache"])
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"record_id": 18}, "integrity check failed"),
        ({"record_id": "17"}, None),  # the same text: the positive control
        ({"field": "bsn"}, "integrity check failed"),
        ({"table": "case_report"}, "integrity check failed"),
        ({"scope": "case:2027"}, "scope mismatch"),
    ],
)
def test_stored_value_under_other_names_fails_closed(
    context: GatewayContext,
    crypto: CryptoServices,
    caplog: pytest.LogCaptureFixture,
    cached: bool,
    change: dict[str, object],
    why: str | None,
) -> None:
    record_id, field, plaintext, sealed = STORED[0]
    ciphertext = bytes.fromhex(sealed)
    if cached:
        assert _open(context, crypto, ciphertext, record_id=record_id, field=field) == plaintext
    names: dict[str, object] = {"record_id": record_id, "field": field, **change}
    if why is None:
        assert _open(context, crypto, ciphertext, **names) == plaintext  # type: ignore[arg-type]
        return
    with caplog.at_level("WARNING", logger="ketenpoort.crypto"), pytest.raises(UndecryptableValue):
        _open(context, crypto, ciphertext, **names)  # type: ignore[arg-type]
    assert f"rejected stored value: {why}" in caplog.text
    assert plaintext not in caplog.text


@pytest.mark.usefixtures("stored_key")
@pytest.mark.parametrize("cached", [False, True], ids=["from-database", "from-cache"])
@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda c: c[:-1] + bytes([c[-1] ^ 1]), id="tag-bit-flipped"),
        pytest.param(lambda c: c[:30] + bytes([c[30] ^ 1]) + c[31:], id="body-bit-flipped"),
        pytest.param(lambda c: c[:9] + bytes([c[9] ^ 1]) + c[10:], id="nonce-bit-flipped"),
        pytest.param(lambda c: c[:36], id="one-byte-short-of-a-tag"),
        pytest.param(lambda c: c[:15], id="nonce-cut-short"),
        pytest.param(lambda c: c[:9], id="header-only"),
        pytest.param(lambda c: b"\x02" + c[1:], id="unknown-format"),
        pytest.param(lambda c: c[:1] + (DEK_ID + 1).to_bytes(8, "big") + c[9:], id="other-key"),
    ],
)
def test_altered_stored_value_fails_closed(
    context: GatewayContext, crypto: CryptoServices, cached: bool, alter: object
) -> None:
    record_id, field, plaintext, sealed = STORED[0]
    ciphertext = bytes.fromhex(sealed)
    if cached:  # the key is in the cache: the hot path sees the altered value
        assert _open(context, crypto, ciphertext, record_id=record_id, field=field) == plaintext
    altered = alter(ciphertext)  # type: ignore[operator]
    assert altered != ciphertext
    with pytest.raises(UndecryptableValue):
        _open(context, crypto, altered, record_id=record_id, field=field)
    # The control: the unaltered value still opens afterwards.
    assert _open(context, crypto, ciphertext, record_id=record_id, field=field) == plaintext


def test_every_value_gets_its_own_nonce(context: GatewayContext, crypto: CryptoServices) -> None:
    count = 1000
    with transaction(context.session_factory) as session:
        sealed = [
            crypto.fields.encrypt(
                session=session, scope="case:5", table="t", record_id=1, field="f", plaintext="x"
            )
            for _ in range(count)
        ]
        nonces = {value[9:21] for value in sealed}
        assert len(nonces) == count
        opened = {
            crypto.fields.decrypt(
                session=session, scope="case:5", table="t", record_id=1, field="f", ciphertext=v
            )
            for v in sealed
        }
    assert opened == {"x"}


def test_each_encryption_draws_its_nonce_from_the_os(
    context: GatewayContext, crypto: CryptoServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pool of nonces in the process: a pool in memory would be handed out again after a VM
    snapshot is restored (the kernel reseeds its generator then; a process's memory does not
    change). Each value's nonce is the one os.urandom returned for it."""
    drawn: list[bytes] = []
    system_urandom = os.urandom

    def urandom(size: int) -> bytes:
        drawn.append(system_urandom(size))
        return drawn[-1]

    monkeypatch.setattr(field_module.os, "urandom", urandom)
    with transaction(context.session_factory) as session:
        sealed = [
            crypto.fields.encrypt(
                session=session, scope="case:5", table="t", record_id=1, field="f", plaintext="x"
            )
            for _ in range(3)
        ]
    assert [value[9:21] for value in sealed] == drawn[-3:]
    assert all(len(nonce) == 12 for nonce in drawn[-3:])
