"""Findings: attacks, compromises, leaky configuration, and what to do about each.

One row per finding: what happened (``summary``), how bad (``severity``) and how sure
(``confidence``), whom it concerns (address, network, user name), when, how often, the
evidence lines, and the action. Thresholds live in :class:`DetectConfig`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..tables.fingerprint import EVENT_COLUMNS as _FINGERPRINT_COLUMNS
from ..tables.fingerprint import EVENT_ROWS as _FINGERPRINT_ROWS
from ..tables.fingerprint import ServerFingerprint, fingerprint
from .attacks import brute_force, compromises, guesses, legit_ips, spray_and_enumeration
from .rows import FINDING_COLUMNS, SEVERITIES, DetectConfig, network_of
from .server import config_findings, credentials_in_logs, dovecot_passwords_in_logs, outages, outbound

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_ROWS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "DetectConfig",
    "findings",
    "network_of",
]

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
    guessed = guesses(attempts)
    out += compromises(attempts, messages, guessed, cfg)
    out += brute_force(guessed, legit_ips(attempts), cfg)
    out += spray_and_enumeration(attempts, cfg)
    out += credentials_in_logs(attempts, sessions)
    out += dovecot_passwords_in_logs(events)
    out += outages(attempts)
    out += outbound(messages, cfg)
    out += config_findings(server, attempts)
    frame = pd.DataFrame(out, columns=FINDING_COLUMNS)
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return (
        frame.assign(_r=rank)
        .sort_values(["_r", "count"], ascending=[False, False])
        .drop(columns="_r")
        .reset_index(drop=True)
    )
