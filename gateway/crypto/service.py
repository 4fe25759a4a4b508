"""Key management: status, KEK rotation (re-wrap data keys only), retirement, shredding."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.crypto.errors import InvalidKeyScope, KeyProviderUnavailable, KeyRotationIncomplete
from gateway.crypto.keystore import DataKeyStore, Erased, validate_scope, wrap_aad
from gateway.crypto.models import DataKey
from gateway.crypto.providers import KeyProvider
from gateway.db import transaction, utcnow

log = logging.getLogger("ketenpoort.crypto")

# Progress callback: (data keys re-wrapped so far, total to re-wrap).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    kek_versions: list[int]
    active_version: int | None
    provider_problem: str | None
    data_keys_by_kek_version: dict[int, int] = field(default_factory=dict)
    shredded_scopes: int = 0


@dataclass(frozen=True)
class RotationResult:
    kek_version: int
    rewrapped: int
    passes: int


def key_status(
    *, session: Session, provider: KeyProvider, scopes: Select[str] | None = None
) -> KeyStatus:
    """KEK versions and how many live and shredded data keys each wraps; no key material.

    ``scopes``: count only the data keys of these key scopes (a privacy officer's: the
    dossiers its partner is accountable for, gateway/crypto/api.py); None counts every key
    (the operator's ``ketenpoort keys status``). Gateway-wide counts told every officer when
    a case of any covenant was opened and how many were erased (review9d F1)."""
    try:
        versions = provider.versions()
        problem = provider.check()
    except KeyProviderUnavailable as exc:
        versions, problem = [], exc.detail
    counted = [] if scopes is None else [DataKey.scope.in_(scopes.scalar_subquery())]
    counts = session.execute(
        select(DataKey.kek_version, func.count())
        .where(DataKey.wrapped_key.is_not(None), *counted)
        .group_by(DataKey.kek_version)
    ).all()
    shredded = session.execute(
        select(func.count()).select_from(DataKey).where(DataKey.wrapped_key.is_(None), *counted)
    ).scalar_one()
    return KeyStatus(
        provider=provider.name,
        kek_versions=versions,
        active_version=versions[-1] if versions else None,
        provider_problem=problem,
        data_keys_by_kek_version={int(v): int(n) for v, n in counts},
        shredded_scopes=int(shredded),
    )


def rotate_kek(
    *,
    session_factory: sessionmaker[Session],
    provider: KeyProvider,
    batch_size: int = 500,
    new_version: bool = True,
    progress: Progress | None = None,
) -> RotationResult:
    """Create a new KEK version (unless resuming) and re-wrap every data key under it.

    Values are not re-encrypted: a data key's bytes never change, only their wrapping, so
    reads keep working throughout (the old KEK still unwraps until it is retired). Each
    batch is its own short transaction. Passes repeat until no key is left under an old
    version, which also catches keys a running server created before it saw the new KEK.
    """
    target = provider.create_version() if new_version else provider.active_version()
    rewrapped, passes = 0, 0
    while True:
        with transaction(session_factory) as session:
            remaining = _count_not_under(session, target)
        if remaining == 0:
            break
        passes += 1
        if passes > 5:
            raise KeyRotationIncomplete(
                f"{remaining} data keys are still under an older KEK after 5 passes."
            )
        done = _rewrap_pass(session_factory, provider, target, batch_size, remaining, progress)
        rewrapped += done
    log.info("KEK rotation to version %s re-wrapped %s data keys", target, rewrapped)
    return RotationResult(kek_version=target, rewrapped=rewrapped, passes=passes)


def _count_not_under(session: Session, version: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(DataKey)
            .where(DataKey.wrapped_key.is_not(None), DataKey.kek_version != version)
        ).scalar_one()
    )


def _rewrap_pass(
    session_factory: sessionmaker[Session],
    provider: KeyProvider,
    target: int,
    batch_size: int,
    total: int,
    progress: Progress | None,
) -> int:
    last_id, done = 0, 0
    while True:
        with transaction(session_factory) as session:
            rows = session.execute(
                select(DataKey.id, DataKey.scope, DataKey.kek_version, DataKey.wrapped_key)
                .where(
                    DataKey.id > last_id,
                    DataKey.wrapped_key.is_not(None),
                    DataKey.kek_version != target,
                )
                .order_by(DataKey.id)
                .limit(batch_size)
            ).all()
            for row in rows:
                assert row.wrapped_key is not None
                aad = wrap_aad(row.scope)
                key = provider.unwrap(row.kek_version, row.wrapped_key, aad)
                # Conditional on the version we read: a key shredded meanwhile stays shredded.
                result = session.execute(
                    update(DataKey)
                    .where(DataKey.id == row.id, DataKey.kek_version == row.kek_version)
                    .where(DataKey.wrapped_key.is_not(None))
                    .values(
                        kek_version=target,
                        wrapped_key=provider.wrap(target, key, aad),
                        rewrapped_at=utcnow(),
                    )
                    .execution_options(synchronize_session=False)
                )
                done += getattr(result, "rowcount", 0) or 0
        if not rows:
            return done
        last_id = rows[-1].id
        if progress is not None:
            progress(min(done, total), total)


def retire_old_keks(*, session: Session, provider: KeyProvider) -> list[int]:
    """Destroy every KEK version but the active one, once no data key needs them."""
    versions = provider.versions()
    if not versions:
        raise KeyProviderUnavailable("The key provider holds no KEK.")
    active = versions[-1]
    in_use = _count_not_under(session, active)
    if in_use:
        raise KeyRotationIncomplete(
            f"{in_use} data keys are still wrapped by an older KEK; run 'ketenpoort keys "
            "rotate --resume' first."
        )
    retired = [v for v in versions if v != active]
    for version in retired:
        provider.destroy_version(version)
    log.info("retired KEK versions %s; active version %s", retired, active)
    return retired


def shred_scope(*, session: Session, keys: DataKeyStore, scope: str, reason: str) -> Erased:
    """Destroy the data key of ``scope``: every value under it reads as ``Erased`` from now.

    Runs in the caller's transaction, so the retention sweep's audit record commits with
    it. Idempotent: shredding twice returns the first erasure. A scope that never had a
    key gets a tombstone, so nothing can be stored under it afterwards. ``reason`` is
    shown to readers: name the rule, never personal data.
    """
    validate_scope(scope)
    if not reason or len(reason) > 200:
        raise InvalidKeyScope("A shred reason is 1 to 200 characters.")
    row = session.execute(
        select(DataKey.id, DataKey.shredded_at, DataKey.shred_reason).where(DataKey.scope == scope)
    ).one_or_none()
    keys.forget(scope=scope, dek_id=row.id if row is not None else None)
    if row is not None and row.shredded_at is not None:
        return Erased(at=row.shredded_at, reason=row.shred_reason or "")
    erased = Erased(at=utcnow(), reason=reason)
    if row is None:
        tombstone = DataKey(
            scope=scope,
            kek_version=0,
            wrapped_key=None,
            shredded_at=erased.at,
            shred_reason=reason,
        )
        session.add(tombstone)
        session.flush()
        dek_id = tombstone.id
    else:
        session.execute(
            update(DataKey)
            .where(DataKey.id == row.id)
            .values(wrapped_key=None, shredded_at=erased.at, shred_reason=reason)
            .execution_options(synchronize_session=False)
        )
        dek_id = row.id
    # Evicted above, and again once the shred commits: a read racing with this
    # transaction may have cached the key in between.
    event.listen(session, "after_commit", lambda _: keys.forget(scope=scope, dek_id=dek_id))
    log.info("shredded data key %s (scope kind %s)", dek_id, scope.split(":", 1)[0])
    return erased
