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

import pandas as pd

from .fingerprint import ServerFingerprint, fingerprint

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
FAILED = ("failed", "rejected", "aborted", "rate_limited")
_MAX_EVIDENCE = 50


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
) -> dict[str, Any]:
    return {
        "finding_id": _fid(kind, ip, network, username),
        "kind": kind,
        "severity": severity,
        "confidence": confidence,
        "subject_ip": ip,
        "subject_network": network,
        "subject_username": username,
        "first_seen": rows["ts"].min() if rows is not None and len(rows) else None,
        "last_seen": rows["ts"].max() if rows is not None and len(rows) else None,
        "count": int(count if count is not None else (len(rows) if rows is not None else 0)),
        "summary": summary,
        "evidence": evidence if evidence is not None else (_ev(rows) if rows is not None else []),
        "action": action,
    }


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
    from .auth import auth_attempts_from_events
    from .messages import messages_from_events
    from .sessions import sessions_from_events

    cfg = config or DetectConfig()
    if sessions is None:
        sessions = sessions_from_events(events)
    if attempts is None:
        attempts = auth_attempts_from_events(events, sessions=sessions)
    if messages is None:
        messages = messages_from_events(events)
    server = server or fingerprint(events)
    out: list[dict[str, Any]] = []
    out += _compromises(attempts, messages, cfg)
    out += _brute_force(attempts, cfg)
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


def _compromises(a: pd.DataFrame, m: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    """Successful logins after failures, and later logins to an account that fell."""
    out = []
    ok = a[(a["outcome"] == "succeeded") & a["username"].notna()].sort_values("ts")
    failed = _guesses(a)
    # failures per address, sorted by time, to count "failures before this login" by bisection
    fail_times: dict[str, list[Any]] = {}
    for ip, t in zip(failed["client_ip"].astype(str), failed["ts"], strict=True):
        fail_times.setdefault(ip, []).append(t)
    for lst in fail_times.values():
        lst.sort()

    def failures_before(ip: str, ts: Any) -> int:
        return bisect.bisect_right(fail_times.get(ip, []), ts)

    fallen: dict[str, Any] = {}
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in ok.to_dict("records")]
    for rec in records:
        if failures_before(str(rec["client_ip"]), rec["ts"]) >= cfg.compromise_min_failures:
            fallen.setdefault(str(rec["username"]), rec["ts"])
    seen_ok: set[tuple[str, str]] = set()
    for rec in records:
        user, ip, ts = str(rec["username"]), str(rec["client_ip"]), rec["ts"]
        if (user, ip) in seen_ok:
            continue
        seen_ok.add((user, ip))
        n_before = failures_before(ip, ts)
        if n_before >= cfg.compromise_min_failures:
            why = f"after {n_before} failed logins from that address"
        elif user in fallen and ts >= fallen[user]:
            why = "after the account was taken over by password guessing"
        else:
            continue
        before = failed[(failed["client_ip"] == ip) & (failed["ts"] <= ts)]
        sent = m[(m["sasl_username"] == user) & (m["client_ip"] == ip)]
        rcpts = sum(len(r) for r in sent["recipients"])
        rows = pd.concat(
            [before, a[(a["client_ip"] == ip) & (a["username"] == user) & (a["outcome"] == "succeeded")]]
        )
        severity = "critical" if len(sent) else "high"
        mail = (
            f"; it then sent {len(sent)} message(s) to {rcpts} recipient(s) "
            f"({int(sent['bounced'].sum())} bounced)"
            if len(sent)
            else "; no mail was sent from it (a credential check)"
        )
        evidence = _ev(rows) + [
            {"source_file": f, "line_no": int(n)}
            for f, n in (ln.rsplit(":", 1) for ln in sent["first_line"].head(20))
        ]
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


def _legit_ips(a: pd.DataFrame) -> set[str]:
    """Addresses that logged in successfully (compromises are removed by the caller)."""
    return set(a.loc[a["outcome"] == "succeeded", "client_ip"].dropna().astype(str))


def _guesses(a: pd.DataFrame) -> pd.DataFrame:
    """Failed attempts, plus backend-outage ones from addresses that also failed outright."""
    failed = a["outcome"].isin(FAILED)
    guessers = set(a.loc[failed, "client_ip"].dropna())
    keep = failed | ((a["outcome"] == "server_error") & a["client_ip"].isin(guessers))
    return a[keep & a["client_ip"].notna() & (a["client_ip"] != "")]


def _brute_force(a: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    out = []
    failed = _guesses(a)
    legit = _legit_ips(a)
    per_ip = failed.groupby("client_ip")
    small: list[str] = []
    for ip, rows in per_ip:
        ip = str(ip)
        users = rows["username"].dropna().nunique()
        span = (rows["ts"].max() - rows["ts"].min()).total_seconds() / 60 if len(rows) > 1 else 0
        if len(rows) >= cfg.brute_force_min_failures:
            sev = "high" if len(rows) >= 4 * cfg.brute_force_min_failures else "medium"
            out.append(
                _row(
                    "brute_force_ip",
                    sev,
                    "high",
                    rows,
                    f"{ip} made {len(rows)} failed logins ({users} user names) over {span:.0f} min.",
                    f"Block {ip} (see `maillog-forensics blocklist`); set smtpd_client_auth_rate_limit.",
                    ip=ip,
                    network=network_of(ip),
                )
            )
        else:
            small.append(ip)
    # addresses that also logged in successfully are users who mistyped, not a network's bots
    small = [ip for ip in small if ip not in legit]
    loners: list[pd.DataFrame] = []
    if small:
        rest = failed[failed["client_ip"].isin(small)].assign(net=lambda d: d["client_ip"].map(network_of))
        for net, rows in rest.groupby("net"):
            addrs = rows["client_ip"].nunique()
            if addrs >= cfg.network_min_addresses and len(rows) >= cfg.network_min_failures:
                out.append(
                    _row(
                        "brute_force_network",
                        "high",
                        "medium",
                        rows,
                        f"{addrs} addresses of {net} made {len(rows)} failed logins between them, "
                        "each below the "
                        f"per-address threshold: a distributed attack that per-address banning misses.",
                        f"Block {net}.",
                        network=str(net),
                    )
                )
            else:
                loners.append(rows)
    if loners:
        out += _campaigns(pd.concat(loners), cfg)
    return out


def _campaigns(rows: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
    """Low-volume addresses of different networks joined by the user names they try.

    Two addresses belong to one campaign when they tried the same user name within
    ``campaign_window_hours`` of each other; a campaign of at least
    ``network_min_addresses`` addresses and ``network_min_failures`` failures is the
    distributed, low-and-slow attack per-address tools miss. Its addresses get their own
    (medium) findings so the blocklist lists them.
    """
    ips = sorted(rows["client_ip"].astype(str).unique())
    parent = {ip: ip for ip in ips}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    named = rows[rows["username"].notna()].assign(u=lambda d: d["username"].astype(str).str.lower())
    window = pd.Timedelta(hours=cfg.campaign_window_hours)
    for _, grp in named.sort_values("ts").groupby("u"):
        prev_ip, prev_ts = None, None
        for ip, ts in zip(grp["client_ip"].astype(str), grp["ts"], strict=True):
            if prev_ip is not None and prev_ip != ip and ts - prev_ts <= window:
                parent[find(ip)] = find(prev_ip)
            prev_ip, prev_ts = ip, ts
    groups: dict[str, list[str]] = {}
    for ip in ips:
        groups.setdefault(find(ip), []).append(ip)
    out = []
    for members in groups.values():
        mine = rows[rows["client_ip"].isin(members)]
        campaign = len(members) >= cfg.network_min_addresses and len(mine) >= cfg.network_min_failures
        if campaign:
            users = mine["username"].dropna().nunique()
            nets = {network_of(ip) for ip in members}
            out.append(
                _row(
                    "brute_force_network",
                    "high",
                    "medium",
                    mine,
                    f"{len(members)} addresses in {len(nets)} network(s) made {len(mine)} failed logins, "
                    f"trying the same {users} user names in turn: one distributed campaign, each address "
                    "below the per-address threshold.",
                    "Block the campaign's addresses (listed in the auth_failures findings that name it).",
                    username=None,
                    network=None,
                    ip=None,
                )
            )
            campaign_id = out[-1]["finding_id"]
        for ip in members:
            r = mine[mine["client_ip"] == ip]
            part = f" It is part of campaign {campaign_id}." if campaign else ""
            out.append(
                _row(
                    "auth_failures",
                    "medium" if campaign else "low",
                    "medium",
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
    failed = a[a["outcome"].isin(FAILED) & a["username"].notna()]
    for ip, rows in failed.groupby("client_ip"):
        per_user = rows.groupby("username").size()
        if len(per_user) >= cfg.enumeration_min_usernames:
            exists = rows.drop_duplicates("username")["account_exists"]
            known = int((exists == True).sum())  # noqa: E712
            missing = int((exists == False).sum())  # noqa: E712
            out.append(
                _row(
                    "username_enumeration",
                    "medium",
                    "high",
                    rows,
                    f"{ip} tried {len(per_user)} user names: {known} exist, {missing} do not "
                    "(Dovecot's verdict).",
                    f"Block {ip}; the existing accounts it found are the likely next targets.",
                    ip=str(ip),
                    count=len(per_user),
                )
            )
        if len(per_user) >= cfg.spray_min_accounts and per_user.median() <= 2:
            out.append(
                _row(
                    "password_spray",
                    "high",
                    "medium",
                    rows,
                    f"{ip} tried {len(per_user)} accounts with one or two guesses each: password spraying.",
                    f"Block {ip}; make sure no account uses a common password.",
                    ip=str(ip),
                    count=len(per_user),
                )
            )
    hashed = a[a["outcome"].isin(FAILED) & a["password_hmac"].notna() & a["username"].notna()]
    for h, rows in hashed.groupby("password_hmac"):
        accounts = rows["username"].nunique()
        if accounts >= cfg.spray_min_accounts:
            out.append(
                _row(
                    "password_spray",
                    "high",
                    "high",
                    rows,
                    f"One password (keyed hash {h}) was tried against {accounts} accounts.",
                    "Block the addresses; make sure no account uses that password.",
                    count=accounts,
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
    evidence = [
        {"source_file": f, "line_no": int(n)}
        for f, n in (x.rsplit(":", 1) for x in leak["first_line"].head(20))
    ]
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
    sent = m[m["sasl_username"].notna()].copy()
    if sent.empty:
        return []
    sent["hour"] = pd.to_datetime(sent["first_seen"]).dt.floor("h")
    sent["n"] = sent["recipients"].map(len)
    out = []
    for (user, hour), rows in sent.groupby(["sasl_username", "hour"]):
        if rows["n"].sum() >= cfg.outbound_recipients_per_hour:
            out.append(
                _row(
                    "outbound_spam_after_auth",
                    "high",
                    "medium",
                    rows.assign(ts=rows["first_seen"], evidence=_no_evidence(len(rows))),
                    f"{user} sent to {int(rows['n'].sum())} recipients in the hour from {hour}.",
                    f"Check whether {user} is compromised; hold its queue (postsuper -h).",
                    username=str(user),
                    count=int(rows["n"].sum()),
                )
            )
    return out


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
