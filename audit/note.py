"""C2SP signed notes, checkpoints and cosignatures, with Ed25519.

- ``c2sp.org/signed-note``: a text ending in a newline, a blank line, then signature lines
  ``— <key name> base64(key ID || signature)``; the key ID is
  ``SHA-256(name || 0x0A || type || public key)[:4]`` (type 0x01 for Ed25519 over the text).
- ``c2sp.org/tlog-checkpoint``: the text is ``<origin>\\n<tree size>\\n<base64 root>\\n`` plus
  optional extension lines; Ketenpoort adds one, ``previous <size>`` (see
  :func:`checkpoint_text`).
- ``c2sp.org/tlog-cosignature``: a witness signs (type 0x04) ``cosignature/v1\\ntime <t>\\n``
  followed by the checkpoint text, and its signature is ``key ID || u64 t || Ed25519 sig``.
- Verifier keys (``vkey``, as golang.org/x/mod/sumdb/note writes them):
  ``<name>+<hex key ID>+base64(type || public key)``.

Only the standard library and ``cryptography``: the offline verifier imports this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
#: The extension line naming the checkpoint this one extends (0 for the first).
PREVIOUS = "previous"
#: The extension line with the check value of the log's pseudonym key (see gateway.audit.keyguard).
PSEUDONYM_KEY = "pseudonym-key"
#: The extension line announcing the log's next signing key (a vkey): a key rotation.
NEXT_KEY = "next-key"
_NAME = re.compile(r"^[^\s+]+$")
#: Signed notes are short; the spec asks verifiers to accept at least 16 signatures.
MAX_SIGNATURES = 64


class NoteError(ValueError):
    """A note, checkpoint, signature line or verifier key that is not well formed."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, signature_type: int, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4] (signed-note, tlog-cosignature)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + _raw(public_key))
    return digest.digest()[:4]


def check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise NoteError(f"a key name is non-empty, without spaces or '+': {name!r}")
    return name


@dataclass(frozen=True)
class Verifier:
    """A trusted key: a log's (type 0x01) or a witness's (type 0x04)."""

    name: str
    public_key: Ed25519PublicKey
    signature_type: int = ED25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.signature_type, self.public_key)

    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.signature_type]) + _raw(self.public_key))
        return f"{self.name}+{self.key_id.hex()}+{material.decode('ascii')}"

    def matches(self, line: SignatureLine) -> bool:
        return line.name == self.name and line.key_id == self.key_id


def parse_vkey(text: str) -> Verifier:
    """``<name>+<hex key ID>+base64(type || key)``; the key ID must match the key."""
    parts = text.strip().split("+", 2)  # the base64 key may hold a "+"
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<key id>+<base64 key>")
    name, hint, material = parts
    check_name(name)
    try:
        decoded = base64.b64decode(material, validate=True)
        hint_bytes = bytes.fromhex(hint)
    except (binascii.Error, ValueError):
        raise NoteError("a verifier key's id is hex and its key base64") from None
    if len(decoded) != 33 or decoded[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("only Ed25519 (0x01) and Ed25519 cosignature (0x04) keys are supported")
    verifier = Verifier(name, Ed25519PublicKey.from_public_bytes(decoded[1:]), decoded[0])
    if verifier.key_id != hint_bytes:
        raise NoteError(f"the key id {hint} does not match the key of {name}")
    return verifier


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes

    def __str__(self) -> str:
        payload = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{DASH} {self.name} {payload}\n"


def parse_signature_line(line: str) -> SignatureLine:
    line = line.removesuffix("\n")
    prefix = DASH + " "
    if not line.startswith(prefix):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, payload = line[len(prefix) :].partition(" ")
    check_name(name)
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise NoteError("a signature is base64") from None
    if len(raw) < 5:
        raise NoteError("a signature is a key id and at least one byte")
    return SignatureLine(name, raw[:4], raw[4:])


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """A signed note's text (with its final newline) and its signature lines."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note holds no control characters but newlines")
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, a blank line, and signature lines")
    text, block = note[: at + 1], note[at + 2 :]
    lines = block.splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("a signed note has between 1 and 64 signature lines")
    return text, [parse_signature_line(line) for line in lines]


def join_note(text: str, signatures: list[SignatureLine]) -> str:
    return text + "\n" + "".join(str(line) for line in signatures)


def _verifies(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# -- checkpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    #: The tree size of the checkpoint this one extends (Ketenpoort's extension line), if any.
    previous: int | None = None
    #: The check value of the pseudonym key the log was written with (extension line), if any.
    pseudonym_key: str | None = None
    #: The log's next signing key (a vkey of this origin) when this checkpoint announces a
    #: key rotation: checkpoints after it are signed by that key, never by this one's.
    next_key: str | None = None

    def text(self) -> str:
        return checkpoint_text(
            self.origin,
            self.tree_size,
            self.root_hash,
            self.previous,
            self.pseudonym_key,
            self.next_key,
        )

    @property
    def next_verifier(self) -> Verifier | None:
        """The announced next key, parsed (checked when the checkpoint was parsed)."""
        return parse_vkey(self.next_key) if self.next_key is not None else None


def checkpoint_text(
    origin: str,
    tree_size: int,
    root_hash: bytes,
    previous: int | None = None,
    pseudonym_key: str | None = None,
    next_key: str | None = None,
) -> str:
    """The checkpoint body. Extension lines (allowed by tlog-checkpoint, ignored by tools
    that do not know them, but covered by every signature and cosignature): ``previous <size>``
    chains each checkpoint to the one before, so a deleted checkpoint row is noticed,
    ``pseudonym-key <check>`` says which pseudonym key the entries were written with, so a
    replaced key is refused at start (gateway.audit.keyguard), and ``next-key <vkey>`` announces a
    rotation of the log's signing key: signed by the old key and cosigned by the witnesses, it
    is the only way verifiers and witnesses accept checkpoints signed by another key."""
    if not origin or "\n" in origin:
        raise NoteError("an origin is one non-empty line")
    text = f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode('ascii')}\n"
    if previous is not None:
        text += f"{PREVIOUS} {previous}\n"
    if pseudonym_key is not None:
        if not re.fullmatch(r"[0-9a-f]{32}", pseudonym_key):
            raise NoteError("a pseudonym key check is 32 hex digits")
        text += f"{PSEUDONYM_KEY} {pseudonym_key}\n"
    if next_key is not None:
        _check_next_key(origin, next_key)
        text += f"{NEXT_KEY} {next_key}\n"
    return text


def _check_next_key(origin: str, vkey: str) -> Verifier:
    verifier = parse_vkey(vkey)
    if verifier.signature_type != ED25519 or verifier.name != origin:
        raise NoteError(f"a '{NEXT_KEY}' line names an Ed25519 key of the log {origin}")
    if verifier.vkey() != vkey:
        raise NoteError(f"a '{NEXT_KEY}' line is a verifier key in its canonical form")
    return verifier


_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _DECIMAL.match(size):
        raise NoteError("a tree size is a decimal without leading zeroes")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteError("a root hash is base64") from None
    if len(root_hash) != 32:
        raise NoteError("a root hash is 32 bytes")
    previous = None
    pseudonym_key = None
    next_key = None
    for extension in lines[3:-1]:
        word, _, value = extension.partition(" ")
        if word == PREVIOUS:
            if not _DECIMAL.match(value) or previous is not None:
                raise NoteError("a 'previous' line is one decimal tree size")
            previous = int(value)
        elif word == PSEUDONYM_KEY:
            if not re.fullmatch(r"[0-9a-f]{32}", value) or pseudonym_key is not None:
                raise NoteError("a 'pseudonym-key' line is one 32-hex-digit check value")
            pseudonym_key = value
        elif word == NEXT_KEY:
            if next_key is not None:
                raise NoteError(f"a checkpoint announces at most one '{NEXT_KEY}'")
            _check_next_key(origin, value)
            next_key = value
    return Checkpoint(origin, int(size), root_hash, previous, pseudonym_key, next_key)


@dataclass(frozen=True)
class NoteSigner:
    """A log's Ed25519 note signer (type 0x01); the key name is the log's origin."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(check_name(self.name), self.private_key.public_key(), ED25519)

    def sign(self, text: str) -> SignatureLine:
        return SignatureLine(
            self.name, self.verifier.key_id, self.private_key.sign(text.encode("utf-8"))
        )


def verify_log_signature(text: str, line: SignatureLine, verifier: Verifier) -> bool:
    """``line`` is ``verifier``'s valid Ed25519 signature over ``text``."""
    return (
        verifier.signature_type == ED25519
        and verifier.matches(line)
        and _verifies(verifier.public_key, line.signature, text.encode("utf-8"))
    )


# -- cosignatures ------------------------------------------------------------------------------


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode("utf-8")


@dataclass(frozen=True)
class Cosigner:
    """A witness's Ed25519 cosigner (type 0x04)."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(check_name(self.name), self.private_key.public_key(), COSIGNATURE_V1)

    def cosign(self, text: str, timestamp: int) -> SignatureLine:
        if not 0 <= timestamp < 2**63:
            raise NoteError("a cosignature timestamp is below 2^63")
        signature = self.private_key.sign(cosigned_message(text, timestamp))
        return SignatureLine(
            self.name, self.verifier.key_id, struct.pack(">Q", timestamp) + signature
        )


def verify_cosignature(text: str, line: SignatureLine, verifier: Verifier) -> int | None:
    """The cosignature's timestamp when ``line`` is ``verifier``'s valid cosignature over the
    checkpoint ``text``; ``None`` otherwise."""
    if verifier.signature_type != COSIGNATURE_V1 or not verifier.matches(line):
        return None
    if len(line.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", line.signature[:8])
    if timestamp >= 2**63:
        return None
    message = cosigned_message(text, timestamp)
    return timestamp if _verifies(verifier.public_key, line.signature[8:], message) else None


# -- checkpoints signed before the C2SP format ------------------------------------------------

#: The first line of the notes signed before checkpoints followed C2SP (with a signing time).
NOTE_ORIGIN = "ketenpoort-audit-log/v1"


@dataclass(frozen=True)
class ParsedNote:
    tree_size: int
    root_hash: bytes
    signed_at: str


def is_legacy_note(note: str) -> bool:
    return note.startswith(NOTE_ORIGIN + "\n")


def announced_next_key(note: str) -> str | None:
    """The vkey a stored checkpoint note announces as the next signing key (its ``next-key``
    line), or ``None``: a legacy note, a note that does not parse, or one without the line.
    The one reading of an announcement the verifier, the key guard and the rotation share."""
    if is_legacy_note(note):
        return None
    try:
        return parse_checkpoint(note).next_key
    except NoteError:
        return None


def vkey_text_or_file(value: str) -> str:
    """A vkey given on a command line or in a setting: the vkey itself, or the path of a file
    holding one (a vkey always contains ``+``, a path to read never does)."""
    path = Path(value.strip())
    if "+" not in value and path.exists():
        return path.read_text(encoding="utf-8").strip()
    return value.strip()


def parse_note(note: str) -> ParsedNote:
    """A checkpoint text, legacy or C2SP (``signed_at`` is empty for C2SP: the time a witness
    vouches for is in its cosignature)."""
    if not is_legacy_note(note):
        try:
            parsed = parse_checkpoint(note)
        except NoteError as exc:
            raise ValueError(str(exc)) from None
        return ParsedNote(parsed.tree_size, parsed.root_hash, "")
    lines = note.split("\n")
    if len(lines) != 5 or lines[0] != NOTE_ORIGIN or lines[4] != "":
        raise ValueError("not a checkpoint note")
    return ParsedNote(int(lines[1]), base64.b64decode(lines[2], validate=True), lines[3])
