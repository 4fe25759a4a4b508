"""The SDK against the real app, in-process (an injected ASGI transport, no network)."""

from __future__ import annotations

import pytest

from adapters.sdk import AuthenticationError, Inbox, KetenpoortClient
from gateway.context import GatewayContext
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


async def test_cases_follows_the_pages_to_the_whole_list(
    sdk_client: ClientFactory, context: GatewayContext
) -> None:
    """``cases()`` follows ``_links.next`` page by page: with pages of 7 it gives what one
    page of 500 gives, in the same order, each case once."""
    from datetime import UTC, datetime

    from tests.cases.history import seed_history

    covenant = "utrecht-extreme-woonoverlast"
    seed_history(
        context.engine, context.cases.workflow(covenant), cases=60, now=datetime.now(UTC), years=1
    )
    async with sdk_client("u-centraal", "casemanager") as client:
        whole = await client.cases_page(limit=500)
        paged = await client.cases(page_size=7)
        first = await client.cases_page(limit=7)
        open_only = await client.cases(include_closed=False, page_size=7)
    assert whole.next_cursor is None
    assert len(whole.embedded.cases) > 7
    assert first.next_cursor is not None
    assert paged == whole.embedded.cases
    assert len({c.id for c in paged}) == len(paged)
    assert open_only == [c for c in whole.embedded.cases if c.closed_at is None]
