"""Findings: attacks, compromises, leaky configuration, and what to do about each.

One row per finding: what happened (``summary``), how bad (``severity``) and how sure
(``confidence``), whom it concerns (address, network, user name), when, how often, the
evidence lines, and the action. Thresholds live in :class:`DetectConfig`.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..tables.auth import FAILED_OUTCOMES as FAILED
from ..tables.fingerprint import EVENT_COLUMNS as _FINGERPRINT_COLUMNS
from ..tables.fingerprint import EVENT_ROWS as _FINGERPRINT_ROWS
from ..tables.fingerprint import ServerFingerprint, fingerprint

__all__ = ["FINDING_COLUMNS", "SEVERITIES", "DetectConfig", "findings"]

SEVERITIES = ["info", "low", "medium", "high", "critical"]
FINDING_COLUMNS = [
    "finding_id",
    "kind",
    "severity",
    "confidence",
    "subject_ip",
    "subject_network",
    "subject_username",
    "first_seen",
    "last_seen",
    "count",
    "summary",
    "evidence",
    "action",
]
#: attempt outcomes that count against the client
_MAX_EVIDENCE = 50
_NAT = np.iinfo(np.int64).min  # NaT as int64


@dataclass(frozen=True)
class DetectConfig:
    """Thresholds of the detectors (all overridable).

    Attributes
    ----------
    brute_force_min_failures
        Failed attempts from one address that make a brute force.
    network_min_addresses, network_min_failures
        A network (/24, IPv6 /64) whose addresses each stay below the per-address
        threshold but together reach these is a distributed brute force.
    spray_min_accounts
        Distinct accounts one address tried, or one password (by keyed hash) was tried
        against, that make a password spray.
    enumeration_min_usernames
        Distinct user names from one address that make username enumeration.
    compromise_min_failures
        Failures from an address before its successful login that make the login suspect.
    outbound_recipients_per_hour
        Recipients per hour from one authenticated user that make a sending spike.
    campaign_window_hours
        Addresses that try the same user name within this many hours belong to one campaign.
    """

    brute_force_min_failures: int = 5
    network_min_addresses: int = 3
    network_min_failures: int = 8
    spray_min_accounts: int = 5
    enumeration_min_usernames: int = 10
    compromise_min_failures: int = 3
    outbound_recipients_per_hour: int = 100
    campaign_window_hours: int = 6


def _no_evidence(n: int) -> pd.Series:
    return pd.Series([[] for _ in range(n)], dtype=object)


def _fid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12]


def network_of(ip: str) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to, as network findings name it."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _ev(rows: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lst in rows["evidence"]:
        out.extend(lst)
        if len(out) >= _MAX_EVIDENCE:
            break
    return out[:_MAX_EVIDENCE]


class _Quote:
    """What findings quote from rows of attempts (time span, evidence), read by position.

    Selecting a group's rows out of a frame costs milliseconds per group (one take per
    column); a finding needs only the first and last time and the first evidence lines.
    """

    def __init__(self, rows: pd.DataFrame) -> None:
        self.ts = pd.DatetimeIndex(rows["ts"])
        self.i8 = np.asarray(self.ts.asi8)
        self.evidence = rows["evidence"].to_numpy(dtype=object)

    def span(self, at: np.ndarray) -> tuple[Any, Any]:
        """First and last time of the rows at ``at``, as ``Series.min()``/``max()`` give them."""
        t = self.i8[at]
        ok = t != _NAT
        if not ok.any():
            return pd.NaT, pd.NaT
        at, t = at[ok], t[ok]
        return self.ts[at[t.argmin()]], self.ts[at[t.argmax()]]

    def evidence_at(self, at: np.ndarray) -> list[dict[str, Any]]:
        """The first evidence lines of the rows at ``at``, in that order (as :func:`_ev`)."""
        out: list[dict[str, Any]] = []
        for i in at:
            out.extend(self.evidence[i])
            if len(out) >= _MAX_EVIDENCE:
                break
        return out[:_MAX_EVIDENCE]


@dataclass(frozen=True)
class _Groups:
    """Row positions by key, as ``frame.groupby(key)`` iterates them.

    Keys sorted, null keys dropped, rows in frame order within a group: the order the
    findings come out in, without a frame per group.
    """

    keys: list[Any]
    codes: np.ndarray  # group of each row (-1: null key)
    order: np.ndarray  # row positions, group by group
    bounds: np.ndarray  # group k is order[bounds[k] : bounds[k + 1]]

    @classmethod
    def of(cls, key: pd.Series) -> _Groups:
        """Group the rows of a frame by one of its columns."""
        codes, uniques = pd.factorize(key, sort=True)
        codes = np.asarray(codes, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        sizes = np.bincount(codes[codes >= 0], minlength=len(uniques))
        skip = int((codes < 0).sum())
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(list(uniques), codes, order[skip:], bounds)

    @property
    def sizes(self) -> np.ndarray:
        """Rows per group."""
        return np.diff(self.bounds)

    def at(self, k: int) -> np.ndarray:
        """Positions of the rows of group ``k``, in frame order."""
        return self.order[self.bounds[k] : self.bounds[k + 1]]

    def distinct(self, values: pd.Series) -> np.ndarray:
        """Distinct non-null ``values`` per group (``nunique()``)."""
        vcodes, uniques = pd.factorize(values)
        vcodes = np.asarray(vcodes, dtype=np.int64)
        keep = (self.codes >= 0) & (vcodes >= 0)
        width = len(uniques) + 1
        pairs = np.unique(self.codes[keep] * width + vcodes[keep])
        return np.bincount(pairs // width, minlength=len(self.keys))


def _row(
    kind: str,
    severity: str,
    confidence: str,
    rows: pd.DataFrame | None,
    summary: str,
    action: str,
    *,
    ip: str | None = None,
    network: str | None = None,
    username: str | None = None,
    count: int | None = None,
    evidence: list[dict[str, Any]] | None = None,
    span: tuple[Any, Any] | None = None,
) -> dict[str, Any]:
    if span is None and rows is not None and len(rows):
        span = (rows["ts"].min(), rows["ts"].max())
    return {
        "finding_id": _fid(kind, ip, network, username),
        "kind": kind,
        "severity": severity,
        "confidence": confidence,
        "subject_ip": ip,
        "subject_network": network,
        "subject_username": username,
        "first_seen": span[0] if span is not None else None,
        "last_seen": span[1] if span is not None else None,
        "count": int(count if count is not None else (len(rows) if rows is not None else 0)),
        "summary": summary,
        "evidence": evidence if evidence is not None else (_ev(rows) if rows is not None else []),
        "action": action,
    }


def _group_row(
    kind: str,
    severity: str,
    confidence: str,
    quote: _Quote,
    at: np.ndarray,
    summary: str,
    action: str,
    *,
    span: tuple[Any, Any] | None = None,
    count: int | None = None,
    ip: str | None = None,
    network: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """:func:`_row` of the rows at positions ``at`` (read through ``quote``)."""
    return _row(
        kind,
        severity,
        confidence,
        None,
        summary,
        action,
        count=len(at) if count is None else count,
        evidence=quote.evidence_at(at),
        span=span or quote.span(at),
        ip=ip,
        network=network,
        username=username,
    )


#: event columns and rows findings reads itself (given the derived tables and ``server``)
EVENT_COLUMNS = [*_FINGERPRINT_COLUMNS, "ts", "username", "secret_length"]
EVENT_ROWS = _FINGERPRINT_ROWS


def findings(
    events: pd.DataFrame,
    *,
    sessions: pd.DataFrame | None = None,
    attempts: pd.DataFrame | None = None,
    messages: pd.DataFrame | None = None,
    config: DetectConfig | None = None,
    server: ServerFingerprint | None = None,
) -> pd.DataFrame:
    """All findings for an event frame (derived tables computed when not given).

    Returns
    -------
    pandas.DataFrame
        ``FINDING_COLUMNS``, most severe first.
    """
    from ..tables.auth import auth_attempts_from_events
    from ..tables.messages import messages_from_events
    from ..tables.sessions import sessions_from_events

    cfg = config or DetectConfig()
    if sessions is None:
        sessions = sessions_from_events(events)
    if attempts is None:
        attempts = auth_attempts_from_events(events, sessions=sessions)
    if messages is None:
        messages = messages_from_events(events)
    server = server or fingerprint(events)
    out: list[dict[str, Any]] = []
    guesses = _guesses(attempts)
    out += _compromises(attempts, messages, guesses, cfg)
    out += _brute_force(guesses, _legit_ips(attempts), cfg)
    out += _spray_and_enumeration(attempts, cfg)
    out += _credentials_in_logs(attempts, sessions)
    out += _dovecot_passwords_in_logs(events)
    out += _outages(attempts)
    out += _outbound(messages, cfg)
    out += _config(server, attempts)
    frame = pd.DataFrame(out, columns=FINDING_COLUMNS)
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return (
        frame.assign(_r=rank)
        .sort_values(["_r", "count"], ascending=[False, False])
        .drop(columns="_r")
        .reset_index(drop=True)
    )


def _compromises(
    a: pd.DataFrame, m: pd.DataFrame, failed: pd.DataFrame, cfg: DetectConfig
) -> list[dict[str, Any]]:
    """Successful logins after failures, and later logins to an account that fell.

    ``failed`` is :func:`_guesses` of ``a``.
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
            f"; it then sent {len(sent)} message(s) to {rcpts} recipient(s) "
            f"({int(sent['bounced'].sum())} bounced)"
            if len(sent)
            else "; no mail was sent from it (a credential check)"
        )
        evidence = _ev(rows) + _line_refs(sent["first_line"].head(20))
        out.append(
            _row(
                "account_compromised",
                severity,
                "high",
                rows,
                f"{user} logged in successfully from {ip} {why}{mail}.",
                f"Reset the password of {user} now and end its sessions; block {ip}; "
                "review the mail it sent.",
                ip=ip,
                username=user,
                count=len(sent) or 1,
                evidence=evidence,
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


def _legit_ips(a: pd.DataFrame) -> set[str]:
    """Addresses that logged in successfully (compromises are removed by the caller)."""
    return set(a.loc[a["outcome"] == "succeeded", "client_ip"].dropna().unique().astype(str))


def _guesses(a: pd.DataFrame) -> pd.DataFrame:
    """Failed attempts, plus backend-outage ones from addresses that also failed outright.

    Only the columns the detectors read (time, address, name, evidence).
    """
    failed = a["outcome"].isin(FAILED)
    guessers = a.loc[failed, "client_ip"].dropna().unique()
    keep = failed | ((a["outcome"] == "server_error") & a["client_ip"].isin(guessers))
    keep &= a["client_ip"].notna() & (a["client_ip"] != "")
    return a.loc[keep, ["ts", "client_ip", "username", "evidence"]]


def _brute_force(failed: pd.DataFrame, legit: set[str], cfg: DetectConfig) -> list[dict[str, Any]]:
    """Per-address brute force, then networks and campaigns of the low-volume addresses.

    ``failed`` is :func:`_guesses` of the attempts, ``legit`` :func:`_legit_ips`.
    """
    out = []
    quote = _Quote(failed)
    per_ip = _Groups.of(failed["client_ip"])
    users = per_ip.distinct(failed["username"])
    sizes = per_ip.sizes
    small: list[int] = []
    for k, key in enumerate(per_ip.keys):
        ip = str(key)
        n = int(sizes[k])
        if n >= cfg.brute_force_min_failures:
            at = per_ip.at(k)
            first, last = quote.span(at)
            span = (last - first).total_seconds() / 60 if n > 1 else 0
            sev = "high" if n >= 4 * cfg.brute_force_min_failures else "medium"
            out.append(
                _group_row(
                    "brute_force_ip",
                    sev,
                    "high",
                    quote,
                    at,
                    f"{ip} made {n} failed logins ({users[k]} user names) over {span:.0f} min.",
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
                _group_row(
                    "brute_force_network",
                    "high",
                    "medium",
                    quote,
                    at,
                    f"{addrs} addresses of {net} made {len(at)} failed logins between them, "
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


def _campaigns(
    failed: pd.DataFrame, quote: _Quote, at: np.ndarray, cfg: DetectConfig
) -> list[dict[str, Any]]:
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
                _group_row(
                    "brute_force_network",
                    "high",
                    "medium",
                    quote,
                    at[mine],
                    f"{len(members)} addresses in {len(nets)} network(s) made {len(mine)} failed logins, "
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
                _group_row(
                    "auth_failures",
                    "medium" if campaign else "low",
                    "medium",
                    quote,
                    r,
                    f"{ip} failed to log in {len(r)} time(s) and never succeeded.{part}",
                    f"{'Block' if campaign else 'Watch or block'} {ip}.",
                    ip=ip,
                    network=network_of(ip),
                )
            )
    return out


def _spray_and_enumeration(a: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    out = []
    named = a["outcome"].isin(FAILED) & a["username"].notna()
    failed = a.loc[named, ["ts", "client_ip", "username", "account_exists", "evidence"]]
    quote = _Quote(failed)
    per_ip = _Groups.of(failed["client_ip"])
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
                _group_row(
                    "username_enumeration",
                    "medium",
                    "high",
                    quote,
                    at,
                    f"{ip} tried {n} user names: {int(known[k])} exist, {int(missing[k])} do not "
                    "(Dovecot's verdict).",
                    f"Block {ip}; the existing accounts it found are the likely next targets.",
                    ip=str(ip),
                    count=n,
                )
            )
        if spray[k]:
            out.append(
                _group_row(
                    "password_spray",
                    "high",
                    "medium",
                    quote,
                    at,
                    f"{ip} tried {n} accounts with one or two guesses each: password spraying.",
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
    quote = _Quote(hashed)
    per_hash = _Groups.of(hashed["password_hmac"])
    accounts = per_hash.distinct(hashed["username"])
    for k in np.flatnonzero(accounts >= cfg.spray_min_accounts).tolist():
        out.append(
            _group_row(
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


def _credentials_in_logs(a: pd.DataFrame, s: pd.DataFrame) -> list[dict[str, Any]]:
    leak = s[s["tls_data_logged"] | s["debug_dialogue"]]
    if leak.empty:
        return []
    exposed = a[a["session_id"].isin(leak["session_id"]) & a["username"].notna()]
    pw = a[a["session_id"].isin(leak["session_id"]) & a["password_length_min"].notna()]
    rows = exposed if len(exposed) else None
    evidence = _line_refs(leak["first_line"].head(20))
    users = sorted(exposed["username"].unique())
    return [
        _row(
            "credentials_in_logs",
            "high",
            "high",
            rows,
            f"The server logged the SMTP dialogue of {len(leak)} session(s), credentials included: "
            f"{len(users)} user name(s) and {len(pw)} password(s) (whole or in part) are in the logs.",
            "Set smtpd_tls_loglevel = 1 and remove debug_peer_list / -v; change the exposed passwords "
            f"({', '.join(users[:10])}); purge or restrict the old logs.",
            count=len(leak),
            evidence=evidence,
        )
    ]


def _dovecot_passwords_in_logs(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Dovecot's auth_verbose_passwords: given passwords (or their SHA1) in the log."""
    rows = events[(events["kind"] == "dovecot_auth") & events["secret_length"].notna()]
    if rows.empty:
        return []
    users = sorted(rows["username"].dropna().astype(str).unique())
    evidence = [
        {"source_file": str(f), "line_no": int(n)}
        for f, n in zip(
            rows["source_file"].head(_MAX_EVIDENCE), rows["line_no"].head(_MAX_EVIDENCE), strict=True
        )
    ]
    return [
        _row(
            "credentials_in_logs",
            "high",
            "high",
            rows.assign(evidence=_no_evidence(len(rows)).to_numpy()),
            f"Dovecot logged the passwords given in {len(rows)} failed logins (auth_verbose_passwords), "
            f"for {len(users)} user name(s).",
            "Set auth_verbose_passwords = no in Dovecot; change the exposed passwords "
            f"({', '.join(users[:10])}); purge or restrict the old logs.",
            username=None,
            count=len(rows),
            evidence=evidence,
        )
    ]


def _outages(a: pd.DataFrame) -> list[dict[str, Any]]:
    out = a[a["outcome"] == "server_error"]
    if out.empty:
        return []
    return [
        _row(
            "server_auth_outage",
            "info",
            "high",
            out,
            f"{len(out)} logins failed because the authentication server did not answer "
            '("Connection lost to authentication server"): the server\'s fault, not an attack.',
            "Check the SASL backend (Dovecot auth limits and delays); do not ban users for these.",
        )
    ]


def _outbound(m: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    sent_at = np.flatnonzero(m["sasl_username"].notna().to_numpy())
    if not len(sent_at):
        return []
    # recipients per (user, hour) over the needed columns only; rows only for the hot hours
    sent = pd.DataFrame(
        {
            "sasl_username": m["sasl_username"].iloc[sent_at],
            "hour": pd.to_datetime(m["first_seen"].iloc[sent_at]).dt.floor("h"),
            "n": m["recipients"].iloc[sent_at].map(len),
        }
    )
    per_hour = sent.groupby(["sasl_username", "hour"])
    total = per_hour["n"].sum()
    hot = np.flatnonzero((total >= cfg.outbound_recipients_per_hour).to_numpy())
    if not len(hot):
        return []
    group = per_hour.ngroup().to_numpy(dtype=float)
    out = []
    for k in hot.tolist():
        user, hour = total.index[k]
        rows = m.iloc[sent_at[group == k]]
        out.append(
            _row(
                "outbound_spam_after_auth",
                "high",
                "medium",
                rows.assign(ts=rows["first_seen"], evidence=_message_lines(rows["first_line"])),
                f"{user} sent to {int(total.iloc[k])} recipients in the hour from {hour}.",
                f"Check whether {user} is compromised; hold its queue (postsuper -h).",
                username=str(user),
                count=int(total.iloc[k]),
            )
        )
    return out


def _line_ref(ref: object) -> list[dict[str, Any]]:
    """A provenance reference (``file:line``, as in ``first_line``) as an evidence list."""
    if not (isinstance(ref, str) and ":" in ref):
        return []
    f, n = ref.rsplit(":", 1)
    return [{"source_file": f, "line_no": int(n)}]


def _line_refs(refs: pd.Series) -> list[dict[str, Any]]:
    """Evidence entries for several provenance references."""
    return [e for ref in refs.astype(object) for e in _line_ref(ref)]


def _message_lines(first_line: pd.Series) -> list[list[dict[str, Any]]]:
    """Each message's first log line as its evidence; positional, not by label."""
    return [_line_ref(ref) for ref in first_line.astype(object)]


def _config(fp: ServerFingerprint, a: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    ev = fp.evidence
    if fp.soft_bounce:
        out.append(
            _row(
                "config_soft_bounce",
                "medium",
                "high",
                None,
                "The server answers 4xx where 5xx is due (435 4.7.8): soft_bounce = yes.",
                "Set soft_bounce = no: bots are told to retry and real bounces are delayed.",
                evidence=ev.get("soft_bounce", []),
            )
        )
    if fp.auth_on_port25:
        out.append(
            _row(
                "config_auth_on_port25",
                "medium",
                "high",
                None,
                "SMTP AUTH is offered and used on the port-25 smtpd, where password guessing bots knock.",
                "Set smtpd_sasl_auth_enable = no in main.cf and -o smtpd_sasl_auth_enable=yes only on "
                "submission/smtps in master.cf.",
                evidence=ev.get("auth_on_port25", []),
            )
        )
    if fp.tls_loglevel_min is not None and fp.tls_loglevel_min >= 2:
        sev = "high" if fp.tls_loglevel_min >= 4 else "low"
        out.append(
            _row(
                "config_tls_loglevel",
                sev,
                "high",
                None,
                f"smtpd_tls_loglevel is at least {fp.tls_loglevel_min}"
                + (
                    " (decrypted data, credentials included, is logged)." if fp.tls_loglevel_min >= 4 else "."
                ),
                "Set smtpd_tls_loglevel = 1.",
                evidence=ev.get("tls_loglevel", []),
            )
        )
    if fp.auth_rate_limit is False and (a["outcome"].isin(FAILED)).sum() >= 20:
        out.append(
            _row(
                "config_no_auth_rate_limit",
                "low",
                "medium",
                None,
                "Many failed logins and no sign of smtpd_client_auth_rate_limit.",
                "Set smtpd_client_auth_rate_limit (e.g. 10) and anvil_rate_time_unit = 60s.",
            )
        )
    if fp.postfix_version or fp.sasl_backend:
        out.append(
            _row(
                "config_server",
                "info",
                "high",
                None,
                f"Postfix {fp.postfix_version or '(version not logged)'}, SASL backend "
                f"{fp.sasl_backend or 'unknown'}"
                + (f", Dovecot {fp.dovecot_version}" if fp.dovecot_version else "")
                + ".",
                "None.",
                evidence=ev.get("postfix_version", []),
            )
        )
    return out
