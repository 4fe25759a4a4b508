"""ORM models of the web domain."""

from __future__ import annotations
