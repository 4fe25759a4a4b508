"""A KEK held in an HSM, reached through PKCS#11 (tested against SoftHSM2).

The KEK never leaves the token: it is generated on the token as sensitive and
non-extractable, and data keys are wrapped by AES-256-GCM *on the token*. Version ``n`` is
the secret-key object labelled ``<label>-v<n>``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from gateway.crypto.errors import KeyProviderUnavailable, UndecryptableValue
from gateway.crypto.providers import KEY_BYTES, NONCE_BYTES, KeyProvider

log = logging.getLogger("ketenpoort.crypto")

T = TypeVar("T")


class Pkcs11KeyProvider(KeyProvider):
    """One logged-in session per process, guarded by a lock: PKCS#11 logs in per
    application, not per session, so a second concurrent login would fail."""

    name = "pkcs11"

    def __init__(self, *, module: str, token_label: str, pin: str, key_label: str) -> None:
        self.module = module
        self.token_label = token_label
        self.key_label = key_label
        self._pin = pin
        self._lock = threading.Lock()
        self._session: Any = None
        self._label_re = re.compile(rf"^{re.escape(key_label)}-v(\d+)$")

    def versions(self) -> list[int]:
        return self._call(self._versions)

    def create_version(self) -> int:
        def create(session: Any) -> int:
            from pkcs11 import Attribute, KeyType

            version = max(self._versions(session), default=0) + 1
            session.generate_key(
                KeyType.AES,
                KEY_BYTES * 8,
                label=self._label(version),
                store=True,
                template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                },
            )
            return version

        return self._call(create)

    def destroy_version(self, version: int) -> None:
        def destroy(session: Any) -> None:
            if len(self._versions(session)) <= 1:
                raise KeyProviderUnavailable("Refusing to destroy the only KEK version.")
            for key in self._keys(session, version):
                key.destroy()

        self._call(destroy)

    def create_if_missing(self) -> bool:
        """Generate version 1 on an empty token (first start); True when it was created."""

        def create(session: Any) -> bool:
            return not self._versions(session)

        if self._call(create):
            self.create_version()
            log.info("generated KEK %s-v1 on PKCS#11 token %s", self.key_label, self.token_label)
            return True
        return False

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        nonce = os.urandom(NONCE_BYTES)

        def wrap(session: Any) -> bytes:
            kek = self._key(session, version)
            sealed: bytes = kek.encrypt(
                key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128)
            )
            return nonce + sealed

        return self._call(wrap)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.exceptions import PKCS11Error
        from pkcs11.mechanisms import GCMParams

        def unwrap(session: Any) -> bytes:
            kek = self._key(session, version)
            params = GCMParams(wrapped[:NONCE_BYTES], aad, 128)
            try:
                plain: bytes = kek.decrypt(
                    wrapped[NONCE_BYTES:], mechanism=Mechanism.AES_GCM, mechanism_param=params
                )
            except PKCS11Error as exc:
                # Tokens report a failed GCM tag as a generic error; telling it apart from an
                # outage is token-specific, so a failure here is treated as a bad wrapped key
                # unless the KEK lookup above already failed (an outage, handled by _call).
                raise UndecryptableValue("A wrapped data key failed its integrity check.") from exc
            return plain

        return self._call(unwrap)

    def close(self) -> None:
        with self._lock:
            self._drop_session()

    # -- internals ---------------------------------------------------------------------

    def _label(self, version: int) -> str:
        return f"{self.key_label}-v{version}"

    def _versions(self, session: Any) -> list[int]:
        from pkcs11 import Attribute, ObjectClass

        found: set[int] = set()
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            match = self._label_re.match(obj[Attribute.LABEL])
            if match:
                found.add(int(match.group(1)))
        return sorted(found)

    def _keys(self, session: Any, version: int) -> list[Any]:
        from pkcs11 import Attribute, ObjectClass

        return list(
            session.get_objects(
                {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: self._label(version)}
            )
        )

    def _key(self, session: Any, version: int) -> Any:
        keys = self._keys(session, version)
        if len(keys) != 1:
            raise KeyProviderUnavailable(
                f"KEK version {version} is not on the PKCS#11 token ({len(keys)} objects)."
            )
        return keys[0]

    def _call(self, operation: Callable[[Any], T]) -> T:
        from pkcs11.exceptions import PKCS11Error

        with self._lock:
            for attempt in (1, 2):
                try:
                    return operation(self._open())
                except (KeyProviderUnavailable, UndecryptableValue):
                    raise
                except (PKCS11Error, OSError, RuntimeError) as exc:
                    # A dropped session (HSM restarted) gets one fresh login, then we give up.
                    self._drop_session()
                    if attempt == 2:
                        log.warning("PKCS#11 token unavailable: %s", type(exc).__name__)
                        raise KeyProviderUnavailable(
                            "The PKCS#11 token is unreachable or refused the login."
                        ) from None
            raise AssertionError("unreachable")

    def _open(self) -> Any:
        if self._session is None:
            import pkcs11
            from pkcs11.exceptions import UserAlreadyLoggedIn

            token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
            try:
                self._session = token.open(user_pin=self._pin, rw=True)
            except UserAlreadyLoggedIn:
                # PKCS#11 logins are per process: another provider instance (a CLI command
                # in-process, a test) already logged in, and its sessions share the login.
                self._session = token.open(rw=True)
        return self._session

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - a dead session cannot be closed cleanly
                log.debug("closing a dead PKCS#11 session failed")
