"""Words for people: counted nouns ("1 account", "3 accounts", never "account(s)") and durations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["counted", "duration_text"]

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


def duration_text(value: Any) -> str:
    """A duration in words, to the second.

    Examples
    --------
    >>> duration_text(pd.Timedelta(seconds=4))
    '4 s'
    >>> duration_text(pd.Timedelta(minutes=65, seconds=3))
    '1 h 5 min 3 s'
    >>> duration_text(pd.NaT)
    ''
    """
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    seconds = round(pd.Timedelta(value).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    words = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(words) or "0 s"
