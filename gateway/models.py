"""Imports every ORM model so Base.metadata knows all tables (Alembic and tests use this)."""

from gateway.auth.models import UsedToken

__all__ = ["UsedToken"]
