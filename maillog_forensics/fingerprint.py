"""What the logs reveal about the server itself: version, SASL backend, risky settings.

Every fact comes with the evidence lines it rests on, so a finding built on it can show
them. Nothing here reads the server's configuration files: only what the logs imply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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


def fingerprint(events: pd.DataFrame) -> ServerFingerprint:
    """Infer the server's version and risky settings from its logs.

    Examples
    --------
    >>> import maillog_forensics as mf
    >>> fp = mf.fingerprint(mf.load_events("datasets/sample"))  # doctest: +SKIP
    >>> fp.soft_bounce, fp.tls_loglevel_min  # doctest: +SKIP
    (True, 4)
    """
    fp = ServerFingerprint()
    kind = events["kind"].astype(str)

    started = events[kind == "daemon_started"]
    if len(started):
        fp.postfix_version = str(started["version"].iloc[-1])
        fp.evidence["postfix_version"] = _lines(started.tail(1))
    dstart = events[kind == "dovecot_started"]
    if len(dstart):
        fp.dovecot_version = str(dstart["version"].iloc[-1])

    fails = events[kind == "sasl_failed"]
    reason = fails["reason"].astype(str)
    cyrus = fails[reason.str.startswith("authentication failure")]
    dovecot = fails[reason.isin(["", "(reason unavailable)", "UGFzc3dvcmQ6", "VXNlcm5hbWU6"])]
    if len(dovecot) or (kind == "dovecot_auth").any():
        fp.sasl_backend = "dovecot"
        fp.evidence["sasl_backend"] = _lines(dovecot if len(dovecot) else events[kind == "dovecot_auth"])
    elif len(cyrus):
        fp.sasl_backend = "cyrus"
        fp.evidence["sasl_backend"] = _lines(cyrus)

    for level, kinds in ((4, ["tls_data"]), (3, ["tls_bio", "tls_hexdump"]), (2, ["tls_state", "tls_setup"])):
        rows = events[kind.isin(kinds)]
        if len(rows):
            fp.tls_loglevel_min = level
            fp.evidence["tls_loglevel"] = _lines(rows)
            break
    else:
        if (kind == "tls_established").any():
            fp.tls_loglevel_min = 1

    # soft_bounce turns 5xx replies into 4xx: a "435 4.7.8" AUTH failure, a 4xx relay denial
    payload = events["payload"].astype(str)
    soft = events[
        (kind.isin(["tls_data", "smtp_dialogue"]) & payload.str.startswith("435 4.7.8"))
        | (
            (kind == "reject")
            & events["reason"].astype(str).str.contains("Relay access denied")
            & (events["smtp_code"] < 500)
        )
    ]
    if len(soft):
        fp.soft_bounce = True
        fp.evidence["soft_bounce"] = _lines(soft)

    auth_lines = events[
        kind.isin(["sasl_failed", "sasl_aborted"]) | ((kind == "client") & events["sasl_username"].notna())
    ]
    port25 = auth_lines[(auth_lines["daemon"] == "smtpd") & auth_lines["service"].isna()]
    if len(auth_lines):
        fp.auth_on_port25 = bool(len(port25))
        if len(port25):
            fp.evidence["auth_on_port25"] = _lines(port25)

    dialogue = events[kind.isin(["smtp_dialogue", "sasl_debug"])]
    fp.debug_peer_list = bool(len(dialogue)) if len(events) else None
    if len(dialogue):
        fp.evidence["debug_peer_list"] = _lines(dialogue)

    limited = events[
        ((kind == "rate_limit") & events["metric"].astype(str).str.startswith("AUTH"))
        | ((kind == "anvil_stats") & (events["metric"].astype(str) == "auth rate"))
    ]
    if len(limited):
        fp.auth_rate_limit = True
        fp.evidence["auth_rate_limit"] = _lines(limited)
    elif len(fails):
        fp.auth_rate_limit = False
    return fp
