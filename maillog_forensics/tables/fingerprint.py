"""What the logs reveal about the server itself: version, SASL backend, risky settings.

Every fact comes with the evidence lines it rests on, so a finding built on it can show
them. Nothing here reads the server's configuration files: only what the logs imply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..events.schema import EventRows

__all__ = ["ServerFingerprint", "fingerprint"]

_MAX_EVIDENCE = 20


@dataclass
class ServerFingerprint:
    """Server facts inferred from logs (``None`` where the logs do not tell)."""

    postfix_version: str | None = None
    dovecot_version: str | None = None
    sasl_backend: str | None = None  # "dovecot" | "cyrus"
    tls_loglevel_min: int | None = None  # the level is at least this
    soft_bounce: bool | None = None
    auth_on_port25: bool | None = None  # AUTH offered and used on the port-25 smtpd
    debug_peer_list: bool | None = None  # verbose dialogue logged for some peers
    auth_rate_limit: bool | None = None  # smtpd_client_auth_rate_limit seen in effect
    evidence: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The facts as a plain dict (evidence included)."""
        return dict(self.__dict__)


def _lines(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"source_file": str(f), "line_no": int(n)}
        for f, n in zip(
            rows["source_file"].head(_MAX_EVIDENCE), rows["line_no"].head(_MAX_EVIDENCE), strict=True
        )
    ]


def _first_lines(events: pd.DataFrame, at: np.ndarray) -> list[dict[str, Any]]:
    """The evidence lines of the rows at the first positions of ``at`` (only those are read)."""
    return _lines(events.iloc[at[:_MAX_EVIDENCE]])


def _where(mask: pd.Series) -> np.ndarray:
    """Row positions where a mask is true (missing counts as false)."""
    return np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))


#: event columns fingerprint reads
EVENT_COLUMNS = [
    "kind",
    "daemon",
    "service",
    "version",
    "reason",
    "smtp_code",
    "payload",
    "sasl_username",
    "metric",
    "source_file",
    "line_no",
]

#: rows it reads (``load_events(..., rows=EVENT_ROWS)``); with no row at all it cannot say
#: whether debug_peer_list is on, so a caller passing a subset says how many lines the log has
EVENT_ROWS = EventRows(
    kinds=(
        "daemon_started",
        "dovecot_started",
        "sasl_failed",
        "sasl_aborted",
        "dovecot_auth",
        "tls_data",
        "tls_bio",
        "tls_hexdump",
        "tls_state",
        "tls_setup",
        "tls_established",
        "smtp_dialogue",
        "sasl_debug",
        "reject",
        "client",
        "rate_limit",
        "anvil_stats",
    ),
)


def fingerprint(events: pd.DataFrame, *, log_lines: int | None = None) -> ServerFingerprint:
    """Infer the server's version and risky settings from its logs.

    ``events`` may be the whole event frame or only its ``EVENT_ROWS``; then
    ``log_lines`` is the number of lines of the whole log (none: nothing can be said).

    Examples
    --------
    >>> import maillog_forensics as mf
    >>> fp = mf.fingerprint(mf.load_events("datasets/sample"))  # doctest: +SKIP
    >>> fp.soft_bounce, fp.tls_loglevel_min  # doctest: +SKIP
    (True, 4)
    """
    fp = ServerFingerprint()
    # kind is categorical: compare it by code; string tests run only on the rows of the kinds
    # they concern (casting a 10M-row column to str costs seconds)
    kind = events["kind"]

    started = events.iloc[_where(kind == "daemon_started")]
    if len(started):
        fp.postfix_version = str(started["version"].iloc[-1])
        fp.evidence["postfix_version"] = _lines(started.tail(1))
    dstart = events.iloc[_where(kind == "dovecot_started")]
    if len(dstart):
        fp.dovecot_version = str(dstart["version"].iloc[-1])

    fails = events[["reason", "source_file", "line_no"]].iloc[_where(kind == "sasl_failed")]
    reason = fails["reason"].astype(str)
    cyrus = fails[reason.str.startswith("authentication failure")]
    dovecot = fails[reason.isin(["", "(reason unavailable)", "UGFzc3dvcmQ6", "VXNlcm5hbWU6"])]
    dovecot_auth = _where(kind == "dovecot_auth")
    if len(dovecot) or len(dovecot_auth):
        fp.sasl_backend = "dovecot"
        fp.evidence["sasl_backend"] = _lines(dovecot) if len(dovecot) else _first_lines(events, dovecot_auth)
    elif len(cyrus):
        fp.sasl_backend = "cyrus"
        fp.evidence["sasl_backend"] = _lines(cyrus)

    for level, kinds in ((4, ["tls_data"]), (3, ["tls_bio", "tls_hexdump"]), (2, ["tls_state", "tls_setup"])):
        at = _where(kind.isin(kinds))
        if len(at):
            fp.tls_loglevel_min = level
            fp.evidence["tls_loglevel"] = _first_lines(events, at)
            break
    else:
        if (kind == "tls_established").any():
            fp.tls_loglevel_min = 1

    # soft_bounce turns 5xx replies into 4xx: a "435 4.7.8" AUTH failure, a 4xx relay denial
    dialogue_at = _where(kind.isin(["tls_data", "smtp_dialogue"]))
    payload = events["payload"].iloc[dialogue_at].astype(str)
    reject_at = _where(kind == "reject")
    rejects = events[["reason", "smtp_code"]].iloc[reject_at]
    relay_4xx = rejects["reason"].astype(str).str.contains("Relay access denied") & (
        rejects["smtp_code"] < 500
    )
    soft_at = np.sort(
        np.concatenate(
            [dialogue_at[_where(payload.str.startswith("435 4.7.8"))], reject_at[_where(relay_4xx)]]
        )
    )
    if len(soft_at):
        fp.soft_bounce = True
        fp.evidence["soft_bounce"] = _first_lines(events, soft_at)

    auth_lines = kind.isin(["sasl_failed", "sasl_aborted"]) | (
        (kind == "client") & events["sasl_username"].notna()
    )
    port25 = _where(auth_lines & (events["daemon"] == "smtpd") & events["service"].isna())
    if auth_lines.any():
        fp.auth_on_port25 = bool(len(port25))
        if len(port25):
            fp.evidence["auth_on_port25"] = _first_lines(events, port25)

    dialogue = _where(kind.isin(["smtp_dialogue", "sasl_debug"]))
    lines = len(events) if log_lines is None else log_lines
    fp.debug_peer_list = bool(len(dialogue)) if lines else None
    if len(dialogue):
        fp.evidence["debug_peer_list"] = _first_lines(events, dialogue)

    rate_at = _where(kind == "rate_limit")
    stats_at = _where(kind == "anvil_stats")
    metric = events["metric"]
    limited_at = np.sort(
        np.concatenate(
            [
                rate_at[_where(metric.iloc[rate_at].astype(str).str.startswith("AUTH"))],
                stats_at[_where(metric.iloc[stats_at].astype(str) == "auth rate")],
            ]
        )
    )
    if len(limited_at):
        fp.auth_rate_limit = True
        fp.evidence["auth_rate_limit"] = _first_lines(events, limited_at)
    elif len(fails):
        fp.auth_rate_limit = False
    return fp
