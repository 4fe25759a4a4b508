"""The PKCS#11 key provider against SoftHSM2 (Debian package ``softhsm2``).

Skipped with a message when SoftHSM2 is not installed; required when CI=true. Set
KETENPOORT_TEST_PKCS11_MODULE to use another module path.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.crypto import KeyProviderUnavailable, UndecryptableValue, case_scope
from gateway.crypto.pkcs11_provider import Pkcs11KeyProvider
from gateway.crypto.runtime import build_crypto_services, create_first_kek
from gateway.crypto.service import retire_old_keks, rotate_kek
from gateway.db import transaction
from tests.crypto.kek_race import create_first_kek_on_token, race

pytestmark = pytest.mark.hsm

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MODULE_CANDIDATES = (
    os.environ.get("KETENPOORT_TEST_PKCS11_MODULE", ""),
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKEN_LABEL = "ketenpoort-test"
PIN = "1234"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An initialised SoftHSM2 token in a temporary directory; yields the module path."""
    module = next((m for m in MODULE_CANDIDATES if m and Path(m).is_file()), None)
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        message = (
            "PKCS#11 tests skipped: SoftHSM2 not found (install the Debian package 'softhsm2', "
            "or set KETENPOORT_TEST_PKCS11_MODULE to libsofthsm2.so); with CI=true they are "
            "required."
        )
        if IN_CI:
            pytest.fail("CI=true but " + message, pytrace=False)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    # SoftHSM2 reads its configuration when the module is first initialised in this process.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN, "--so-pin", "5678"],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    yield module
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def key_label() -> str:
    """A fresh KEK label per test: tests share the token but never each other's keys."""
    return f"kek-{secrets.token_hex(4)}"


@pytest.fixture
def provider(softhsm: str, key_label: str) -> Iterator[Pkcs11KeyProvider]:
    hsm = Pkcs11KeyProvider(module=softhsm, token_label=TOKEN_LABEL, pin=PIN, key_label=key_label)
    yield hsm
    hsm.close()


@pytest.fixture
def hsm_settings(settings: Settings, softhsm: str, key_label: str) -> Settings:
    return settings.model_copy(
        update={
            "key_provider": "pkcs11",
            "pkcs11_module": softhsm,
            "pkcs11_token_label": TOKEN_LABEL,
            "pkcs11_pin": SecretStr(PIN),
            "pkcs11_key_label": key_label,
        }
    )


def test_hsm_wraps_and_unwraps_data_keys_bound_to_their_scope(
    provider: Pkcs11KeyProvider,
) -> None:
    assert provider.create_if_missing()
    assert not provider.create_if_missing()
    wrapped = provider.wrap(1, b"k" * 32, b"scope-a")
    assert provider.unwrap(1, wrapped, b"scope-a") == b"k" * 32
    with pytest.raises(UndecryptableValue):
        provider.unwrap(1, wrapped, b"scope-b")
    assert provider.check() is None


def test_hsm_kek_is_sensitive_and_never_extractable(
    provider: Pkcs11KeyProvider, key_label: str
) -> None:
    from pkcs11 import Attribute, ObjectClass

    provider.create_if_missing()
    session = provider._open()  # the provider's own logged-in session
    (kek,) = session.get_objects(
        {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: f"{key_label}-v1"}
    )
    assert kek[Attribute.SENSITIVE] is True
    assert kek[Attribute.EXTRACTABLE] is False


def test_hsm_refusing_the_login_makes_the_provider_unavailable(softhsm: str) -> None:
    wrong = Pkcs11KeyProvider(module=softhsm, token_label="no-such-token", pin=PIN, key_label="kek")
    with pytest.raises(KeyProviderUnavailable):
        wrong.versions()
    assert wrong.check() == "The PKCS#11 token is unreachable or refused the login."


def test_gateway_on_an_hsm_encrypts_rotates_and_retires(
    context: GatewayContext, hsm_settings: Settings, key_label: str
) -> None:
    crypto = build_crypto_services(hsm_settings)
    try:
        assert create_first_kek(crypto.provider, context.session_factory)
        with transaction(context.session_factory) as session:
            sealed = crypto.fields.encrypt(
                session=session,
                scope=case_scope(1),
                table="t",
                record_id=1,
                field="f",
                plaintext="in the hsm",
            )
        result = rotate_kek(session_factory=context.session_factory, provider=crypto.provider)
        assert result.kek_version == 2
        with transaction(context.session_factory) as session:
            assert retire_old_keks(session=session, provider=crypto.provider) == [1]
        assert crypto.provider.versions() == [2]
        crypto.keys.clear()
        with transaction(context.session_factory) as session:
            value = crypto.fields.decrypt(
                session=session,
                scope=case_scope(1),
                table="t",
                record_id=1,
                field="f",
                ciphertext=sealed,
            )
        assert value == "in the hsm"
    finally:
        crypto.close()


def test_the_first_kek_is_created_once_when_workers_race(
    softhsm: str, key_label: str, database_url: str
) -> None:
    """Every worker of every replica runs create_first_kek at its first start: one generates
    version 1 on the token and the others find it (review9c F4: all four generated one, and
    the provider refused the four objects labelled v1, so the keys stayed unavailable)."""
    if database_url.startswith("sqlite"):
        pytest.skip("serialised by PostgreSQL's advisory lock; SQLite serves one worker")
    results = race(create_first_kek_on_token, softhsm, TOKEN_LABEL, PIN, key_label, database_url)
    assert sorted(results) == [False, False, False, True]
    provider = Pkcs11KeyProvider(
        module=softhsm, token_label=TOKEN_LABEL, pin=PIN, key_label=key_label
    )
    try:
        assert provider.versions() == [1]
        assert provider.check() is None
        wrapped = provider.wrap(1, b"k" * 32, b"scope")
        assert provider.unwrap(1, wrapped, b"scope") == b"k" * 32
    finally:
        provider.close()
