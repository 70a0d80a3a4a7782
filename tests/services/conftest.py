"""Fixtures shared by the service tests."""

from ..share_fixtures import coop, member, staff

__all__ = ["coop", "member", "staff"]
