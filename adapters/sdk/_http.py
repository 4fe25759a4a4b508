"""The HTTP core of the SDK: one token per request, safe retries, problem -> exception."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from adapters.sdk._auth import (
    KeySource,
    TokenSigner,
    derive_idempotency_key,
    idempotency_secret,
    resolve_private_key,
)
from adapters.sdk._errors import ApiError, Problem, TransportError, error_for_response
from adapters.sdk._retry import RETRYABLE_ERRORS, RetryPolicy

API_PREFIX = "/v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "ketenpoort-adapter-sdk/0.1"

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
JsonBody = BaseModel | Mapping[str, Any] | list[Any] | None


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _encode(body: JsonBody) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


class BaseClient:
    """Transport, signing and retries; the typed endpoints live in ``KetenpoortClient``."""

    def __init__(
        self,
        gateway_url: str,
        partner_id: str,
        private_key: KeySource,
        *,
        role: str = "adapter",
        user: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        audience: str = "ketenpoort",
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        token_lifetime_seconds: int = 60,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        base = gateway_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        self.gateway_url = base
        self.partner_id = partner_id
        self.retry = retry or RetryPolicy()
        key = resolve_private_key(private_key)
        self._idempotency_secret = idempotency_secret(key)
        self._signer = TokenSigner(
            key,
            partner_id=partner_id,
            role=role,
            audience=audience,
            user=user,
            lifetime_seconds=token_lifetime_seconds,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=base + API_PREFIX,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    @property
    def role(self) -> str:
        return self._signer.role

    def idempotency_key_for(self, *parts: str) -> str:
        """A stable idempotency key for a logical operation (same parts, same key).

        Use it for work an adapter may repeat after a restart, e.g.
        ``idempotency_key_for("push", case_id, category, value)``.
        """
        return derive_idempotency_key(self._idempotency_secret, self.partner_id, *parts)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: JsonBody = None,
        params: Mapping[str, str | int | bool] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one API call (``path`` below /v1), retrying where that is safe.

        A POST always carries an idempotency key (a fresh one unless given), and every
        retry repeats the same key with a freshly signed token. Raises ``ApiError``
        subclasses for error answers and ``TransportError`` when the gateway is unreachable.
        """
        method = method.upper()
        headers: dict[str, str] = {}
        if method == "POST":
            headers[IDEMPOTENCY_HEADER] = idempotency_key or new_idempotency_key()
        elif idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        content = _encode(json)
        query = {k: _query_value(v) for k, v in (params or {}).items()}
        http_timeout: Any = (
            httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT
        )
        last_error: Exception | None = None
        for attempt in range(1, self.retry.attempts + 1):
            headers["Authorization"] = self._signer.authorization()
            try:
                response = await self._send(method, path, content, query, headers, http_timeout)
            except RETRYABLE_ERRORS as exc:
                last_error = exc
                if attempt == self.retry.attempts:
                    break
                await self._sleep(self.retry.delay(attempt))
                continue
            if response.is_success:
                return response
            if self.retry.should_retry_status(response.status_code) and (
                attempt < self.retry.attempts
            ):
                await self._sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
                continue
            raise error_for_response(response)
        assert last_error is not None
        raise TransportError(
            f"cannot reach the gateway at {self.gateway_url} after {self.retry.attempts} "
            f"attempt(s): {type(last_error).__name__}"
        ) from last_error

    async def _send(
        self,
        method: str,
        path: str,
        content: Any,
        query: dict[str, str],
        headers: dict[str, str],
        timeout: Any,
    ) -> httpx.Response:
        url = path if path.startswith("/") else "/" + path
        with map_transport_errors_except(RETRYABLE_ERRORS):
            return await self._http.request(
                method, url, json=content, params=query or None, headers=headers, timeout=timeout
            )

    async def get_json(
        self,
        path: str,
        adapter: TypeAdapter[T],
        *,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> T:
        response = await self.request("GET", path, params=params, timeout=timeout)
        return _parse(response, adapter)

    async def post_json(
        self,
        path: str,
        adapter: TypeAdapter[T],
        body: JsonBody,
        *,
        idempotency_key: str | None = None,
    ) -> T:
        response = await self.request("POST", path, json=body, idempotency_key=idempotency_key)
        return _parse(response, adapter)


@contextmanager
def map_transport_errors_except(
    passthrough: tuple[type[httpx.TransportError], ...],
) -> Iterator[None]:
    """Let retryable errors through to the retry loop; wrap every other transport error."""
    try:
        yield
    except passthrough:
        raise
    except httpx.TransportError as exc:
        raise TransportError(f"cannot reach the gateway: {type(exc).__name__}") from exc


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse(response: httpx.Response, adapter: TypeAdapter[T]) -> T:
    try:
        return adapter.validate_json(response.content)
    except ValueError as exc:
        # The gateway answered 2xx with something this SDK version does not understand.
        raise ApiError(
            response.status_code,
            Problem(
                title="Unexpected response",
                status=response.status_code,
                detail="The gateway's answer does not match this SDK's model "
                f"({type(exc).__name__}); is the SDK older than the gateway?",
            ),
        ) from exc
