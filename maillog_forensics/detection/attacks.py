"""Findings about attackers: brute force (by address and by network), campaigns, password
sprays and username enumeration, and accounts taken over after guessing."""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import pandas as pd

from ..common.wording import counted, duration_text
from ..tables.auth import FAILED_OUTCOMES as FAILED
from .rows import (
    DetectConfig,
    Groups,
    Quote,
    evidence_of,
    finding_row,
    group_finding_row,
    line_refs,
    network_of,
)

__all__ = [
    "brute_force",
    "compromises",
    "guesses",
    "legit_ips",
    "spray_and_enumeration",
]


def compromises(
    a: pd.DataFrame, m: pd.DataFrame, failed: pd.DataFrame, cfg: DetectConfig
) -> list[dict[str, Any]]:
    """Successful logins after failures, and later logins to an account that fell.

    ``failed`` is :func:`guesses` of ``a``.
    """
    out: list[dict[str, Any]] = []
    ok = a.loc[(a["outcome"] == "succeeded") & a["username"].notna(), ["ts", "client_ip", "username"]]
    ok = ok.sort_values("ts")
    # addresses and names as str() of the values ("nan" for a missing address)
    ok_ip = ok["client_ip"].fillna("nan").to_numpy(dtype=object)
    ok_user = ok["username"].to_numpy(dtype=object)
    n_before = _failures_before(failed, ok_ip, ok["ts"])
    when = pd.DatetimeIndex(ok["ts"])  # boxes Timestamps as the frame's cells do
    hit = n_before >= cfg.compromise_min_failures
    # an account falls at its first login from an address that guessed enough before
    hits = np.flatnonzero(hit)
    fell = hits[~pd.Series(ok_user[hits]).duplicated().to_numpy()]
    fallen: dict[str, Any] = {ok_user[i]: when[i] for i in fell.tolist()}
    # only the first login of a (user, address) pair can be a finding
    first = ~pd.DataFrame({"u": ok_user, "ip": ok_ip}).duplicated().to_numpy()
    maybe = np.flatnonzero(first & (hit | pd.Series(ok_user).isin(list(fallen)).to_numpy()))
    logins: list[tuple[str, str, Any, str]] = []
    for i in maybe.tolist():
        user, ip, ts = ok_user[i], ok_ip[i], when[i]
        if hit[i]:
            why = f"after {n_before[i]} failed logins from that address"
        elif user in fallen and ts >= fallen[user]:
            why = "after the account was taken over by password guessing"
        else:
            continue
        logins.append((user, ip, ts, why))
    if not logins:
        return out
    # the rows of the addresses and users concerned, once (not one scan per finding)
    ips = {ip for _, ip, _, _ in logins}
    users = {user for user, _, _, _ in logins}
    failed = failed[failed["client_ip"].isin(ips)]
    ok_rows = a.loc[a["client_ip"].isin(ips) & (a["outcome"] == "succeeded"), failed.columns]
    m = m[m["sasl_username"].isin(users) & m["client_ip"].isin(ips)]
    for user, ip, ts, why in logins:
        before = failed[(failed["client_ip"] == ip) & (failed["ts"] <= ts)]
        sent = m[(m["sasl_username"] == user) & (m["client_ip"] == ip)]
        rcpts = sum(len(r) for r in sent["recipients"])
        rows = pd.concat([before, ok_rows[(ok_rows["client_ip"] == ip) & (ok_rows["username"] == user)]])
        severity = "critical" if len(sent) else "high"
        mail = (
            f"; it then sent {counted(len(sent), 'message')} to {counted(rcpts, 'recipient')} "
            f"({int(sent['bounced'].sum())} bounced)"
            if len(sent)
            else "; no mail was sent from it (a credential check)"
        )
        evidence = evidence_of(rows) + line_refs(sent["first_line"].head(20))
        # the finding starts at the takeover login (the guessing before it is its evidence)
        later = [t for t in (rows["ts"].max(), pd.to_datetime(sent["first_seen"]).max()) if pd.notna(t)]
        span = (ts, max([ts, *later]))
        review = "; review the mail it sent (listed in the report)" if len(sent) else ""
        out.append(
            finding_row(
                "account_compromised",
                severity,
                "high",
                rows,
                f"{user} logged in successfully from {ip} {why}{mail}.",
                f"Reset the password of {user} now and end its sessions; block {ip}{review}.",
                ip=ip,
                username=user,
                count=len(sent) or 1,
                evidence=evidence,
                span=span,
            )
        )
    return out


def _failures_before(failed: pd.DataFrame, ip: np.ndarray, ts: pd.Series) -> np.ndarray:
    """Failures from each address at or before each time (``failed`` has client_ip and ts).

    One sorted search over (address, time) keys; times are ranked first so the key fits in
    an int64. Missing times compare as Python compares them, by the per-address bisection.
    """
    f_ip = failed["client_ip"].astype(str).to_numpy(dtype=object)
    f_ts = pd.DatetimeIndex(failed["ts"])
    q_ts = pd.DatetimeIndex(ts)
    if f_ts.hasnans or q_ts.hasnans:
        return _failures_before_bisect(f_ip, failed["ts"], ip, ts)
    codes, _ = pd.factorize(np.concatenate([f_ip, ip]))
    f_code, q_code = codes[: len(f_ip)].astype(np.int64), codes[len(f_ip) :].astype(np.int64)
    _, rank = np.unique(np.concatenate([f_ts.asi8, q_ts.asi8]), return_inverse=True)
    width = int(rank.max()) + 1 if len(rank) else 1
    keys = np.sort(f_code * width + rank[: len(f_ip)])
    start = np.searchsorted(keys, q_code * width, side="left")
    return np.searchsorted(keys, q_code * width + rank[len(f_ip) :], side="right") - start


def _failures_before_bisect(f_ip: np.ndarray, f_ts: pd.Series, ip: np.ndarray, ts: pd.Series) -> np.ndarray:
    """:func:`_failures_before` by bisecting per-address lists (time stamps may be missing)."""
    fail_times: dict[str, list[Any]] = {}
    for i, t in zip(f_ip, f_ts, strict=True):
        fail_times.setdefault(i, []).append(t)
    for lst in fail_times.values():
        lst.sort()
    return np.array(
        [bisect.bisect_right(fail_times.get(i, []), t) for i, t in zip(ip, ts, strict=True)], dtype=np.int64
    )


def legit_ips(a: pd.DataFrame) -> set[str]:
    """Addresses that logged in successfully (compromises are removed by the caller)."""
    return set(a.loc[a["outcome"] == "succeeded", "client_ip"].dropna().unique().astype(str))


def guesses(a: pd.DataFrame) -> pd.DataFrame:
    """Failed logins (never the server errors: a backend outage is not a guess).

    Only the columns the detectors read (time, address, name, evidence).
    """
    keep = a["outcome"].isin(FAILED) & a["client_ip"].notna() & (a["client_ip"] != "")
    return a.loc[keep, ["ts", "client_ip", "username", "evidence"]]


def brute_force(failed: pd.DataFrame, legit: set[str], cfg: DetectConfig) -> list[dict[str, Any]]:
    """Per-address brute force, then networks and campaigns of the low-volume addresses.

    ``failed`` is :func:`guesses` of the attempts, ``legit`` :func:`legit_ips`.
    """
    out = []
    quote = Quote(failed)
    per_ip = Groups.of(failed["client_ip"])
    users = per_ip.distinct(failed["username"])
    sizes = per_ip.sizes
    small: list[int] = []
    for k, key in enumerate(per_ip.keys):
        ip = str(key)
        n = int(sizes[k])
        if n >= cfg.brute_force_min_failures:
            at = per_ip.at(k)
            first, last = quote.span(at)
            took = last - first if n > 1 else pd.Timedelta(0)
            span = f"over {duration_text(took)}" if took >= pd.Timedelta(seconds=1) else "within a second"
            names = counted(int(users[k]), "user name") if users[k] else "no user name logged"
            sev = "high" if n >= 4 * cfg.brute_force_min_failures else "medium"
            out.append(
                group_finding_row(
                    "brute_force_ip",
                    sev,
                    "high",
                    quote,
                    at,
                    f"{ip} made {n:,} failed logins ({names}) {span}.",
                    f"Block {ip} (see `maillog-forensics blocklist`); set smtpd_client_auth_rate_limit.",
                    span=(first, last),
                    ip=ip,
                    network=network_of(ip),
                )
            )
        # addresses that also logged in successfully are users who mistyped, not a network's bots
        elif ip not in legit:
            small.append(k)
    # the small addresses by network, networks in sorted order (as a groupby on them)
    by_net: dict[str, list[int]] = {}
    for k in small:
        net = network_of(str(per_ip.keys[k]))
        if net is not None:
            by_net.setdefault(net, []).append(k)
    loners: list[np.ndarray] = []
    for net in sorted(by_net):
        at = np.sort(np.concatenate([per_ip.at(k) for k in by_net[net]]))
        addrs = len(by_net[net])
        if addrs >= cfg.network_min_addresses and len(at) >= cfg.network_min_failures:
            out.append(
                group_finding_row(
                    "brute_force_network",
                    "high",
                    "medium",
                    quote,
                    at,
                    f"{addrs:,} addresses of {net} made {len(at):,} failed logins between them, "
                    "each below the "
                    f"per-address threshold: a distributed attack that per-address banning misses.",
                    f"Block {net}.",
                    network=net,
                )
            )
        else:
            loners.append(at)
    if loners:
        out += _campaigns(failed, quote, np.concatenate(loners), cfg)
    return out


def _campaigns(failed: pd.DataFrame, quote: Quote, at: np.ndarray, cfg: DetectConfig) -> list[dict[str, Any]]:
    """Low-volume addresses of different networks joined by the user names they try.

    Two addresses belong to one campaign when they tried the same user name within
    ``campaign_window_hours`` of each other; a campaign of at least
    ``network_min_addresses`` addresses and ``network_min_failures`` failures is the
    distributed, low-and-slow attack per-address tools miss. Its addresses get their own
    (medium) findings so the blocklist lists them. ``at`` are the positions in ``failed``
    of the rows concerned, network by network.
    """
    rows = failed.iloc[at]
    ip_of = rows["client_ip"].astype(str).to_numpy(dtype=object)
    ips = sorted(set(ip_of))
    parent = {ip: ip for ip in ips}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # consecutive tries of one name (by time) from different addresses within the window;
    # rows without a time link nothing (NaT differences compare false)
    named = np.flatnonzero(rows["username"].notna().to_numpy())
    name = pd.factorize(rows["username"].iloc[named].astype(str).str.lower())[0]
    when = pd.DatetimeIndex(rows["ts"].iloc[named]).tz_localize(None).to_numpy()
    step = np.lexsort((when, name))
    seq = named[step]
    same = name[step[1:]] == name[step[:-1]]
    close = (when[step[1:]] - when[step[:-1]]) <= np.timedelta64(
        pd.Timedelta(hours=cfg.campaign_window_hours)
    )
    for j in np.flatnonzero(same & close):
        prev_ip, ip = ip_of[seq[j]], ip_of[seq[j + 1]]
        if prev_ip != ip:
            parent[find(ip)] = find(prev_ip)
    groups: dict[str, list[str]] = {}
    for ip in ips:
        groups.setdefault(find(ip), []).append(ip)
    where: dict[str, list[int]] = {}
    for i, ip in enumerate(ip_of):
        where.setdefault(ip, []).append(i)
    user_of = rows["username"].to_numpy(dtype=object)
    out = []
    for members in groups.values():
        mine = np.sort(np.concatenate([where[ip] for ip in members]))
        campaign = len(members) >= cfg.network_min_addresses and len(mine) >= cfg.network_min_failures
        if campaign:
            users = len({user_of[i] for i in mine if pd.notna(user_of[i])})
            nets = {network_of(ip) for ip in members}
            out.append(
                group_finding_row(
                    "brute_force_network",
                    "high",
                    "medium",
                    quote,
                    at[mine],
                    f"{len(members):,} addresses in {counted(len(nets), 'network')} made "
                    f"{len(mine):,} failed logins, "
                    f"trying the same {users} user names in turn: one distributed campaign, each address "
                    "below the per-address threshold.",
                    "Block the campaign's addresses (listed in the auth_failures findings that name it).",
                )
            )
            campaign_id = out[-1]["finding_id"]
        for ip in members:
            r = at[np.asarray(where[ip])]
            part = f" It is part of campaign {campaign_id}." if campaign else ""
            out.append(
                group_finding_row(
                    "auth_failures",
                    "medium" if campaign else "low",
                    "medium",
                    quote,
                    r,
                    f"{ip} failed to log in {counted(len(r), 'time')} and never succeeded.{part}",
                    f"{'Block' if campaign else 'Watch or block'} {ip}.",
                    ip=ip,
                    network=network_of(ip),
                )
            )
    return out


def spray_and_enumeration(a: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    out = []
    named = a["outcome"].isin(FAILED) & a["username"].notna()
    failed = a.loc[named, ["ts", "client_ip", "username", "account_exists", "evidence"]]
    quote = Quote(failed)
    per_ip = Groups.of(failed["client_ip"])
    # (address, user name) pairs: attempts each, and the first row (drop_duplicates keeps it)
    name, names = pd.factorize(failed["username"])
    keep = np.flatnonzero(per_ip.codes >= 0)
    width = len(names) + 1
    pair, first, tries = np.unique(
        per_ip.codes[keep] * width + np.asarray(name, dtype=np.int64)[keep],
        return_index=True,
        return_counts=True,
    )
    pair_ip = pair // width
    n_users = np.bincount(pair_ip, minlength=len(per_ip.keys))
    exists = failed["account_exists"].iloc[keep[first]]
    known = np.bincount(pair_ip, weights=(exists == True).fillna(False).to_numpy(dtype=bool))  # noqa: E712
    missing = np.bincount(pair_ip, weights=(exists == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712
    median = pd.Series(tries).groupby(pair_ip).median().reindex(range(len(per_ip.keys))).to_numpy()
    enumeration = n_users >= cfg.enumeration_min_usernames
    spray = (n_users >= cfg.spray_min_accounts) & (median <= 2)
    for k in np.flatnonzero(enumeration | spray).tolist():
        ip, at, n = per_ip.keys[k], per_ip.at(k), int(n_users[k])
        if enumeration[k]:
            out.append(
                group_finding_row(
                    "username_enumeration",
                    "medium",
                    "high",
                    quote,
                    at,
                    f"{ip} tried {n:,} user names: {int(known[k])} exist, {int(missing[k])} do not "
                    "(Dovecot's verdict).",
                    f"Block {ip}; the existing accounts it found are the likely next targets.",
                    ip=str(ip),
                    count=n,
                )
            )
        if spray[k]:
            out.append(
                group_finding_row(
                    "password_spray",
                    "high",
                    "medium",
                    quote,
                    at,
                    f"{ip} tried {n:,} accounts with one or two guesses each: password spraying.",
                    f"Block {ip}; make sure no account uses a common password.",
                    ip=str(ip),
                    count=n,
                )
            )
    hashed = a.loc[
        a["outcome"].isin(FAILED) & a["password_hmac"].notna() & a["username"].notna(),
        ["ts", "password_hmac", "username", "evidence"],
    ]
    if hashed.empty:
        return out
    quote = Quote(hashed)
    per_hash = Groups.of(hashed["password_hmac"])
    accounts = per_hash.distinct(hashed["username"])
    for k in np.flatnonzero(accounts >= cfg.spray_min_accounts).tolist():
        out.append(
            group_finding_row(
                "password_spray",
                "high",
                "high",
                quote,
                per_hash.at(k),
                f"One password (keyed hash {per_hash.keys[k]}) was tried against {accounts[k]} accounts.",
                "Block the addresses; make sure no account uses that password.",
                count=int(accounts[k]),
            )
        )
    return out
