"""Fixtures for the partner side: SDK clients wired to the real app without a network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

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


Auth = Callable[..., dict[str, str]]
CASE_MANAGER = ("u-centraal", "casemanager")


@dataclass
class OpenCase:
    id: str
    reference: str


def open_utrecht_case(
    client: TestClient,
    auth: Auth,
    *,
    team: tuple[str, ...] = ("politie-midden-nederland",),
    stage: str = "permission-given",
    house_number: int = 12,
) -> OpenCase:
    """A Mitros dwelling's case reported by U Centraal, with ``team`` added by the case manager.

    ``stage``: ``intake`` (just reported), ``permission-requested`` (criteria met, Mitros
    asked), ``permission-given`` (Mitros's permission on file, still in intake) or
    ``plan-of-approach`` (taken on).
    """
    report = client.post(
        "/v1/reports",
        json={
            "dwelling": {
                "address": {"postcode": "3511 AB", "houseNumber": house_number},
                "ownership": "corporation",
                "corporationId": "mitros",
                "district": "binnenstad",
            },
            "persons": [{"role": "causer"}],
            "report": {"channel": "form", "description": "Nachtelijk lawaai (fictief)."},
        },
        # Reported by the case manager: a corporation reporting its own dwelling would
        # commission the case itself (U §5.2), and the tests want to ask Mitros.
        headers=auth(*CASE_MANAGER, user="u-1"),
    )
    assert report.status_code == 201, report.text
    case = OpenCase(id=report.json()["caseId"], reference=report.json()["reference"])
    for partner in team:
        _post(client, auth, f"/v1/cases/{case.id}/team", {"partnerId": partner})
    if stage in ("permission-requested", "plan-of-approach"):
        criteria = [
            {"criterion": "dwelling-related", "holds": True},
            {"criterion": "several-forms", "holds": True},
        ]
        _post(client, auth, f"/v1/cases/{case.id}/criteria", {"criteria": criteria})
        _post(
            client, auth, f"/v1/cases/{case.id}/transitions", {"transition": "request-permission"}
        )
    if stage in ("permission-given", "plan-of-approach"):
        _post(
            client,
            auth,
            f"/v1/cases/{case.id}/consents",
            {"kind": "corporation-permission"},
            who=("mitros", "woonconsulent"),
        )
    if stage == "plan-of-approach":
        oggz = {"targetGroup": False, "referred": False}
        _post(
            client,
            auth,
            f"/v1/cases/{case.id}/transitions",
            {"transition": "take-on", "oggzCheck": oggz},
        )
    return case


def _post(
    client: TestClient,
    auth: Auth,
    path: str,
    body: dict[str, Any],
    who: tuple[str, str] = CASE_MANAGER,
) -> None:
    response = client.post(path, json=body, headers=auth(*who, user="u-1"))
    assert response.status_code in (200, 201), response.text
