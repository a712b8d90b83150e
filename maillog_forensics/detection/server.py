"""Findings about the server itself: credentials its logs expose, authentication backend
outages, outbound sending spikes, and settings that make attacks easier."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..common.wording import counted
from ..tables.auth import FAILED_OUTCOMES as FAILED
from ..tables.fingerprint import ServerFingerprint
from .rows import MAX_EVIDENCE, DetectConfig, evidence_of, finding_row, line_refs, message_lines, no_evidence

__all__ = [
    "config_findings",
    "credentials_in_logs",
    "dovecot_passwords_in_logs",
    "outages",
    "outbound",
]


def credentials_in_logs(a: pd.DataFrame, s: pd.DataFrame) -> list[dict[str, Any]]:
    leak = s[s["tls_data_logged"] | s["debug_dialogue"]]
    if leak.empty:
        return []
    exposed = a[a["session_id"].isin(leak["session_id"]) & a["username"].notna()]
    pw = a[a["session_id"].isin(leak["session_id"]) & a["password_length_min"].notna()]
    rows = exposed if len(exposed) else None
    # the dialogue lines that carry the credentials (stored redacted); else where each session began
    quoted = a[a["session_id"].isin(leak["session_id"])]
    evidence = evidence_of(quoted) if len(quoted) else []
    evidence = evidence or line_refs(leak["first_line"].head(20))
    users = sorted(exposed["username"].unique())
    return [
        finding_row(
            "credentials_in_logs",
            "high",
            "high",
            rows,
            f"The server logged the SMTP dialogue of {counted(len(leak), 'session')}, credentials included: "
            f"{counted(len(users), 'user name')} and {counted(len(pw), 'password')} (whole or in part) "
            "are in the logs.",
            "Set smtpd_tls_loglevel = 1 and remove debug_peer_list / -v; change the exposed passwords "
            f"({', '.join(users[:10])}); purge or restrict the old logs.",
            count=len(leak),
            evidence=evidence,
        )
    ]


def dovecot_passwords_in_logs(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Dovecot's auth_verbose_passwords: given passwords (or their SHA1) in the log."""
    rows = events[(events["kind"] == "dovecot_auth") & events["secret_length"].notna()]
    if rows.empty:
        return []
    users = sorted(rows["username"].dropna().astype(str).unique())
    evidence = [
        {"source_file": str(f), "line_no": int(n)}
        for f, n in zip(
            rows["source_file"].head(MAX_EVIDENCE), rows["line_no"].head(MAX_EVIDENCE), strict=True
        )
    ]
    return [
        finding_row(
            "credentials_in_logs",
            "high",
            "high",
            rows.assign(evidence=no_evidence(len(rows)).to_numpy()),
            f"Dovecot logged the passwords given in {len(rows):,} failed logins (auth_verbose_passwords), "
            f"for {counted(len(users), 'user name')}.",
            "Set auth_verbose_passwords = no in Dovecot; change the exposed passwords "
            f"({', '.join(users[:10])}); purge or restrict the old logs.",
            username=None,
            count=len(rows),
            evidence=evidence,
            key="dovecot",  # the SMTP dialogue leak (credentials_in_logs above) is another finding
        )
    ]


def outages(a: pd.DataFrame) -> list[dict[str, Any]]:
    out = a[a["outcome"] == "server_error"]
    if out.empty:
        return []
    return [
        finding_row(
            "server_auth_outage",
            "info",
            "high",
            out,
            f"{len(out):,} logins failed because the authentication server did not answer "
            '("Connection lost to authentication server"): the server\'s fault, not an attack.',
            "Check the SASL backend (Dovecot auth limits and delays); do not ban users for these.",
        )
    ]


def outbound(m: pd.DataFrame, cfg: DetectConfig) -> list[dict[str, Any]]:
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
            finding_row(
                "outbound_spam_after_auth",
                "high",
                "medium",
                rows.assign(ts=rows["first_seen"], evidence=message_lines(rows["first_line"])),
                f"{user} sent to {int(total.iloc[k])} recipients in the hour from {hour}.",
                f"Check whether {user} is compromised; hold its queue (postsuper -h).",
                username=str(user),
                count=int(total.iloc[k]),
            )
        )
    return out


def config_findings(fp: ServerFingerprint, a: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    ev = fp.evidence
    if fp.soft_bounce:
        out.append(
            finding_row(
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
            finding_row(
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
            finding_row(
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
            finding_row(
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
            finding_row(
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
