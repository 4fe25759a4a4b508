"""Fixtures for the partner side: SDK clients wired to the real app without a network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from adapters.sdk import KetenpoortClient, RetryPolicy
from gateway.auth.dev import dev_key_path
from gateway.config import Settings

ClientFactory = Callable[..., AbstractAsyncContextManager[KetenpoortClient]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sdk_client(app: FastAPI, settings: Settings) -> ClientFactory:
    """``async with sdk_client("politie-midden-nederland") as client``: an SDK client
    talking to the test app in-process, signing with the partner's demo-mode dev key."""

    @asynccontextmanager
    async def make(
        partner: str, role: str = "adapter", *, user: str | None = None
    ) -> AsyncIterator[KetenpoortClient]:
        client = KetenpoortClient(
            "http://gateway.test",
            partner,
            dev_key_path(settings, partner),
            role=role,
            user=user,
            audience=settings.audience,
            transport=httpx.ASGITransport(app=app),
            retry=RetryPolicy(attempts=1),
        )
        async with client:
            yield client

    return make
