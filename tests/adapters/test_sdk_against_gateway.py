"""The SDK against the real app, in-process (an injected ASGI transport, no network)."""

from __future__ import annotations

import pytest

from adapters.sdk import AuthenticationError, Inbox, KetenpoortClient
from tests.adapters.conftest import ClientFactory

pytestmark = pytest.mark.anyio


async def test_each_request_carries_a_fresh_token_so_repeated_calls_all_succeed(
    sdk_client: ClientFactory,
) -> None:
    async with sdk_client("politie-midden-nederland") as client:
        first = await client.me()
        second = await client.me()
    assert first == second
    assert first.partner_id == "politie-midden-nederland"
    assert first.partner_kind == "police"
    assert first.covenant_id == "utrecht-extreme-woonoverlast"
    assert first.role == "adapter"


async def test_a_key_the_gateway_does_not_trust_is_an_authentication_error(
    sdk_client: ClientFactory, settings: object
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    async with sdk_client("politie-midden-nederland") as trusted:
        transport = trusted._http._transport  # the same in-process app
    stranger = KetenpoortClient(
        "http://gateway.test",
        "politie-midden-nederland",
        ed25519.Ed25519PrivateKey.generate(),
        transport=transport,  # type: ignore[arg-type]
    )
    async with stranger:
        with pytest.raises(AuthenticationError) as raised:
            await stranger.me()
    assert raised.value.status == 401
    assert raised.value.problem.status == 401


async def test_an_empty_inbox_answers_at_once_without_waiting(sdk_client: ClientFactory) -> None:
    async with sdk_client("politie-midden-nederland") as client:
        inbox = await client.inbox(wait_seconds=0)
    assert isinstance(inbox, Inbox)
    assert inbox.partner_id == "politie-midden-nederland"
    assert inbox.items == []
