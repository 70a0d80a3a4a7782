"""Money in words: one formatter for pages, refusals and the audit log."""

from __future__ import annotations

import pytest

from portal.money import format_money


@pytest.mark.parametrize(
    ("minor", "currency", "words"),
    [
        (1050, "EUR", "€10.50"),
        (1000, "EUR", "€10"),
        (15_000_000, "EUR", "€150,000"),
        (5, "GBP", "£0.05"),
        (-250, "USD", "-$2.50"),
        (100, "CAD", "CA$1"),
        (100, "CHF", "CHF 1"),
    ],
)
def test_an_amount_is_written_with_its_currency(minor, currency, words):
    assert format_money(minor, currency) == words


def test_the_money_filter_and_the_services_write_alike(app):
    with app.test_request_context("/"):
        money = app.jinja_env.filters["money"]
        assert money(1050, "USD") == format_money(1050, "USD")
        assert money(None) == ""
