"""Counted nouns in sentences people read: "1 account", "3 accounts", never "account(s)"."""

from __future__ import annotations

__all__ = ["counted"]

_IRREGULAR = {"address": "addresses", "was": "were", "time": "times"}


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it needs.

    Examples
    --------
    >>> counted(1, "account"), counted(3, "account"), counted(2, "address"), counted(1_200, "line")
    ('1 account', '3 accounts', '2 addresses', '1,200 lines')
    """
    word = noun if n == 1 else (plural or _IRREGULAR.get(noun) or noun + "s")
    return f"{n:,} {word}"
