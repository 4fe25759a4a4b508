"""Cursor pagination as the NL API Design Rules' HAL style has it: the items under
``_embedded``, and ``_links`` with ``self`` and, while more follow, ``next``.

A cursor is opaque to the client: the domain encodes the sort key of a page's last item, so a
page never shifts when items before it change (an offset would skip or repeat items as
deadlines are met while someone pages). The links are relative to the API's root and keep the
request's other query parameters.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from pydantic import Field
from starlette.datastructures import URL

from gateway.core.schemas import ApiModel


class Link(ApiModel):
    href: str


class PageLinks(ApiModel):
    self_: Link = Field(alias="self")
    # HAL leaves a link out rather than giving it as null.
    next: Link | None = Field(
        default=None, description="Absent on the last page.", exclude_if=lambda v: v is None
    )


def page_links(url: URL, *, next_cursor: str | None) -> PageLinks:
    """``self`` is the request's own path and query; ``next`` the same with the cursor."""
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "cursor"]
    own = url.path + (f"?{url.query}" if url.query else "")
    if next_cursor is None:
        return PageLinks(self_=Link(href=own))
    following = f"{url.path}?{urlencode([*query, ('cursor', next_cursor)])}"
    return PageLinks(self_=Link(href=own), next=Link(href=following))
