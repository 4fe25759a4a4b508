"""The tamper matrix: what someone with write access to the database (and to the gateway's key
directory) can try, and what ``audit verify`` says about it. Every row runs on SQLite and on
PostgreSQL and asserts the message that names what was changed.

The log: 20 entries, checkpoints at 7, 14 and 20, each cosigned by two witnesses (quorum 2).
The verifier trusts only what it is given from outside: the pinned log key and origin, the
witness keys, and what the witnesses hold now (fetched over their HTTP interface).

Rows for every filterable column are in test_tamper_columns.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from audit.keys import PSEUDONYM_KEY_FILE, SIGNING_KEY_FILE
from audit.merkle import leaf_hash
from audit.verification import Trust
from audit.verification import anchors as witness_anchors
from audit.verify import Anchor, Problem, VerificationResult
from gateway.audit import AuditLog
from gateway.audit.export import db_checkpoints, verify_database
from gateway.audit.keyguard import AuditKeyError, open_audit_keys
from gateway.db import transaction

from .builders import disclosure
from .witnesses import ORIGIN, RunningWitness, log_verifier, router, start_witness, witnessed

SIZE = 20
CHECKPOINTS = (7, 14, 20)


@dataclass
class Deployment:
    factory: sessionmaker[Session]
    log: AuditLog
    witnesses: list[RunningWitness]
    http: httpx.Client
    key_dir: Path

    def anchors(self, witnesses: list[RunningWitness] | None = None) -> list[Anchor]:
        """What ``audit verify`` compares with, as it fetches it (a witness that holds nothing
        is an anchor of size 0)."""
        with self.factory() as session:
            checkpoints = db_checkpoints(session)
        asked = self.witnesses if witnesses is None else witnesses
        trust = Trust(log_key=log_verifier(self.log), witnesses=[w.endpoint for w in asked])
        found, _ = witness_anchors(trust, checkpoints, http=router(asked))
        return found

    def verify(self, log_key: AuditLog | None = None) -> VerificationResult:
        """What ``ketenpoort audit verify --log-key <pinned> --witness ...`` computes."""
        return verify_database(
            self.factory,
            [(log_key or self.log).signer.public_key],
            origin=ORIGIN,
            witnesses=[w.verifier for w in self.witnesses],
            quorum=len(self.witnesses),
            anchors=self.anchors(),
        )

    def append(self, count: int, start: int = 0) -> None:
        for number in range(start, start + count):
            with transaction(self.factory) as session:
                self.log.append(session=session, entry=disclosure(number))

    def sql(self, statement: str, **params: object) -> None:
        with transaction(self.factory) as session:
            session.execute(text(statement), params)


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
    deployed = Deployment(factory, audit_log, witnesses, http, key_dir)
    done = 0
    for size in CHECKPOINTS:
        deployed.append(size - done, start=done)
        audit_log.sign_checkpoint(factory)
        done = size
    yield deployed
    http.close()


def first(result: VerificationResult) -> Problem:
    problem = result.first_problem
    assert problem is not None, "the tampering was not detected"
    return problem


def test_the_untouched_witnessed_log_verifies(deployment: Deployment) -> None:
    result = deployment.verify()
    assert result.ok, result.problems
    assert (result.entries, result.verified_tree_size, result.witnessed_tree_size) == (20, 20, 20)
    assert (result.unwitnessed, result.anchors) == (0, 2)


def test_entries_after_the_last_cosigned_checkpoint_are_not_yet_witnessed(
    deployment: Deployment,
) -> None:
    deployment.append(3, start=SIZE)
    result = deployment.verify()
    assert result.ok
    assert (result.entries, result.witnessed_tree_size, result.unwitnessed) == (23, 20, 3)
    deployment.log.sign_checkpoint(deployment.factory)
    assert deployment.verify().unwitnessed == 0


def test_a_checkpoint_without_the_quorum_is_not_witnessed(deployment: Deployment) -> None:
    """Positive control for the quorum: one witness down, the new checkpoint is signed but
    carries one cosignature of the two required."""
    deployment.witnesses[1].down = True
    deployment.append(2, start=SIZE)
    deployment.log.sign_checkpoint(deployment.factory)
    result = verify_database(
        deployment.factory,
        [deployment.log.signer.public_key],
        origin=ORIGIN,
        witnesses=[w.verifier for w in deployment.witnesses],
        quorum=2,
    )
    assert result.ok
    assert (result.verified_tree_size, result.witnessed_tree_size) == (22, 20)
    problems = deployment.log.witnessing.last_problem  # type: ignore[union-attr]
    assert "connection refused" in (problems[deployment.witnesses[1].name] or "")
    deployment.witnesses[1].down = False
    deployment.log.sign_checkpoint(deployment.factory)  # nothing new: asks the witness again
    assert deployment.verify().witnessed_tree_size == 22


# -- entries ----------------------------------------------------------------------------------


def test_a_changed_body_byte_is_named(deployment: Deployment) -> None:
    deployment.sql("UPDATE audit_entry SET body = replace(body, 'dec-9', 'dec-8') WHERE idx = 9")
    problem = first(deployment.verify())
    assert (problem.kind, problem.index) == ("changed", 9)
    assert "no longer matches its hash" in problem.detail


def test_a_changed_leaf_hash_is_named(deployment: Deployment) -> None:
    deployment.sql("UPDATE audit_entry SET leaf_hash = :h WHERE idx = 11", h=bytes(32))
    problem = first(deployment.verify())
    assert (problem.kind, problem.index) == ("changed", 11)


def test_an_entry_rewritten_with_its_leaf_hash_is_caught_by_the_signed_root(
    deployment: Deployment,
) -> None:
    _rewrite(deployment, 3)
    problem = first(deployment.verify())
    assert (problem.kind, problem.checkpoint) == ("changed", 7)
    assert "0..6" in problem.detail


def test_a_deleted_middle_entry_is_named(deployment: Deployment) -> None:
    deployment.sql("DELETE FROM audit_entry WHERE idx = 12")
    problem = first(deployment.verify())
    assert (problem.kind, problem.index) == ("missing", 12)
    assert "entries 12..12 are missing" in problem.detail


def test_a_deleted_tail_with_its_head_and_checkpoint_is_caught_by_the_witnesses(
    deployment: Deployment,
) -> None:
    """Entries 14..19, the head and checkpoint 20 deleted: the log is a consistent, signed
    log of 14 entries again; only the witnesses know it had 20."""
    deployment.sql("DELETE FROM audit_entry WHERE idx >= 14")
    deployment.sql("DELETE FROM audit_note_signature WHERE tree_size = 20")
    deployment.sql("DELETE FROM audit_checkpoint WHERE tree_size = 20")
    deployment.sql("UPDATE audit_head SET next_index = 14")
    result = deployment.verify()
    problem = first(result)
    assert (problem.kind, problem.index) == ("missing", 14)
    assert "witness witness.partner-1.test/kp holds a checkpoint of size 20" in problem.detail
    assert "entries 14..19 were deleted" in problem.detail
    assert any(p.kind == "missing-checkpoint" and p.checkpoint == 20 for p in result.problems)


def test_two_swapped_entries_are_named(deployment: Deployment) -> None:
    deployment.sql("UPDATE audit_entry SET idx = -1 WHERE idx = 4")
    deployment.sql("UPDATE audit_entry SET idx = 4 WHERE idx = 5")
    deployment.sql("UPDATE audit_entry SET idx = 5 WHERE idx = -1")
    problem = first(deployment.verify())
    assert (problem.kind, problem.index) == ("reordered", 4)
    assert "recorded as entry 5" in problem.detail


# -- checkpoints ------------------------------------------------------------------------------


def _delete_checkpoint(deployment: Deployment, size: int | None = None) -> None:
    where = "" if size is None else f" WHERE tree_size = {size}"
    deployment.sql(f"DELETE FROM audit_note_signature{where}")
    deployment.sql(f"DELETE FROM audit_checkpoint{where}")


def _rewrite(deployment: Deployment, index: int) -> None:
    with deployment.factory() as session:
        body = session.execute(
            text("SELECT body FROM audit_entry WHERE idx = :i"), {"i": index}
        ).scalar_one()
    recipient = '"recipient":{"partnerId":'
    forged = body.replace(recipient + '"u-centraal"', recipient + '"mitros"')
    assert forged != body
    deployment.sql(
        "UPDATE audit_entry SET body = :b, leaf_hash = :h, recipient_partner = 'mitros' "
        "WHERE idx = :i",
        b=forged,
        h=leaf_hash(forged.encode()),
        i=index,
    )


def test_a_deleted_middle_checkpoint_is_named_by_its_successor(deployment: Deployment) -> None:
    _delete_checkpoint(deployment, 7)
    problem = first(deployment.verify())
    assert (problem.kind, problem.checkpoint) == ("missing-checkpoint", 7)
    assert "checkpoint 14 was signed as its successor" in problem.detail


def test_a_deleted_last_checkpoint_is_named_by_the_witnesses(deployment: Deployment) -> None:
    _delete_checkpoint(deployment, 20)
    result = deployment.verify()
    problem = first(result)
    assert (problem.kind, problem.checkpoint) == ("missing-checkpoint", 20)
    assert "witness.partner-1.test/kp cosigned as the latest" in problem.detail
    assert result.unwitnessed == 6


def test_all_checkpoints_deleted_and_an_entry_rewritten_is_caught(
    deployment: Deployment,
) -> None:
    """The issue's first attack: no checkpoint left to compare with, a rewritten entry with
    its leaf hash recomputed. The witnesses still hold the root of the 20 original entries."""
    _delete_checkpoint(deployment)
    _rewrite(deployment, 3)
    result = deployment.verify()
    changed = [p for p in result.problems if p.kind == "changed"]
    assert changed, result.problems
    assert "entries 0..19 no longer hash to the root of the checkpoint of size 20" in (
        changed[0].detail
    )
    assert "history was rewritten" in changed[0].detail
    assert result.witnessed_tree_size == 0
    assert result.unwitnessed == 20


def test_all_checkpoints_deleted_leaves_every_entry_unwitnessed(deployment: Deployment) -> None:
    _delete_checkpoint(deployment)
    result = deployment.verify()
    assert not result.ok
    assert result.unwitnessed == SIZE
    assert first(result).kind == "missing-checkpoint"


def test_checkpoints_re_signed_under_a_new_key_are_untrusted(
    deployment: Deployment, tmp_path: Path
) -> None:
    """A new key dropped into the key directory and every checkpoint re-signed with it: the
    pinned key does not know it, and the witnesses' checkpoint is gone from the log."""
    _delete_checkpoint(deployment)
    _rewrite(deployment, 3)
    impostor = AuditLog.from_key_dir(tmp_path / "impostor-keys")
    impostor.origin = ORIGIN
    impostor.sign_checkpoint(deployment.factory)
    result = deployment.verify()
    bad = [p for p in result.problems if p.kind == "bad-signature"]
    assert bad
    assert "signed by an untrusted key" in bad[0].detail
    assert any("history was rewritten" in p.detail for p in result.problems)


def test_a_rolled_back_witness_is_named(deployment: Deployment, tmp_path: Path) -> None:
    """A witness's state file restored from an old copy (it now holds 7, cosigned 20)."""
    witness = deployment.witnesses[0]
    # Rebuild what the witness held at 7: a fresh witness fed the first checkpoint only.
    saved = tmp_path / "state-at-7.json"
    _state_at(deployment, witness, 7, saved)
    shutil.copy(saved, witness.state_file())
    problem = first(deployment.verify())
    assert (problem.kind, problem.checkpoint) == ("witness", 20)
    assert "witness witness.partner-1.test/kp now holds tree size 7" in problem.detail
    assert "its state was lost or rolled back" in problem.detail


# -- a witness that lost its state (review8b F2) ----------------------------------------------


def test_a_witness_that_lost_its_state_is_named(deployment: Deployment) -> None:
    """Its state file gone, it answers 404 (holds nothing): that is less than checkpoint 20,
    which the log carries its cosignature of. It was taken as "holds nothing", no problem."""
    deployment.witnesses[0].state_file().unlink()
    result = deployment.verify()
    problem = first(result)
    assert (problem.kind, problem.checkpoint) == ("witness", 20)
    assert (
        "witness witness.partner-1.test/kp holds no checkpoint of this log but cosigned "
        "checkpoint 20 before: its state was lost or rolled back"
    ) in problem.detail
    assert result.anchors == 1  # the other witness's checkpoint, compared


def test_every_witness_wiped_and_the_tail_deleted_is_caught(deployment: Deployment) -> None:
    """Both witnesses lost their state, then entries 14..19, checkpoint 20 and the head were
    deleted: a consistent log of 14 that verified OK. Their cosignatures of 7 and 14 remain."""
    for witness in deployment.witnesses:
        witness.state_file().unlink()
    deployment.sql("DELETE FROM audit_entry WHERE idx >= 14")
    deployment.sql("DELETE FROM audit_note_signature WHERE tree_size = 20")
    deployment.sql("DELETE FROM audit_checkpoint WHERE tree_size = 20")
    deployment.sql("UPDATE audit_head SET next_index = 14")
    problem = first(deployment.verify())
    assert (problem.kind, problem.checkpoint) == ("witness", 14)
    assert "holds no checkpoint of this log but cosigned checkpoint 14" in problem.detail


def test_a_fresh_witness_of_the_log_that_holds_nothing_is_fine(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Positive control: a witness the log carries no cosignature of (just added) holds
    nothing yet, and that is no problem."""
    fresh = start_witness(tmp_path / "witness-3", "witness.partner-3.test/kp", deployment.log)
    asked = [*deployment.witnesses, fresh]
    result = verify_database(
        deployment.factory,
        [deployment.log.signer.public_key],
        origin=ORIGIN,
        witnesses=[w.verifier for w in asked],
        quorum=2,
        anchors=deployment.anchors(asked),
    )
    assert result.ok, result.problems
    assert (result.witnessed_tree_size, result.anchors) == (20, 2)


def test_the_gateway_does_not_feed_a_wiped_witness_again(deployment: Deployment) -> None:
    """The checkpoint job found the witness holding 0 (409) where it had cosigned 20, and fed
    it the log again from scratch: fresh cosignatures over whatever the log held then, and
    nothing left for 'audit verify' to notice. Now it refuses and says why; the other witness
    cosigns as before (control)."""
    lost, kept = deployment.witnesses
    lost.state_file().unlink()
    deployment.append(2, start=SIZE)
    deployment.log.sign_checkpoint(deployment.factory)
    problems = deployment.log.witnessing.last_problem  # type: ignore[union-attr]
    assert "holds tree size 0 but cosigned 20 before" in (problems[lost.name] or "")
    assert "its state was lost or rolled back" in (problems[lost.name] or "")
    assert problems[kept.name] is None
    assert not list((lost.directory / "state").glob("*.json"))  # not fed
    with deployment.factory() as session:
        signers = set(
            session.execute(
                text("SELECT signer FROM audit_note_signature WHERE tree_size = :s"),
                {"s": SIZE + 2},
            ).scalars()
        )
    assert kept.name in signers
    assert lost.name not in signers


def _state_at(deployment: Deployment, witness: RunningWitness, size: int, out: Path) -> None:
    """The witness state file as it was right after cosigning checkpoint ``size``."""
    import json

    with deployment.factory() as session:
        note = session.execute(
            text("SELECT note FROM audit_checkpoint WHERE tree_size = :s"), {"s": size}
        ).scalar_one()
        lines = session.execute(
            text(
                "SELECT line FROM audit_note_signature WHERE tree_size = :s AND signer IN (:o, :w)"
                " ORDER BY signed_at"
            ),
            {"s": size, "o": ORIGIN, "w": witness.name},
        ).scalars()
        signed = note + "\n" + "".join(lines)
    state = json.loads(witness.state_file().read_text())
    held = json.loads(json.dumps(state))
    held.update(treeSize=size, note=signed)
    with deployment.factory() as session:
        root = session.execute(
            text("SELECT root_hash FROM audit_checkpoint WHERE tree_size = :s"), {"s": size}
        ).scalar_one()
    import base64

    held["rootHash"] = base64.b64encode(bytes(root)).decode()
    out.write_text(json.dumps(held))


def test_a_witness_refuses_a_rewritten_history(deployment: Deployment, tmp_path: Path) -> None:
    """The gateway's own job cannot get a rewritten log cosigned: the consistency proof from
    what the witness holds fails, and the checkpoint stays unwitnessed."""
    _delete_checkpoint(deployment)
    _rewrite(deployment, 3)
    deployment.sql("DELETE FROM audit_tree_node")
    deployment.append(1, start=SIZE)
    deployment.log.sign_checkpoint(deployment.factory)
    problems = deployment.log.witnessing.last_problem  # type: ignore[union-attr]
    assert all("422" in (problems[w.name] or "") for w in deployment.witnesses), problems
    assert not deployment.verify().ok


# -- keys at start ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE])
def test_a_missing_key_file_stops_the_start(deployment: Deployment, name: str) -> None:
    (deployment.key_dir / name).unlink()
    with pytest.raises(AuditKeyError, match=f"{name} is missing"):
        open_audit_keys(deployment.key_dir, deployment.factory)
    assert not (deployment.key_dir / name).exists()  # and nothing was created


@pytest.mark.parametrize("name", [SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE])
def test_a_replaced_key_file_stops_the_start(
    deployment: Deployment, name: str, tmp_path: Path
) -> None:
    other = tmp_path / "other-keys"
    AuditLog.from_key_dir(other)
    shutil.copy(other / name, deployment.key_dir / name)
    with pytest.raises(AuditKeyError, match=f"{name} in .* is not the key"):
        open_audit_keys(deployment.key_dir, deployment.factory)


def test_the_right_keys_open(deployment: Deployment) -> None:
    signer, _ = open_audit_keys(deployment.key_dir, deployment.factory)
    assert signer.key_id == deployment.log.signer.key_id


def test_keys_are_created_only_for_an_empty_log(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    keys = tmp_path / "fresh"
    signer, _ = open_audit_keys(keys, factory)
    assert (keys / SIGNING_KEY_FILE).exists()
    assert (keys / PSEUDONYM_KEY_FILE).exists()
    again, _ = open_audit_keys(keys, factory)
    assert again.key_id == signer.key_id


def test_a_receipt_finds_the_witnessed_checkpoint_behind_many_unwitnessed_ones(
    deployment: Deployment,
) -> None:
    """Witnesses down for 25 checkpoint periods: an entry the witnessed checkpoint at 20 covers
    keeps a witnessed receipt (it looked back only 20 checkpoints before), and an entry only the
    unwitnessed checkpoints cover gets none (the control: nothing is witnessed by default)."""
    for witness in deployment.witnesses:
        witness.down = True
    for number in range(SIZE, SIZE + 25):
        deployment.append(1, start=number)
        deployment.log.sign_checkpoint(deployment.factory)
    # A line forged into the database under a witness's name on the newest checkpoint is a
    # candidate by its count, but does not verify, so it does not count.
    with transaction(deployment.factory) as session:
        forged = session.execute(
            text("SELECT line FROM audit_note_signature WHERE tree_size = 20 AND signer = :s"),
            {"s": deployment.witnesses[0].name},
        ).scalar_one()
    for witness in deployment.witnesses:
        deployment.sql(
            "INSERT INTO audit_note_signature (tree_size, signer, line, signed_at) "
            "VALUES (:size, :signer, :line, CURRENT_TIMESTAMP)",
            size=SIZE + 25,
            signer=witness.name,
            line=forged,
        )
    with transaction(deployment.factory) as session:
        covered = deployment.log.receipt(session, 5)
        uncovered = deployment.log.receipt(session, SIZE + 2)
    assert covered.witnessed
    assert covered.checkpoint is not None
    assert covered.checkpoint.tree_size == SIZE
    assert covered.checkpoint.cosignatures == 2
    assert not uncovered.witnessed
    assert uncovered.checkpoint is None
