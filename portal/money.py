"""Amounts of money as people read them: one way, on pages, in messages and in the audit log.

Money is kept in integer minor units with its currency beside it (DESIGN.md §2); this is
the one place that turns the two into words, so a page, a refusal and an audit summary
print the same amount the same way.
"""

from __future__ import annotations

# How each currency is written before the amount; any other code is written out ("CHF 5").
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CAD": "CA$"}


def format_money(minor: int, currency: str) -> str:
    """``1050, "EUR"`` → ``€10.50``; a whole amount has no cents (``€10``); ``-€5`` owed."""
    symbol = SYMBOLS.get(currency, f"{currency} ")
    whole, cents = divmod(abs(minor), 100)
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{whole:,}" + (f".{cents:02d}" if cents else "")
