"""A witness: the C2SP ``tlog-witness`` protocol, run as its own process
(``ketenpoort witness serve``) by whoever should be able to catch the gateway's operator
rewriting the log, e.g. a partner organisation.

For each log it knows (by origin and log public key, configured as verifier keys) the witness
keeps only the latest checkpoint it cosigned, and the log key that must sign the next one: the
key that signed the last, or the key it announced (``next-key``, a key rotation signed by the
old key). A checkpoint signed by any other key is refused (403), configured or not.
``POST /add-checkpoint`` carries the size of the checkpoint the log thinks the witness holds,
a consistency proof from it, and the new signed checkpoint; the witness cosigns (C2SP
``tlog-cosignature``) only when the new checkpoint is signed by the log's current key and
provably extends what it holds, and stores it before answering.
So once a witness has cosigned tree size N with root R, no rewrite of entries below N and no
deletion of the tail can get its cosignature again, and ``audit verify`` compares the log with
what the witness holds (``GET /checkpoint``, a monitoring read this project adds; the protocol
leaves monitoring open).

The witness's key and state live in its own directory (``ketenpoort witness init``), never in
the gateway's database or data directory. Nothing is created silently at start: a missing key
or state directory is an error.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request, Response

from audit.merkle import ProofError, verify_consistency
from audit.note import (
    Cosigner,
    NoteError,
    Verifier,
    check_name,
    join_note,
    parse_checkpoint,
    parse_vkey,
    split_note,
    verify_log_signature,
)

KEY_FILE = "witness-key.pem"
NAME_FILE = "name"
STATE_DIR = "state"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
#: The protocol allows at most 63 proof lines; a request is a few kilobytes.
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024


#: What a fresh ext2/3/4 filesystem holds at its root, kept for fsck (mkfs makes it).
FILESYSTEM_OWN = "lost+found"


class WitnessSetupError(RuntimeError):
    """The witness directory is missing or incomplete."""


def init_witness(directory: Path, name: str) -> Cosigner:
    """Create the witness's key (0600), name and empty state; refuses an existing key."""
    check_name(name)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path = directory / KEY_FILE
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessSetupError(f"{key_path} exists; a witness key is never replaced") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    (directory / NAME_FILE).write_text(name + "\n", encoding="utf-8")
    (directory / STATE_DIR).mkdir(mode=0o700, exist_ok=True)
    return load_cosigner(directory)


def init_witness_if_empty(directory: Path, name: str) -> Cosigner | None:
    """At a witness's first start (``witness serve --name``): create its key and state when
    its directory is missing or empty, as ``witness init`` does; the new cosigner, or None
    when the directory already holds anything (then :func:`load_cosigner` decides).

    Only an empty directory is initialised. A witness whose state was lost but whose key
    survived must not start afresh: it would cosign the log again from scratch under the key
    the gateways and auditors pin (it is refused, see :func:`load_cosigner`). An empty
    directory gets a new key, which nobody pins yet: its cosignatures count only once its
    new vkey is configured, so a wiped witness cannot vouch for a rewritten log unseen.

    ``lost+found`` does not count: ext4 and ext3 make it at the root of every volume, and a
    Kubernetes volume is mounted at its root (deploy/kubernetes/witness.yaml), so the
    witness never started on a fresh volume (review10 F5). Nothing else is ignored, dotfiles
    neither: a directory holding anything of its own is not a new witness's."""
    if directory.is_dir() and any(p.name != FILESYSTEM_OWN for p in directory.iterdir()):
        return None
    return init_witness(directory, name)


def load_cosigner(directory: Path) -> Cosigner:
    key_path, name_path = directory / KEY_FILE, directory / NAME_FILE
    if not key_path.exists() or not name_path.exists() or not (directory / STATE_DIR).is_dir():
        raise WitnessSetupError(
            f"{directory} is not a witness directory (run 'ketenpoort witness init', or "
            "start 'witness serve' with --name on an empty directory); a witness never "
            "recreates a key or state that is missing from a directory in use"
        )
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessSetupError(f"{key_path} is not an Ed25519 private key")
    return Cosigner(check_name(name_path.read_text(encoding="utf-8").strip()), key)


@dataclass(frozen=True)
class WitnessAnswer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class HeldCheckpoint:
    """The latest checkpoint the witness cosigned for one log."""

    origin: str
    tree_size: int
    root_hash: bytes
    #: The signed note as the witness holds it: the log's signature and the cosignature.
    note: str
    #: The log key (vkey) that must sign the next checkpoint: the one that signed this, or the
    #: one this checkpoint announced (``next-key``). ``None`` in state written before keys
    #: were tracked: then any configured key of the log.
    key: str | None = None
    #: The log key (vkey) that signed this checkpoint.
    signed_by: str | None = None


class WitnessState:
    """One JSON file per origin, replaced atomically under a file lock, so that checking the
    old size and storing the new checkpoint are one step even across processes (the race the
    protocol warns about: a slower request must not roll the state back)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._thread_lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self._directory / f"{hashlib.sha256(origin.encode()).hexdigest()}.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._thread_lock, (self._directory / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, origin: str) -> HeldCheckpoint | None:
        path = self._path(origin)
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return HeldCheckpoint(
            data["origin"],
            int(data["treeSize"]),
            base64.b64decode(data["rootHash"]),
            data["note"],
            data.get("key"),
            data.get("signedBy"),
        )

    def put(self, held: HeldCheckpoint) -> None:
        path = self._path(held.origin)
        temporary = path.with_suffix(".tmp")
        data = {
            "origin": held.origin,
            "treeSize": held.tree_size,
            "rootHash": base64.b64encode(held.root_hash).decode("ascii"),
            "note": held.note,
        }
        if held.key is not None:
            data["key"] = held.key
        if held.signed_by is not None:
            data["signedBy"] = held.signed_by
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        directory = os.open(self._directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class Witness:
    """The protocol's checks, in its order (tlog-witness, add-checkpoint)."""

    def __init__(
        self,
        cosigner: Cosigner,
        state: WitnessState,
        logs: Sequence[Verifier],
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.cosigner = cosigner
        self.state = state
        self._logs: dict[str, list[Verifier]] = {}
        for verifier in logs:
            self._logs.setdefault(verifier.name, []).append(verifier)
        self._now = clock or time.time

    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        try:
            old_size, proof, note = _parse_request(body)
            text, signatures = split_note(note)
            checkpoint = parse_checkpoint(text)
        except (NoteError, ValueError) as exc:
            return WitnessAnswer(400, f"malformed request: {exc}\n")
        configured = self._logs.get(checkpoint.origin)
        if configured is None:
            return WitnessAnswer(404, "unknown log origin\n")
        with self.state.locked():
            held = self.state.get(checkpoint.origin)
            # After the first checkpoint only the key it was signed with (or the key a
            # checkpoint signed by that key announced) may sign: no silent key swap.
            trusted = [parse_vkey(held.key)] if held is not None and held.key else configured
            if held is not None and held.signed_by and split_note(held.note)[0] == text:
                trusted = [parse_vkey(held.signed_by)]  # the checkpoint it holds, asked again
            signer = next(
                (
                    key
                    for line in signatures
                    for key in trusted
                    if verify_log_signature(text, line, key)
                ),
                None,
            )
            if signer is None:
                return WitnessAnswer(403, "no signature by the current key of this log\n")
            if old_size > checkpoint.tree_size:
                return WitnessAnswer(400, "the old size is larger than the checkpoint\n")
            held_size = held.tree_size if held else 0
            if old_size != held_size:
                return WitnessAnswer(409, f"{held_size}\n", SIZE_CONTENT_TYPE)
            if held is not None and old_size == checkpoint.tree_size:
                if held.root_hash != checkpoint.root_hash:
                    return WitnessAnswer(409, f"{held_size}\n", SIZE_CONTENT_TYPE)
            elif held is None or old_size == 0:
                if proof:
                    return WitnessAnswer(422, "the proof from size 0 must be empty\n")
            else:
                try:
                    verify_consistency(
                        old_size, checkpoint.tree_size, held.root_hash, checkpoint.root_hash, proof
                    )
                except ProofError:
                    return WitnessAnswer(422, "the consistency proof does not verify\n")
            line = self.cosigner.cosign(text, int(self._now()))
            log_lines = [s for s in signatures if signer.matches(s)]
            self.state.put(
                HeldCheckpoint(
                    checkpoint.origin,
                    checkpoint.tree_size,
                    checkpoint.root_hash,
                    join_note(text, [*log_lines, line]),
                    checkpoint.next_key or signer.vkey(),
                    signer.vkey(),
                )
            )
        return WitnessAnswer(200, str(line))

    def latest(self, origin: str) -> WitnessAnswer:
        held = self.state.get(origin)
        if held is None:
            return WitnessAnswer(404, "no checkpoint of this log\n")
        return WitnessAnswer(200, held.note)


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    if len(body) > MAX_BODY:
        raise ValueError("the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the request is not UTF-8") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise ValueError("no blank line before the checkpoint")
    lines = head.split("\n")
    word, _, size = lines[0].partition(" ")
    if word != "old" or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ValueError("the first line is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError("more than 63 proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise ValueError("a proof line is not base64") from None
    if any(len(node) != 32 for node in proof):
        raise ValueError("a proof line is not a SHA-256 hash")
    return int(size), proof, note


#: A request body over ``MAX_BODY``: refused unread, and the connection closed (the client
#: may still be sending it).
TOO_LARGE = WitnessAnswer(413, "the request is too large\n")


async def _read_at_most(request: Request, limit: int) -> bytes | WitnessAnswer:
    """The request body, read as it streams in; a 413 once it is over ``limit`` bytes, or
    declares so (``Content-Length``), without reading the rest (review6a F3: the whole body
    was buffered before the size check, so anyone reaching the witness could exhaust its
    memory; ``witness serve`` runs plain uvicorn, without the gateway's body limit)."""
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        return WitnessAnswer(400, "malformed request: Content-Length is not a number\n")
    if declared is not None and int(declared) > limit:
        return TOO_LARGE
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return TOO_LARGE
    return bytes(body)


def witness_app(witness: Witness) -> FastAPI:
    """The HTTP face of a witness (tlog-witness ``add-checkpoint`` plus a monitoring read)."""
    app = FastAPI(title="Ketenpoort witness", openapi_url=None, docs_url=None, redoc_url=None)

    def respond(answer: WitnessAnswer) -> Response:
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_at_most(request, MAX_BODY)
        if isinstance(body, WitnessAnswer):
            refused = respond(body)
            refused.headers["Connection"] = "close"  # the rest of the body is never read
            return refused
        return respond(witness.add_checkpoint(body))

    @app.get("/checkpoint")
    def checkpoint(origin: str) -> Response:
        """The latest checkpoint this witness cosigned for ``origin``, as a signed note."""
        return respond(witness.latest(origin))

    @app.get("/")
    def about() -> Response:
        return Response(witness.cosigner.verifier.vkey() + "\n", media_type="text/plain")

    return app
