"""When and how long to wait before retrying a call: only where a retry cannot do harm."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

# 503 is what the gateway answers when a dependency it needs to disclose safely is down;
# 502 and 504 are what a proxy in front of it answers when the gateway itself is away.
RETRYABLE_STATUSES = frozenset({502, 503, 504})

# Which transport errors are safe to retry. A request that may have reached the gateway
# (a read timeout, a dropped connection) is retried too: every POST carries an idempotency
# key, so the gateway creates nothing twice.
RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``backoff * 2**n``, capped, for ``attempts`` tries.

    4xx answers are never retried: the same request would fail the same way, and a 409
    or a policy denial is an answer, not a glitch.
    """

    attempts: int = 5
    backoff: float = 0.25
    max_backoff: float = 8.0
    jitter: float = 0.2
    max_retry_after: float = 30.0
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff < 0 or self.max_backoff < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("backoff, max_backoff must be >= 0 and jitter within [0, 1]")

    def should_retry_status(self, status: int) -> bool:
        return status in self.statuses

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_retry_after)
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        base = min(self.backoff * (2 ** (retry - 1)), self.max_backoff)
        # Jitter spreads the retries of many adapters so they do not hit a recovering
        # gateway in lock-step.
        return float(base * (1 + random.uniform(-self.jitter, self.jitter)))


NO_RETRY = RetryPolicy(attempts=1)
