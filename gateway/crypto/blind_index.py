"""Blind indexes: keyed HMAC-SHA256 over normalised identifiers.

"Is this person or dwelling already known?" is answered by comparing index values, without
decrypting anything. The HMAC key is its own data key (scope ``system:blind-index``),
wrapped by the KEK like every other data key and never shredded; without it, an index value
reveals nothing, and with it one can only test guesses, which is why it stays in the gateway.
Each kind of identifier is domain-separated, so a BSN never matches a postcode.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from sqlalchemy.orm import Session

from gateway.core.dutch_date import dutch_today
from gateway.crypto.errors import InvalidIdentifier
from gateway.crypto.keystore import BLIND_INDEX_SCOPE, DataKeyStore

_BSN_SEPARATORS = re.compile(r"[\s.\-]")
#: A maximal run of eight or more ASCII digits (an 8-digit BSN is one without its leading zero).
_DIGIT_RUN = re.compile(r"[0-9]{8,}")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
_UNUSED_POSTCODE_LETTERS = {"SA", "SD", "SS"}
_HOUSE_NUMBER = re.compile(r"^(\d{1,5})\s*[-\s]?\s*([A-Za-z0-9]*)$")
_ADDITION_SEPARATORS = re.compile(r"[\s.\-/]")
_NOT_A_LETTER = re.compile(r"[^a-z]+")


def is_valid_bsn(value: str) -> bool:
    """The BSN 11-check ("elfproef"): 9 digits, weights 9..2 and -1, sum divisible by 11."""
    if len(value) != 9 or not value.isascii() or not value.isdigit() or value == "000000000":
        return False
    digits = [int(c) for c in value]
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
    return total % 11 == 0


def restore_leading_zero(digits: str) -> str:
    """A BSN below 100000000 is often written with 8 digits (kept as a number, its leading
    zero dropped): those 8 digits with the zero put back; anything else as it is."""
    return "0" + digits if len(digits) == 8 and digits.isdigit() else digits


def normalise_bsn(value: str) -> str:
    """Strip spaces, dots and dashes; pad an 8-digit BSN with a leading zero; 11-check."""
    cleaned = restore_leading_zero(_BSN_SEPARATORS.sub("", value))
    if not is_valid_bsn(cleaned):
        raise InvalidIdentifier("A BSN has 9 digits and passes the 11-check.")
    return cleaned


def holds_bsn(text: str) -> bool:
    """Whether ``text`` holds a BSN in a run of digits, as :func:`normalise_bsn` would read
    one: any nine digits in a row that pass the 11-check, or a run of exactly eight digits
    that passes with its leading zero restored. For values a client chooses that the
    gateway writes where no personal data may go (a request id or a partner's trace id in
    log lines, audit entries and response headers; gateway/core/tracing.py). Eight digits
    inside a longer run are read as part of that run, whose nine-digit windows are tested.
    """
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        if is_valid_bsn(restore_leading_zero(run)):
            return True
        if any(is_valid_bsn(run[i : i + 9]) for i in range(len(run) - 8)):
            return True
    return False


def normalise_address(postcode: str, house_number: int | str, addition: str | None = None) -> str:
    """``1234AB|12|A`` from '1234 ab', 12 and 'a' (or '12-a' as the house number)."""
    code = "".join(postcode.split()).upper()
    if not _POSTCODE.match(code) or code[4:] in _UNUSED_POSTCODE_LETTERS:
        raise InvalidIdentifier("A postcode is four digits (not starting with 0) and two letters.")
    if isinstance(house_number, int):
        number, suffix = house_number, ""
    else:
        match = _HOUSE_NUMBER.match(house_number.strip())
        if match is None:
            raise InvalidIdentifier("A house number is 1 to 99999, optionally with an addition.")
        number, suffix = int(match.group(1)), match.group(2)
    if not 1 <= number <= 99999:
        raise InvalidIdentifier("A house number is 1 to 99999, optionally with an addition.")
    if addition and suffix:
        raise InvalidIdentifier("Give the house number addition once, not twice.")
    extra = _ADDITION_SEPARATORS.sub("", addition or suffix).upper()
    if len(extra) > 6 or not (extra.isascii() and (extra.isalnum() or extra == "")):
        raise InvalidIdentifier("A house number addition is at most 6 letters or digits.")
    return f"{code}|{number}|{extra}"


def normalise_name(name: str) -> str:
    """Case, accents, punctuation, spacing removed: 'Ö. de Vries-Jansen' -> 'o de vries jansen'."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = _NOT_A_LETTER.sub(" ", letters).strip()
    if not words:
        raise InvalidIdentifier("A name needs at least one letter.")
    return words


def normalise_person(name: str, date_of_birth: date) -> str:
    # A datetime is a date too, but its time part would split one person over many values.
    # The future is after today in the Netherlands: the server's date (UTC) is yesterday's
    # just after midnight there, when a child born that day would have been refused.
    if type(date_of_birth) is not date or date_of_birth > dutch_today():
        raise InvalidIdentifier("A date of birth is a calendar date, not in the future.")
    return f"{normalise_name(name)}|{date_of_birth.isoformat()}"


class BlindIndex:
    """Index values for identifiers; store them in a ``blind_index_column()`` and compare."""

    def __init__(self, store: DataKeyStore) -> None:
        self._store = store

    def bsn(self, *, session: Session, bsn: str) -> str:
        return self._mac(session, "bsn", normalise_bsn(bsn))

    def address(
        self,
        *,
        session: Session,
        postcode: str,
        house_number: int | str,
        addition: str | None = None,
    ) -> str:
        return self._mac(session, "address", normalise_address(postcode, house_number, addition))

    def person(self, *, session: Session, name: str, date_of_birth: date) -> str:
        return self._mac(session, "person", normalise_person(name, date_of_birth))

    def fingerprint(self, *, session: Session, purpose: str, data: bytes) -> str:
        """A keyed digest of arbitrary bytes (e.g. a request body that holds a BSN), so that
        equality can be checked later without storing a guessable plain hash. Its input space
        is separate from the identifier indexes."""
        key = self._store.system_key(session, BLIND_INDEX_SCOPE)
        message = f"ketenpoort.fingerprint.v1|{purpose}|".encode() + data
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def _mac(self, session: Session, kind: str, normalised: str) -> str:
        key = self._store.system_key(session, BLIND_INDEX_SCOPE)
        message = f"ketenpoort.blind-index.v1|{kind}|{normalised}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()
