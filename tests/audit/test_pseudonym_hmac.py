"""The pseudonyms are HMAC-SHA256 under the pseudonym key, byte for byte as the ``hmac``
module computes it, for every key length (RFC 2104: a key longer than the hash's 64-byte
block is hashed first, a shorter one padded).

``audit.keys.Pseudonymiser`` sets the key's HMAC state up once and copies it per
pseudonym (issue 20: the retention sweep names two subjects per erased case). A pseudonym
that changed would no longer find a person's earlier entries in the access report, so the
expected values here are computed the way the pseudonyms were computed before, with
``hmac.digest`` over the NFC-normalised, stripped identifier."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

import pytest

from audit.keys import Pseudonymiser

#: Below, at and above SHA-256's 64-byte block (the pad, the edge, the hashed key).
KEY_LENGTHS = (32, 63, 64, 65, 100, 200)
IDENTIFIERS = (
    ("bsn", "123456782"),
    ("bsn", " 1234 567 82 "),
    ("bsn", "blind-index:" + "ab" * 32),
    ("postcode-huisnummer", "2281 ab 12"),
    ("address", "blind-index:" + "0f" * 32),
    ("case-person", "Ame\u0301lie"),  # a decomposed é: NFC composes it
    ("case-person", "  Zoë\t"),
    ("email", ""),
)


def _former_subject(key: bytes, identifier_type: str, identifier: str) -> str:
    value = unicodedata.normalize("NFC", identifier).strip()
    if identifier_type in {"bsn", "postcode-huisnummer"}:
        value = "".join(value.split()).upper()
    message = f"subject\x00{identifier_type}\x00{value}".encode()
    return hmac.digest(key, message, "sha256").hex()


@pytest.mark.parametrize("length", KEY_LENGTHS)
def test_subjects_are_the_hmac_of_the_normalised_identifier(length: int) -> None:
    key = secrets.token_bytes(length)
    pseudonymiser = Pseudonymiser(key)
    for identifier_type, identifier in IDENTIFIERS:
        assert pseudonymiser.subject(identifier_type, identifier) == _former_subject(
            key, identifier_type, identifier
        )


@pytest.mark.parametrize("length", KEY_LENGTHS)
def test_users_and_check_values_are_the_hmac_too(length: int) -> None:
    key = secrets.token_bytes(length)
    pseudonymiser = Pseudonymiser(key)
    user = hmac.new(key, b"user\x00gemeente-rijswijk\x00jan", hashlib.sha256).hexdigest()
    assert pseudonymiser.user("gemeente-rijswijk", " jan ") == user
    for message in (b"", b"check", secrets.token_bytes(200)):
        expected = hmac.new(key, message, hashlib.sha256).hexdigest()
        assert pseudonymiser.keyed_digest(message) == expected


def test_a_pseudonym_depends_on_the_key_and_repeats_under_it() -> None:
    key = secrets.token_bytes(32)
    first, again = Pseudonymiser(key), Pseudonymiser(key)
    other = Pseudonymiser(secrets.token_bytes(32))
    assert first.subject("bsn", "123456782") == again.subject("bsn", "123456782")
    # Copies of the pads, never the pads: a second pseudonym is not chained to the first.
    assert first.subject("bsn", "123456782") == first.subject("bsn", "123456782")
    assert first.subject("bsn", "123456782") != other.subject("bsn", "123456782")
    assert first.subject("bsn", "123456782") != first.subject("case-person", "123456782")
