"""ORM models of the crypto domain."""

from __future__ import annotations
