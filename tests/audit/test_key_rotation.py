"""Keys never change silently: the log's signing key is replaced only through a checkpoint
signed by the old key that announces the new one (``next-key``), cosigned by the witnesses.

Verifiers (pinned to the log's first key), witnesses and the gateway's own start accept the new
key after such an announcement and refuse a key that appears without one, including a key
replaced before the first checkpoint. Each refusal has its positive control.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit.exportfile import read_export
from audit.keys import (
    NEXT_SIGNING_KEY_FILE,
    SIGNING_KEY_FILE,
    CheckpointSigner,
    load_or_create_signer,
    load_signer,
)
from audit.note import Verifier
from audit.verification import Checked, Trust, verify_exported
from gateway.audit import AuditLog
from gateway.audit.checkpoints import SignerReplaced, lock_for_signing, sign_in
from gateway.audit.export import write_export
from gateway.audit.keyguard import AuditKeyError, open_audit_keys, pseudonym_key_check
from gateway.audit.models import AuditCheckpoint, AuditRecord
from gateway.audit.rotation import rotate_signing_key
from gateway.audit.verification import verify_stored
from gateway.audit.witnessing import Witnessing
from gateway.db import transaction

from .builders import disclosure
from .witnesses import ORIGIN, RunningWitness, router, start_witness, witnessed

COVENANTS = ("utrecht-extreme-woonoverlast",)


@dataclass
class Deployment:
    factory: sessionmaker[Session]
    log: AuditLog
    key_dir: Path
    witnesses: list[RunningWitness]
    http: httpx.Client
    #: The log's first key, as published and pinned by auditors (KETENPOORT_AUDIT_LOG_KEY).
    first_key: Verifier

    def append(self, count: int, log: AuditLog | None = None) -> None:
        for number in range(count):
            with transaction(self.factory) as session:
                (log or self.log).append(session=session, entry=disclosure(number))

    def checkpoint(self, log: AuditLog | None = None) -> None:
        (log or self.log).sign_checkpoint(self.factory)

    def trust(self, *pinned: Verifier) -> Trust:
        return Trust(
            log_key=pinned[0] if pinned else self.first_key,
            extra_keys=[key.public_key for key in pinned[1:]],
            witnesses=[w.endpoint for w in self.witnesses],
            quorum=len(self.witnesses),
        )

    def verify(self, *pinned: Verifier) -> Checked:
        """What ``ketenpoort audit verify --log-key <first key> --witness ...`` computes."""
        return verify_stored(self.factory, self.trust(*pinned), http=self.http)

    def verify_offline(self) -> Checked:
        """The same with ``--offline``: the witnesses' keys, not what they hold."""
        return verify_stored(self.factory, self.trust(), http=None)

    def rotate(self) -> bool:
        result = rotate_signing_key(
            self.factory,
            self.log,
            self.key_dir,
            covenant_ids=COVENANTS,
            pinned=self.first_key.public_key,
        )
        return result.installed

    def problems(self) -> list[str]:
        assert self.log.witnessing is not None
        return [p or "" for p in self.log.witnessing.last_problem.values()]


@pytest.fixture
def deployment(
    factory: sessionmaker[Session], audit_log: AuditLog, key_dir: Path, tmp_path: Path
) -> Iterator[Deployment]:
    audit_log.origin = ORIGIN
    witnesses = [
        start_witness(tmp_path / f"witness-{n}", f"witness.partner-{n}.test/kp", audit_log)
        for n in (1, 2)
    ]
    http = witnessed(audit_log, witnesses, quorum=2)
    first = audit_log.signer.note_signer(ORIGIN).verifier
    deployed = Deployment(factory, audit_log, key_dir, witnesses, http, first)
    deployed.append(5)
    deployed.checkpoint()
    yield deployed
    http.close()


def _impostor(deployment: Deployment, directory: Path) -> AuditLog:
    """A gateway process whose key directory got another key (no rotation)."""
    impostor = AuditLog.from_key_dir(directory)
    impostor.origin = ORIGIN
    impostor.pseudonymiser = deployment.log.pseudonymiser
    assert deployment.log.witnessing is not None
    impostor.witnessing = Witnessing(
        deployment.log.witnessing.witnesses, quorum=2, http=router(deployment.witnesses)
    )
    return impostor


def _key_problem(checked: Checked) -> str:
    found = [p for p in checked.result.problems if p.kind in ("key-rotation", "bad-signature")]
    assert found, checked.result.problems
    return str(found[0])


# -- a rotation announced by the old key --------------------------------------------------------


def test_a_rotation_announced_by_the_old_key_and_witnessed_is_accepted(
    deployment: Deployment,
) -> None:
    old = deployment.log.signer
    assert deployment.rotate()
    new = deployment.log.signer
    assert new.key_id != old.key_id
    assert load_signer(deployment.key_dir).key_id == new.key_id
    assert not (deployment.key_dir / NEXT_SIGNING_KEY_FILE).exists()
    deployment.append(4)
    deployment.checkpoint()
    assert not any(deployment.problems()), deployment.problems()  # both witnesses cosigned
    with deployment.factory() as session:
        latest = session.execute(select(func.max(AuditCheckpoint.tree_size))).scalar_one()
        entries = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    assert latest == entries == 5 + len(COVENANTS) + 4
    checked = deployment.verify()  # pinned to the first key only
    assert checked.result.ok, checked.result.problems
    assert checked.complete
    assert checked.key_ids == [old.key_id, new.key_id]
    assert checked.result.witnessed_tree_size == latest


def test_a_running_gateway_takes_the_new_key_once_it_is_installed(
    deployment: Deployment,
) -> None:
    """Another replica still holding the old key signs nothing after the announcement until
    the new key is in the key directory, then uses it."""
    replica = AuditLog.from_key_dir(deployment.key_dir)
    replica.origin = ORIGIN
    replica.witnessing = deployment.log.witnessing
    old_id = replica.signer.key_id
    assert deployment.rotate()
    deployment.append(2, log=replica)
    deployment.checkpoint(log=replica)
    assert replica.signer.key_id != old_id
    assert deployment.verify().complete


def test_the_rotation_is_recorded_in_the_log(deployment: Deployment) -> None:
    old = deployment.log.signer.key_id
    assert deployment.rotate()
    with deployment.factory() as session:
        bodies = session.execute(
            select(AuditRecord.body).where(AuditRecord.activity == "key-rotation")
        ).scalars()
        recorded = list(bodies)
    assert len(recorded) == len(COVENANTS)
    assert old in recorded[0]
    assert deployment.log.signer.key_id in recorded[0]


def test_an_export_after_a_rotation_verifies_offline_with_the_first_key(
    deployment: Deployment, tmp_path: Path
) -> None:
    assert deployment.rotate()
    deployment.append(3)
    deployment.checkpoint()
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_export(deployment.factory, out, [deployment.log.signer.public_key])
    trust = Trust(
        log_key=deployment.first_key,
        witnesses=[w.verifier for w in deployment.witnesses],
        quorum=2,
    )
    checked = verify_exported(read_export(path), trust, http=None)
    assert checked.complete, checked.result.problems
    assert checked.rotations == 1


# -- a key without an announcement ---------------------------------------------------------------


def test_a_silent_key_swap_is_refused_by_the_witnesses_and_the_verifier(
    deployment: Deployment, tmp_path: Path
) -> None:
    """A new key dropped into the key directory signs the next checkpoint, no announcement."""
    impostor = _impostor(deployment, tmp_path / "swapped")
    deployment.append(3, log=impostor)
    deployment.checkpoint(log=impostor)
    assert impostor.witnessing is not None
    refusals = list(impostor.witnessing.last_problem.values())
    assert refusals, "no witness was asked"  # else all() below holds for nothing
    assert all("403" in (p or "") for p in refusals), refusals
    checked = deployment.verify()
    assert not checked.result.ok
    assert "checkpoint 8: bad-signature: signed by an untrusted key" in _key_problem(checked)
    # Even an auditor who was made to pin the new key as well sees the swap.
    swapped = impostor.signer.note_signer(ORIGIN).verifier
    also_pinned = deployment.verify(deployment.first_key, swapped)
    assert "a silent key swap" in _key_problem(also_pinned)


def test_the_old_key_after_an_announcement_is_refused(deployment: Deployment) -> None:
    """Whoever kept a copy of the old key cannot sign after the rotation: the gateway refuses,
    the witnesses refuse, the verifier names it."""
    old = deployment.log.signer
    assert deployment.rotate()
    deployment.append(2)
    with pytest.raises(SignerReplaced):
        _sign_with(deployment, old)
    forged = _forge_checkpoint(deployment, old)
    assert deployment.log.witnessing is not None
    deployment.log.witnessing.cosign_latest(deployment.factory)
    assert all("403" in p for p in deployment.problems()), deployment.problems()
    checked = deployment.verify()
    assert f"checkpoint {forged}: key-rotation: signed by the old key" in _key_problem(checked)


def test_an_announcement_without_the_witness_quorum_installs_nothing_until_run_again(
    deployment: Deployment,
) -> None:
    old = deployment.log.signer.key_id
    deployment.witnesses[1].down = True
    assert not deployment.rotate()
    assert load_signer(deployment.key_dir).key_id == old
    assert (deployment.key_dir / NEXT_SIGNING_KEY_FILE).exists()
    pending = load_or_create_next_signer_id(deployment.key_dir)
    # The gateway holding the old key signs nothing after the announcement.
    deployment.append(1)
    with pytest.raises(SignerReplaced):
        deployment.checkpoint()
    # A start in between is refused: the rotation is not finished.
    with pytest.raises(AuditKeyError, match="rotation did not finish"):
        open_audit_keys(deployment.key_dir, deployment.factory)
    deployment.witnesses[1].down = False
    assert deployment.rotate()  # resumes: the same new key, the same announcement
    assert deployment.log.signer.key_id == pending
    deployment.checkpoint()
    assert deployment.verify().complete


def load_or_create_next_signer_id(key_dir: Path) -> str:
    from audit.keys import load_or_create_next_signer

    return load_or_create_next_signer(key_dir).key_id


def test_a_key_announced_without_the_witnesses_is_refused_by_the_verifier(
    deployment: Deployment, tmp_path: Path
) -> None:
    """The operator holds the old key and announces a new one the witnesses never saw, then
    signs with it: the announcement lacks the quorum, so the new key is not accepted."""
    deployment.witnesses[0].down = True
    deployment.witnesses[1].down = True
    new = load_or_create_signer(tmp_path / "unwitnessed")
    deployment.append(1)
    with transaction(deployment.factory) as session:
        lock_for_signing(session)
        sign_in(
            session,
            deployment.log.signer,
            origin=ORIGIN,
            pseudonym_key=pseudonym_key_check(deployment.log.pseudonymiser),
            next_key=new.vkey(ORIGIN),
        )
    deployment.append(2)
    forged = _forge_checkpoint(deployment, new)
    checked = deployment.verify_offline()
    assert f"checkpoint {forged}: key-rotation" in _key_problem(checked)
    assert "lacks the quorum of witness cosignatures" in _key_problem(checked)


def _sign_with(deployment: Deployment, signer: CheckpointSigner) -> int | None:
    with transaction(deployment.factory) as session:
        lock_for_signing(session)
        view = sign_in(
            session,
            signer,
            origin=ORIGIN,
            pseudonym_key=pseudonym_key_check(deployment.log.pseudonymiser),
        )
    return view.tree_size if view is not None else None


def _forge_checkpoint(deployment: Deployment, signer: CheckpointSigner) -> int:
    """What someone with database access and ``signer``'s private key can write: a checkpoint
    signed by it, past the gateway's own refusal to sign with a replaced key (their own code
    would not have that check)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gateway.audit.checkpoints.is_legacy_note", lambda note: True)
        size = _sign_with(deployment, signer)
    assert size is not None
    return size


# -- the first key ------------------------------------------------------------------------------


def test_a_key_replaced_before_the_first_checkpoint_is_refused_at_start(
    factory: sessionmaker[Session], audit_log: AuditLog, key_dir: Path, tmp_path: Path
) -> None:
    """Entries written, no checkpoint yet, the signing key file replaced: with the configured
    log key (KETENPOORT_AUDIT_LOG_KEY) the gateway does not start."""
    pinned = audit_log.signer.public_key
    with transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(0))
    # Positive control: the configured key opens.
    signer, _ = open_audit_keys(key_dir, factory, pinned)
    assert signer.key_id == audit_log.signer.key_id
    other = tmp_path / "other"
    load_or_create_signer(other)
    shutil.copy(other / SIGNING_KEY_FILE, key_dir / SIGNING_KEY_FILE)
    with pytest.raises(AuditKeyError, match="not the log's first key"):
        open_audit_keys(key_dir, factory, pinned)


def test_a_first_checkpoint_under_a_replaced_key_is_refused_by_witnesses_and_verifier(
    factory: sessionmaker[Session], audit_log: AuditLog, tmp_path: Path
) -> None:
    """The key replaced before the first checkpoint and the gateway started without the
    setting: the witnesses (set up with the published key) refuse to cosign, the verifier
    pinned to the published key names the checkpoint; and at the next start with the setting
    the gateway refuses the key."""
    audit_log.origin = ORIGIN
    published = audit_log.signer.note_signer(ORIGIN).verifier
    witnesses = [start_witness(tmp_path / "w1", "witness.partner-1.test/kp", audit_log)]
    swapped = _log_at(tmp_path / "swapped", audit_log)
    http = witnessed(swapped, witnesses, quorum=1)
    trust = Trust(log_key=published, witnesses=[w.endpoint for w in witnesses], quorum=1)
    with transaction(factory) as session:
        swapped.append(session=session, entry=disclosure(0))
    swapped.sign_checkpoint(factory)
    assert swapped.witnessing is not None
    assert "403" in (swapped.witnessing.last_problem[witnesses[0].name] or "")
    checked = verify_stored(factory, trust, http=http)
    assert "checkpoint 1: bad-signature: signed by an untrusted key" in _key_problem(checked)
    assert checked.result.witnessed_tree_size == 0
    with pytest.raises(AuditKeyError, match="first checkpoint .* is not signed by the configured"):
        open_audit_keys(tmp_path / "swapped", factory, published.public_key)


def test_the_published_first_key_signs_a_first_checkpoint_the_witnesses_cosign(
    factory: sessionmaker[Session], audit_log: AuditLog, key_dir: Path, tmp_path: Path
) -> None:
    """Positive control of the test above: the same steps with the published key."""
    audit_log.origin = ORIGIN
    published = audit_log.signer.note_signer(ORIGIN).verifier
    witnesses = [start_witness(tmp_path / "w1", "witness.partner-1.test/kp", audit_log)]
    http = witnessed(audit_log, witnesses, quorum=1)
    with transaction(factory) as session:
        audit_log.append(session=session, entry=disclosure(0))
    audit_log.sign_checkpoint(factory)
    trust = Trust(log_key=published, witnesses=[w.endpoint for w in witnesses], quorum=1)
    assert verify_stored(factory, trust, http=http).complete
    signer, _ = open_audit_keys(key_dir, factory, published.public_key)
    assert signer.key_id == audit_log.signer.key_id


def _log_at(directory: Path, like: AuditLog) -> AuditLog:
    log = AuditLog.from_key_dir(directory)
    log.origin = like.origin
    log.pseudonymiser = like.pseudonymiser
    assert like.key_dir is not None
    shutil.copy(like.key_dir / "pseudonym-key", directory / "pseudonym-key")
    return log


# -- the gateway's start after a rotation ----------------------------------------------------------


def test_after_a_rotation_the_gateway_starts_with_the_new_key_only(
    deployment: Deployment, tmp_path: Path
) -> None:
    saved = tmp_path / "old-key.pem"
    shutil.copy(deployment.key_dir / SIGNING_KEY_FILE, saved)
    assert deployment.rotate()
    pinned = deployment.first_key.public_key
    signer, _ = open_audit_keys(deployment.key_dir, deployment.factory, pinned)
    assert signer.key_id == deployment.log.signer.key_id
    deployment.append(1)
    deployment.checkpoint()
    shutil.copy(saved, deployment.key_dir / SIGNING_KEY_FILE)  # the old key put back
    with pytest.raises(AuditKeyError, match="not the key the log's latest checkpoint"):
        open_audit_keys(deployment.key_dir, deployment.factory, pinned)
