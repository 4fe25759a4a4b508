"""ORM models of the exchange domain."""

from __future__ import annotations
