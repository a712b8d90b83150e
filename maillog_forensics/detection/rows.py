"""What a finding is: its columns, severities, thresholds, and the helpers that build its row
(identifier, time span, evidence lines quoted from attempts or messages)."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FINDING_COLUMNS",
    "KIND_NAMES",
    "MAX_EVIDENCE",
    "NAT",
    "SEVERITIES",
    "DetectConfig",
    "Groups",
    "Quote",
    "evidence_of",
    "finding_id",
    "finding_row",
    "group_finding_row",
    "line_ref",
    "line_refs",
    "message_lines",
    "network_of",
    "no_evidence",
]

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
#: what each finding kind is called in a report (the code stays beside it)
KIND_NAMES = {
    "account_compromised": "Account taken over",
    "auth_failures": "Failed logins from one address",
    "brute_force_ip": "Password guessing from one address",
    "brute_force_network": "Password guessing from a network or campaign",
    "password_spray": "Password spray (many accounts, few tries each)",
    "username_enumeration": "User name enumeration",
    "credentials_in_logs": "Passwords written to the logs",
    "outbound_spam_after_auth": "Mail burst from a logged-in account",
    "server_auth_outage": "Authentication backend failures",
    "config_auth_on_port25": "Setting: SMTP AUTH offered on port 25",
    "config_no_auth_rate_limit": "Setting: no limit on login attempts",
    "config_server": "Setting: server configuration",
    "config_soft_bounce": "Setting: soft_bounce is on",
    "config_tls_loglevel": "Setting: TLS log level logs credentials",
}
MAX_EVIDENCE = 50
NAT = np.iinfo(np.int64).min  # NaT as int64


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


def no_evidence(n: int) -> pd.Series:
    return pd.Series([[] for _ in range(n)], dtype=object)


def finding_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12]


def network_of(ip: str) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to, as network findings name it."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def evidence_of(rows: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lst in rows["evidence"]:
        out.extend(lst)
        if len(out) >= MAX_EVIDENCE:
            break
    return out[:MAX_EVIDENCE]


class Quote:
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
        ok = t != NAT
        if not ok.any():
            return pd.NaT, pd.NaT
        at, t = at[ok], t[ok]
        return self.ts[at[t.argmin()]], self.ts[at[t.argmax()]]

    def evidence_at(self, at: np.ndarray) -> list[dict[str, Any]]:
        """The first evidence lines of the rows at ``at``, in that order (as :func:`evidence_of`)."""
        out: list[dict[str, Any]] = []
        for i in at:
            out.extend(self.evidence[i])
            if len(out) >= MAX_EVIDENCE:
                break
        return out[:MAX_EVIDENCE]


@dataclass(frozen=True)
class Groups:
    """Row positions by key, as ``frame.groupby(key)`` iterates them.

    Keys sorted, null keys dropped, rows in frame order within a group: the order the
    findings come out in, without a frame per group.
    """

    keys: list[Any]
    codes: np.ndarray  # group of each row (-1: null key)
    order: np.ndarray  # row positions, group by group
    bounds: np.ndarray  # group k is order[bounds[k] : bounds[k + 1]]

    @classmethod
    def of(cls, key: pd.Series) -> Groups:
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


def finding_row(
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
    key: str | None = None,
) -> dict[str, Any]:
    """One finding. ``key`` tells apart findings of one kind and subject (it enters the id)."""
    if span is None and rows is not None and len(rows):
        span = (rows["ts"].min(), rows["ts"].max())
    return {
        "finding_id": finding_id(kind, ip, network, username, *([key] if key else [])),
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
        "evidence": evidence if evidence is not None else (evidence_of(rows) if rows is not None else []),
        "action": action,
    }


def group_finding_row(
    kind: str,
    severity: str,
    confidence: str,
    quote: Quote,
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
    """:func:`finding_row` of the rows at positions ``at`` (read through ``quote``)."""
    return finding_row(
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


def line_ref(ref: object) -> list[dict[str, Any]]:
    """A provenance reference (``file:line``, as in ``first_line``) as an evidence list."""
    if not (isinstance(ref, str) and ":" in ref):
        return []
    f, n = ref.rsplit(":", 1)
    return [{"source_file": f, "line_no": int(n)}]


def line_refs(refs: pd.Series) -> list[dict[str, Any]]:
    """Evidence entries for several provenance references."""
    return [e for ref in refs.astype(object) for e in line_ref(ref)]


def message_lines(first_line: pd.Series) -> list[list[dict[str, Any]]]:
    """Each message's first log line as its evidence; positional, not by label."""
    return [line_ref(ref) for ref in first_line.astype(object)]
