"""Every secret setting can come from a mounted file (KETENPOORT_<NAME>_FILE), so no secret
ever needs to be in an environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from gateway.config import SECRET_FILE_SETTINGS, Settings

SECRETS = {
    "pkcs11_pin": "1234-from-a-file",
    "oidc_client_secret": "client-secret-from-a-file",
    "database_password": "p@ss:w/rd from a file",
}


def _secret_file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    path.chmod(0o400)
    return path


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_secret_setting_is_read_from_its_file_without_the_final_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = _secret_file(tmp_path, name, SECRETS[name] + "\n")
    monkeypatch.setenv(f"KETENPOORT_{name.upper()}_FILE", str(path))
    value = getattr(Settings(), name)
    assert value.get_secret_value() == SECRETS[name]
    assert SECRETS[name] not in repr(Settings())  # a SecretStr shows as '**********'


def test_the_database_password_file_completes_a_url_without_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secret_file(tmp_path, "pw", SECRETS["database_password"] + "\n")
    monkeypatch.setenv("KETENPOORT_DATABASE_URL", "postgresql+psycopg://ketenpoort@db:5432/kp")
    monkeypatch.setenv("KETENPOORT_DATABASE_PASSWORD_FILE", str(path))
    url = make_url(Settings().resolved_database_url)
    assert url.password == SECRETS["database_password"]
    assert (url.username, url.host, url.database) == ("ketenpoort", "db", "kp")


def test_the_database_url_itself_can_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secret_file(tmp_path, "url", "postgresql+psycopg://kp:secret@db/kp\n")
    monkeypatch.setenv("KETENPOORT_DATABASE_URL_FILE", str(path))
    assert Settings().resolved_database_url == "postgresql+psycopg://kp:secret@db/kp"


def test_without_a_password_setting_the_url_is_used_as_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETENPOORT_DATABASE_URL", "postgresql+psycopg://ketenpoort@db:5432/kp")
    assert Settings().resolved_database_url == "postgresql+psycopg://ketenpoort@db:5432/kp"


def test_a_variable_and_its_file_together_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secret_file(tmp_path, "pin", "from-file")
    monkeypatch.setenv("KETENPOORT_PKCS11_PIN", "from-env")
    monkeypatch.setenv("KETENPOORT_PKCS11_PIN_FILE", str(path))
    with pytest.raises(ValueError, match="KETENPOORT_PKCS11_PIN or KETENPOORT_PKCS11_PIN_FILE"):
        Settings()


def test_an_unreadable_secret_file_stops_the_start_and_names_the_variable_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETENPOORT_OIDC_CLIENT_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises((ValueError, ValidationError), match="KETENPOORT_OIDC_CLIENT_SECRET_FILE"):
        Settings()


def test_every_secret_setting_has_a_file_variant() -> None:
    """One list: any SecretStr setting added later must be readable from a file too."""
    secret_fields = {
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    assert secret_fields <= set(SECRET_FILE_SETTINGS)
    assert set(SECRETS) <= secret_fields
