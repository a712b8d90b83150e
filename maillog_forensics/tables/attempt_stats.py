"""Counts over authentication attempts, from a pandas or a Dask DataFrame, with one result.

The same code runs on both: the group-bys are tree reductions on Dask (no shuffle), and
the result is put in one order with one set of types, so a Dask frame and a pandas frame
of the same attempts give equal tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .auth import FAILED_OUTCOMES as FAILED

__all__ = ["attempt_counts", "username_stats"]

#: the dtype pandas gives a column of Python strings (``str`` in pandas 3, ``object`` before)
_TEXT = pd.Series(np.array(["x"], dtype=object)).dtype


def _is_dask(frame: Any) -> bool:
    return hasattr(frame, "dask") and hasattr(frame, "compute")


def _flags(a: Any, *, freq: str | None = None) -> Any:
    """The columns counted: failed / succeeded as 0/1, and the time window."""
    out = a.assign(
        failed=a["outcome"].isin(list(FAILED)).astype("int64"),
        succeeded=(a["outcome"] == "succeeded").astype("int64"),
        attempts=1,
    )
    if freq is not None:
        out = out.assign(window=out["ts"].dt.floor(freq))
    return out


def _distinct(a: Any, keys: list[str], col: str) -> Any:
    """Number of distinct non-null ``col`` per group (``nunique`` as drop_duplicates + count)."""
    pairs = a[[*keys, col]].dropna().drop_duplicates()
    return pairs.groupby(keys)[col].count()


def _compute(*parts: Any) -> list[Any]:
    if parts and _is_dask(parts[0]):
        from dask.base import compute

        return list(compute(*parts))
    return list(parts)


def _text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        frame[col] = frame[col].astype(object).astype(_TEXT)
    return frame


def attempt_counts(attempts: Any, *, freq: str = "1h") -> pd.DataFrame:
    """Attempts per client address and time window.

    Parameters
    ----------
    attempts
        ``auth_attempts_from_events`` output, as pandas or Dask DataFrame (at least
        ``ts``, ``client_ip``, ``username``, ``outcome``).
    freq
        Window width (pandas offset alias); windows start at multiples of it (UTC).

    Returns
    -------
    pandas.DataFrame
        ``client_ip, window, attempts, failed, succeeded, usernames`` (distinct user names
        tried), ordered by address then window; attempts without address or time are left out.
    """
    a = attempts[["ts", "client_ip", "username", "outcome"]]
    a = a[a["client_ip"].notnull() & a["ts"].notnull()]
    a = _flags(a, freq=freq)
    keys = ["client_ip", "window"]
    sums = a.groupby(keys)[["attempts", "failed", "succeeded"]].sum()
    names = _distinct(a, keys, "username")
    sums, names = _compute(sums, names)
    out = sums.join(names.rename("usernames"), how="left").reset_index()
    out["usernames"] = out["usernames"].fillna(0).astype("int64")
    for col in ("attempts", "failed", "succeeded"):
        out[col] = out[col].astype("int64")
    out["window"] = pd.to_datetime(out["window"], utc=True)
    out = _text(out, ["client_ip"])
    return out.sort_values(keys, kind="stable", ignore_index=True)[
        ["client_ip", "window", "attempts", "failed", "succeeded", "usernames"]
    ]


def username_stats(attempts: Any) -> pd.DataFrame:
    """Per user name: attempts, outcomes, addresses, first and last seen.

    Parameters
    ----------
    attempts
        ``auth_attempts_from_events`` output, as pandas or Dask DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``username, attempts, failed, succeeded, addresses, first_seen, last_seen``, most
        attempted first (then by name); attempts without a user name are left out.
    """
    a = attempts[["ts", "client_ip", "username", "outcome"]]
    a = _flags(a[a["username"].notnull()])
    keys = ["username"]
    sums = a.groupby(keys)[["attempts", "failed", "succeeded"]].sum()
    seen = a.groupby(keys)["ts"].agg(["min", "max"])
    addresses = _distinct(a, keys, "client_ip")
    sums, seen, addresses = _compute(sums, seen, addresses)
    out = (
        sums.join(seen.rename(columns={"min": "first_seen", "max": "last_seen"}), how="left")
        .join(addresses.rename("addresses"), how="left")
        .reset_index()
    )
    out["addresses"] = out["addresses"].fillna(0).astype("int64")
    for col in ("attempts", "failed", "succeeded"):
        out[col] = out[col].astype("int64")
    for col in ("first_seen", "last_seen"):
        out[col] = pd.to_datetime(out[col], utc=True)
    out = _text(out, ["username"])
    out = out.sort_values(["attempts", "username"], ascending=[False, True], kind="stable", ignore_index=True)
    return out[["username", "attempts", "failed", "succeeded", "addresses", "first_seen", "last_seen"]]
