"""The gateway's configuration: one settings class, environment prefix ``KETENPOORT_``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

#: The time limit of a policy decision the gateway promises (docs/policy.md); the default
#: and the maximum of ``policy_timeout_seconds``.
POLICY_TIME_LIMIT_SECONDS = 0.5

#: Settings that may hold a secret: each can instead be read from the file named by
#: ``KETENPOORT_<NAME>_FILE`` (a mounted Docker or Kubernetes secret), so no secret ever
#: needs to be in an environment variable, where ``ps e``, crash reports and
#: ``docker inspect`` show it.
SECRET_FILE_SETTINGS = (
    "database_url",
    "database_password",
    "pkcs11_pin",
    "oidc_client_secret",
    "metrics_token",
)


class SecretFilesSource(PydanticBaseSettingsSource):
    """``KETENPOORT_<NAME>_FILE``: the value is the file's content without its final newline.

    Giving both the variable and its ``_FILE`` is refused (which one wins would be a guess),
    and so is a file that cannot be read; the error names the variable, never the content.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything happens in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        environ = {name.upper(): value for name, value in os.environ.items()}
        for name in SECRET_FILE_SETTINGS:
            variable = f"KETENPOORT_{name.upper()}"
            path = environ.get(f"{variable}_FILE")
            if not path:
                continue
            if variable in environ:
                raise ValueError(f"set {variable} or {variable}_FILE, not both")
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"{variable}_FILE: cannot read {path} ({exc.strerror})") from None
            values[name] = text.removesuffix("\n").removesuffix("\r")
        return values


#: The example origin of the audit log: the default, kept by demo mode only.
EXAMPLE_AUDIT_LOG_ORIGIN = "ketenpoort.example/audit-log"
#: The default token audience: kept by demo mode only.
EXAMPLE_AUDIENCE = "ketenpoort"
#: How a deployment file marks a setting the operator must fill in (docker-compose.yml,
#: deploy/kubernetes): a value the gateway refuses to start with.
PLACEHOLDER_PREFIX = "replace-with-"


class Settings(BaseSettings):
    """Every setting can be given as ``KETENPOORT_<NAME>`` in the environment.

    Secrets have no defaults: key material is generated at first start inside ``data_dir``
    (0600) or supplied by a key provider; nothing secret is in the repository.
    """

    model_config = SettingsConfigDict(env_prefix="KETENPOORT_", extra="ignore")

    data_dir: Path = Field(
        default=Path("ketenpoort-data"),
        description="Directory for the SQLite file, generated keys and bundles.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; when unset, a SQLite file in data_dir is used. "
        "Example: postgresql+psycopg://ketenpoort@db:5432/ketenpoort",
    )
    database_password: SecretStr | None = Field(
        default=None,
        description="Password for the database URL's user, kept out of the URL (use "
        "KETENPOORT_DATABASE_PASSWORD_FILE for a mounted secret).",
    )
    demo_mode: bool = Field(
        default=False,
        description="Embedded demo: enables the development token issuer for the demo "
        "partners. Never enable in production.",
    )
    audience: str = Field(
        default=EXAMPLE_AUDIENCE,
        description="The JWT audience this gateway accepts (the tokens' 'aud'): a name of "
        "this deployment, e.g. ketenpoort.utrecht.nl. Outside demo mode the gateway refuses "
        "to start with the default 'ketenpoort' or a 'replace-with-...' placeholder: two "
        "deployments at one audience accept each other's tokens.",
    )
    max_token_lifetime_seconds: int = Field(
        default=600,
        ge=10,
        le=3600,
        description="Tokens living longer than this are rejected (at most an hour: a spent "
        "token id is remembered until its token expires).",
    )
    clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    max_request_body_bytes: int = Field(
        default=1_048_576,
        ge=4096,
        description="A request body over this many bytes is refused with 413 (the API's "
        "JSON bodies are a few kilobytes).",
    )
    used_token_purge_interval_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often the server forgets the ids of spent tokens that have expired "
        "(one replica at a time); 0 disables the in-process job (then run "
        "'ketenpoort tokens purge' from cron).",
    )
    jwks_dir: Path | None = Field(
        default=None,
        description="Directory with one <partner-id>.json JWKS per partner; "
        "defaults to <data_dir>/jwks.",
    )
    jwks_refresh_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How often a replica looks for keys registered or revoked in the JWKS "
        "directory (ketenpoort partners register/revoke); 0 looks at every token.",
    )
    covenant_dir: Path | None = Field(
        default=None,
        description="Directory of covenant folders, one per covenant: "
        "<covenant-id>/covenant.yaml, workflow.yaml and retention.yaml (docs/policy.md); "
        "defaults to the packaged covenants (policies/).",
    )
    opa_url: str | None = Field(
        default=None,
        description="When set, decisions are made by this OPA server instead of in-process.",
    )
    policy_timeout_seconds: float = Field(
        default=POLICY_TIME_LIMIT_SECONDS,
        gt=0,
        le=POLICY_TIME_LIMIT_SECONDS,
        description="The time limit of one policy decision; past it the decision denies "
        "(engine-timeout). For an OPA server also its client's deadline and its connect and "
        "read timeout. At most 0.5 s, the limit the gateway promises.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The URL partners reach the gateway at; links in exports (the processing "
        "register URIs of Logboek Dataverwerkingen records) start with it.",
    )
    auto_migrate: bool = Field(default=True, description="Run database migrations at start.")
    # Connections per process: each uvicorn worker has its own pool, so with W workers a
    # replica may hold W * (pool size + max overflow) connections, and R replicas R times
    # that. PostgreSQL's default max_connections is 100 (3 reserved for superusers); the
    # defaults fit 2 replicas x 4 workers x (5 + 5) = 80 with room for migrations, the
    # command line and cron jobs. `ketenpoort serve` warns when W * (pool + overflow)
    # exceeds db_connection_budget (README.md, "Connection budget").
    db_pool_size: int = Field(
        default=5, ge=1, le=200, description="PostgreSQL connections kept open per worker."
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        le=200,
        description="Extra PostgreSQL connections a worker may open under load, beyond the "
        "pool size; a request that finds none free waits for one (up to 30 s, then 503).",
    )
    db_connection_budget: int = Field(
        default=40,
        ge=1,
        description="PostgreSQL connections one replica (all its workers) may hold: "
        "(max_connections - reserve) / replicas. 'ketenpoort serve' warns when workers x "
        "(pool size + max overflow) exceeds it.",
    )
    hot_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Long-lived threads per worker for the mediated read (docs/exchange.md). "
        "Two overlap one read's database waits with another's work; more threads only "
        "contend for Python's GIL (each hand-over a context switch).",
    )
    # Field-level encryption (gateway/crypto, docs/crypto.md).
    key_provider: str = Field(
        default="local",
        pattern="^(local|pkcs11)$",
        description="Where key-encryption keys live: 'local' (a key file in data_dir, "
        "created at first start, 0600) or 'pkcs11' (an HSM through a PKCS#11 module).",
    )
    key_file: Path | None = Field(
        default=None, description="The local KEK file; defaults to <data_dir>/keys/kek.json."
    )
    pkcs11_module: str | None = Field(
        default=None, description="Path of the PKCS#11 module (.so), e.g. libsofthsm2.so."
    )
    pkcs11_token_label: str | None = Field(default=None, description="Label of the HSM token.")
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the HSM token.")
    pkcs11_key_label: str = Field(
        default="ketenpoort-kek",
        description="KEK object label prefix on the token; version n is '<prefix>-v<n>'.",
    )
    dek_cache_size: int = Field(
        default=10_000, ge=1, description="Unwrapped data keys kept in memory (LRU)."
    )
    dek_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a cached data key is trusted before the database is asked "
        "again; bounds how long another replica can still read a shredded scope.",
    )
    # The disclosure log (audit/, docs/audit.md).
    audit_key_dir: Path | None = Field(
        default=None,
        description="Directory of the audit checkpoint signing key and pseudonym key "
        "(created at first start, 0600); defaults to <data_dir>/audit. Replicas must share it.",
    )
    audit_checkpoint_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often the server signs an audit checkpoint; 0 disables the "
        "in-process job (then run 'ketenpoort audit checkpoint' from cron).",
    )
    audit_log_origin: str = Field(
        default=EXAMPLE_AUDIT_LOG_ORIGIN,
        pattern=r"^[^\s+]+$",
        description="The log's origin: the first line of every checkpoint and the key name of "
        "its signature (C2SP tlog-checkpoint). Use a URL-like name of your deployment, e.g. "
        "ketenpoort.utrecht.nl/audit-log; witnesses and auditors pin it with the log key. "
        "Set once, before the first start (it never changes after). Outside demo mode the "
        "gateway refuses to start with the example default or a 'replace-with-...' "
        "placeholder: two deployments under one origin cannot share a witness.",
    )
    audit_witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses asked to cosign each checkpoint, each '<verifier key> <URL>' "
        "(the witness's vkey from 'ketenpoort witness init', then its URL prefix).",
    )
    audit_witness_quorum: int | None = Field(
        default=None,
        ge=0,
        description="Cosignatures a checkpoint needs to be trusted; default 1 when witnesses "
        "are configured, else 0.",
    )
    audit_log_key: str | None = Field(
        default=None,
        description="The log's first verifier key (vkey, or a file holding it) as published: "
        "'ketenpoort audit verify' and the Verificatie page pin it, and the gateway refuses to "
        "start with a signing key its announced rotations do not lead to. Never a copy from "
        "the key directory.",
    )
    # Retention (gateway/retention, docs/retention.md).
    retention_dir: Path | None = Field(
        default=None,
        description="No longer read, and refused when set: a covenant's retention rules are "
        "<covenant_dir>/<covenant-id>/retention.yaml, beside its covenant and workflow.",
    )
    retention_default_period_months: int = Field(
        default=24,
        ge=1,
        le=1200,
        description="Period for rules that say 'period: default' (Utrecht states none).",
    )
    retention_unsanctioned_period_months: int = Field(
        default=12,
        ge=1,
        le=1200,
        description="Period after closure for a case closed without sanctions and without a "
        "mediation that solved it ('period: unsanctioned-default'; R §3.4 names none).",
    )
    retention_inactive_period_months: int = Field(
        default=12,
        ge=1,
        le=1200,
        description="An open case without activity for this long is due too "
        "('period: inactive-default'; storage limitation, AVG art. 5(1)(e)).",
    )
    retention_sweep_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often the server runs the retention sweep; 0 disables the "
        "in-process job (then run 'ketenpoort retention run' from cron).",
    )
    retention_batch_size: int = Field(
        default=10_000, ge=1, le=50_000, description="Cases erased per sweep transaction."
    )
    idempotency_replay_hours: int = Field(
        default=168,
        ge=1,
        le=8760,
        description="How long a POST's Idempotency-Key replays its first response; the "
        "retention sweep deletes older records (they hold a keyed fingerprint of the request "
        "body, which can hold a BSN). A retry after it is a new request.",
    )
    # The Dutch web pages (gateway/web, docs/web.md).
    web_cookie_secure: bool = Field(
        default=True,
        description="Mark the page session cookie Secure (sent over HTTPS only). Browsers "
        "treat http://127.0.0.1 and http://localhost as secure, so keep it on; turn it off "
        "only behind plain HTTP on another host name, never in production.",
    )
    web_session_idle_minutes: int = Field(
        default=30, ge=1, le=1440, description="A page session ends after this much idleness."
    )
    web_session_max_hours: int = Field(
        default=10, ge=1, le=24, description="A page session ends this long after sign-in."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OIDC issuer URL for signing in to the web pages (authorization-code "
        "flow with PKCE); when unset, only the demo sign-in (demo mode) exists.",
    )
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="OIDC client secret (omit for a public client: PKCE only)."
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="The callback URL registered at the issuer, "
        "e.g. https://ketenpoort.example.nl/inloggen/oidc/terug.",
    )
    oidc_scopes: str = Field(default="openid profile", description="Scopes to request.")
    oidc_partner_claim: str = Field(
        default="ketenpoort_partner", description="ID-token claim naming the partner id."
    )
    oidc_role_claim: str = Field(
        default="ketenpoort_role", description="ID-token claim naming the role."
    )

    # Operations (docs/operations.md): logs, metrics, traces.
    log_format: str = Field(
        default="text",
        pattern="^(text|json)$",
        description="'json': one JSON object per line with request and trace ids (the "
        "image's default); 'text': plain lines for a terminal.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve Prometheus metrics on this port of its own (every worker's counts "
        "together); publish it only to the monitoring network.",
    )
    metrics_host: str = Field(
        default="0.0.0.0",
        description="Interface of the metrics port.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics on the API port answers a request bearing this "
        "token (Authorization: Bearer ...); unset, /metrics there is 404.",
    )
    traces_exporter: str = Field(
        default="none",
        pattern="^(none|otlp|console)$",
        description="Where OpenTelemetry spans go: 'none' (ids only, for logs and audit "
        "entries), 'otlp' (OTLP/HTTP, configured by the standard OTEL_EXPORTER_OTLP_* "
        "variables) or 'console'.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            SecretFilesSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @field_validator("retention_dir")
    @classmethod
    def _retention_dir_is_retired(cls, value: Path | None) -> Path | None:
        # Ignoring it would apply the packaged rules instead of the operator's: refuse.
        if value is not None:
            raise ValueError(
                "KETENPOORT_RETENTION_DIR is no longer read: put each covenant's retention "
                "rules in <KETENPOORT_COVENANT_DIR>/<covenant-id>/retention.yaml, beside its "
                "covenant.yaml and workflow.yaml (docs/operations.md)"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            if self.database_password is None:
                return self.database_url
            from sqlalchemy.engine import make_url

            url = make_url(self.database_url).set(
                password=self.database_password.get_secret_value()
            )
            return url.render_as_string(hide_password=False)
        return f"sqlite:///{(self.data_dir / 'ketenpoort.db').resolve()}"

    @property
    def resolved_jwks_dir(self) -> Path:
        return self.jwks_dir if self.jwks_dir is not None else self.data_dir / "jwks"

    @property
    def dev_keys_dir(self) -> Path:
        return self.data_dir / "dev-keys"

    def ensure_data_dir(self) -> None:
        """The data directory holds keys and, by default, the database: owner-only (0700),
        also when it existed already with a wider mode."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.data_dir.stat().st_mode & 0o077:
            self.data_dir.chmod(0o700)


def _deployment_name_problem(
    settings: Settings, *, variable: str, value: str, default: str, example: str, why: str
) -> str | None:
    """Why a setting that must name this deployment is refused outside demo mode (its
    shipped default or a ``replace-with-...`` placeholder), or None."""
    if settings.demo_mode or not (value == default or value.startswith(PLACEHOLDER_PREFIX)):
        return None
    kind = "the default" if value == default else "a placeholder"
    return f"{variable} is {value!r}, {kind}: set it to {example} {why} (docs/operations.md)"


def audit_log_origin_problem(settings: Settings) -> str | None:
    """Why the gateway must not start with this log origin (review6a F2), or None.

    C2SP tlog-checkpoint: the origin identifies one log. Two deployments left at the example
    default sign as the same log, and a partner witnessing both (the police are in both
    covenants) keeps its state per origin: it cosigns the first and refuses the second for
    good, and hands the second's auditors the first's checkpoint. Demo mode keeps the
    example: a demo's log is witnessed by its own demo witness only."""
    return _deployment_name_problem(
        settings,
        variable="KETENPOORT_AUDIT_LOG_ORIGIN",
        value=settings.audit_log_origin,
        default=EXAMPLE_AUDIT_LOG_ORIGIN,
        example="a name of this deployment's log, e.g. ketenpoort.utrecht.nl/audit-log,",
        why="before the first start (it cannot change afterwards)",
    )


def token_audience_problem(settings: Settings) -> str | None:
    """Why the gateway must not accept tokens for this audience, or None.

    A partner's token names the gateway it is for (``aud``). Two deployments left at the
    default (a partner such as the police is in both covenants, with one key) accept each
    other's tokens: the jti store that stops a replay is each deployment's own, so a token
    spent at one is accepted once more at the other. Demo mode keeps the default: its tokens
    come from its own development issuer."""
    return _deployment_name_problem(
        settings,
        variable="KETENPOORT_AUDIENCE",
        value=settings.audience,
        default=EXAMPLE_AUDIENCE,
        example="a name of this deployment, e.g. ketenpoort.utrecht.nl,",
        why="the 'aud' its partners' tokens carry",
    )


class StartRefused(ValueError):
    """A reason the gateway (or a command) must not start, said in one line without a
    traceback: the commands print it as ``error: ...`` and exit non-zero."""


def log_origin_problem(settings: Settings, signed_under: tuple[str, ...]) -> str | None:
    """Why the gateway must not run this log under ``KETENPOORT_AUDIT_LOG_ORIGIN``, given the
    origins its stored checkpoints are signed under (``signed_under``: the oldest's and the
    newest's; empty while nothing is signed), or None (review9c F2).

    C2SP tlog-checkpoint: the origin is the log's name, the first line of every checkpoint;
    its verifiers pin a key of that name and its witnesses keep their state by it. A
    checkpoint signed under another name fails ``audit verify`` against the pinned key and
    is a log the witnesses have never seen, so the name never changes once a checkpoint is
    signed. A log already signed under the example origin (a deployment that ran at the
    default before review6a F2) keeps that name: renaming it would fail its verification,
    which is worse than the shared name the start check otherwise refuses."""
    for origin in signed_under:
        if origin != settings.audit_log_origin:
            return (
                f"KETENPOORT_AUDIT_LOG_ORIGIN is {settings.audit_log_origin!r}, but this audit "
                f"log's checkpoints are signed under {origin!r}: a log keeps its origin (its "
                f"verifiers and witnesses know it by that name); set "
                f"KETENPOORT_AUDIT_LOG_ORIGIN={origin} (docs/operations.md)"
            )
    if signed_under:
        return None
    return audit_log_origin_problem(settings)


def start_problem(settings: Settings) -> str | None:
    """The first reason this deployment must not start (its log origin, its token audience),
    or None."""
    return audit_log_origin_problem(settings) or token_audience_problem(settings)
