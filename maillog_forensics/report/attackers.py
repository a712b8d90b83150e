"""Who attacked: one row per actor, and when each attack ran and how fast."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..detection.actors import ActorMap, actors_from_findings
from ..detection.actors import actor_map as _actor_map_of
from ..detection.rows import KIND_NAMES
from ..tables.auth import FAILED_OUTCOMES
from .case import Case

__all__ = ["ATTACK_KINDS", "actor_map", "attack_rates", "attackers_table", "per_minute_rates"]


def attackers_table(case: Case) -> pd.DataFrame:
    """Who attacked: one row per actor (an address, or a network of low-volume addresses).

    Each actor's tags say what it did (password guessing, spray, enumeration, a takeover);
    its counts come from the attempts table, like every other figure of the report. The
    finding ids are left out (no page shows them; ``findings`` and the exports have them).
    """
    actors = actors_from_findings(case.findings, case.attempts).drop(columns=["findings"])
    return actors.rename(columns={"first seen": "first seen (UTC)", "last seen": "last seen (UTC)"})


def actor_map(case: Case) -> ActorMap:
    """Which actor each attacking address belongs to: figures colour by it."""
    return _actor_map_of(case.findings, case.attempts)


ATTACK_KINDS = ("brute_force_ip", "brute_force_network", "password_spray", "auth_failures")


def attack_rates(case: Case) -> pd.DataFrame:
    """Each attack finding's start, end, duration, failed logins and their rate per minute.

    The rate is counted over calendar minutes of the finding's address or network: the peak
    is its busiest minute, the mean is over the minutes with at least one failed login (so
    the mean never exceeds the peak, and a one-minute attack is not extrapolated to an hour).
    """
    f = case.findings[case.findings["kind"].isin(ATTACK_KINDS)]
    failed = case.attempts[case.attempts["outcome"].isin(list(FAILED_OUTCOMES))]
    failed = failed[failed["ts"].notna()]
    # microseconds (the stored unit): nanoseconds would overflow past 2262
    us = (
        failed["ts"]
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .to_numpy()
        .astype("datetime64[us]")
        .astype(np.int64)
    )
    ips = failed["client_ip"].astype(object)
    # a network finding counts the addresses it stands for (those with no finding of their
    # own), as its finding and the attackers table do
    actor_of = _actor_map_of(case.findings, case.attempts).actor_of
    networks = ips.map({ip: actor_of[ip] for ip in ips.dropna().unique() if "/" in actor_of.get(ip, "")})
    # each address's and each network's failure times, sorted: a finding's window is a slice
    times: dict[str, np.ndarray] = {}
    for key in (ips, networks):  # NaN keys (no network actor) are dropped by groupby
        for value, where in key.groupby(key.to_numpy(), sort=False).indices.items():
            times.setdefault(str(value), np.sort(us[where]))
    rows = []
    records: list[Any] = list(f.itertuples(index=False))  # rows of mixed types
    for r in records:
        subject = r.subject_ip if isinstance(r.subject_ip, str) else str(r.subject_network)
        first, last = pd.Timestamp(r.first_seen), pd.Timestamp(r.last_seen)
        window = np.empty(0, dtype=np.int64)
        mine = times.get(subject)
        if mine is not None and pd.notna(first) and pd.notna(last):
            lo = np.searchsorted(mine, _us(first), side="left")
            hi = np.searchsorted(mine, _us(last), side="right")
            window = mine[lo:hi]
        peak, mean = per_minute_rates(window)
        rows.append(
            {
                "attack": KIND_NAMES.get(r.kind, r.kind),
                "kind": r.kind,
                "source": subject,
                "start (UTC)": r.first_seen,
                "end (UTC)": r.last_seen,
                "duration": (last - first) if pd.notna(first) and pd.notna(last) else pd.NaT,
                "failed logins": len(window),
                "active minutes": len(np.unique(window // _MINUTE_US)),
                "per minute (peak)": peak,
                "per active minute (mean)": mean,
            }
        )
    columns = ["attack", "kind", "source", "start (UTC)", "end (UTC)", "duration", "failed logins"]
    columns += ["active minutes"]
    columns += ["per minute (peak)", "per active minute (mean)"]
    return pd.DataFrame(rows, columns=columns)


_MINUTE_US = 60 * 1_000_000


def per_minute_rates(times_us: np.ndarray) -> tuple[int, float]:
    """The busiest calendar minute's count and the mean count over the active minutes.

    ``times_us`` are microseconds since the epoch. The mean is never above the peak.

    Examples
    --------
    >>> per_minute_rates(np.array([0, 1, 2, 60_000_000], dtype=np.int64))
    (3, 2.0)
    >>> per_minute_rates(np.array([], dtype=np.int64))
    (0, 0.0)
    """
    if not len(times_us):
        return 0, 0.0
    _, counts = np.unique(times_us // _MINUTE_US, return_counts=True)
    return int(counts.max()), round(float(counts.mean()), 1)


def _us(stamp: pd.Timestamp) -> int:
    """Microseconds since the epoch of a time stamp (naive ones are UTC)."""
    utc = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    return int(utc.to_datetime64().astype("datetime64[us]").astype(np.int64))
