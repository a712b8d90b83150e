"""Authentication attempts: one row per attempt, from every source the logs offer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ...events.schema import EventRows
from ..sessions import PLACEMENT_COLUMNS, row_sessions, sessions_from_events
from .dialogue import with_decoded_dialogue
from .login_summaries import login_summary_attempts, with_login_summaries
from .outcomes import ATTEMPT_COLUMNS, empty_attempts
from .pairing import merge_backend_verdicts
from .postfix import counter_only_attempts, postfix_warning_attempts, success_attempts

__all__ = ["EVENT_COLUMNS", "EVENT_ROWS", "auth_attempts_from_events"]


#: event columns auth_attempts_from_events reads (the placement columns put each line in
#: its session; the session's own figures come from the sessions table)
EVENT_COLUMNS = [
    "ts",
    *PLACEMENT_COLUMNS,
    "severity",
    "reason",
    "stage",
    "metric",
    "sasl_method",
    "sasl_username",
    "username",
    "auth_result",
    "auth_attempts",
    "login_event",
    "direction",
    "io_length",
    "payload",
    "anvil_service",
    "auth_driver",
]

#: rows it reads: smtpd lines (to know each line's session), Postfix's AUTH warnings and
#: rate limits, Dovecot's passdb and login lines, logged dialogue (``load_events(..., rows=)``)
EVENT_ROWS = EventRows(
    daemons=("smtpd",),
    kinds=(
        "sasl_failed",
        "sasl_aborted",
        "session_abort",
        "rate_limit",
        "client",
        "dovecot_auth",
        "pam_auth_failure",
        "saslauthd_auth",
        "dovecot_login",
        "tls_data",
        "smtp_dialogue",
        "sasl_debug",
    ),
)


def auth_attempts_from_events(
    events: pd.DataFrame,
    *,
    sessions: pd.DataFrame | None = None,
    secrets: pd.DataFrame | None = None,
    reveal_passwords: bool = False,
    hmac_key: bytes | None = None,
) -> pd.DataFrame:
    """One row per authentication attempt.

    Parameters
    ----------
    events
        Event frame from :func:`maillog_forensics.load_events`.
    sessions
        ``sessions_from_events(events)`` if already computed.
    secrets
        The dataset's credential side table (:func:`maillog_forensics.load_secrets`):
        needed to decode logged dialogue; without it user names come from the other
        sources only.
    reveal_passwords
        Put decoded passwords in clear in the ``password`` column (a warning is issued).
        Default: only their length, class and keyed hash.
    hmac_key
        Key of ``password_hmac`` (see :func:`maillog_forensics.tables.credentials.load_or_create_key`).

    Returns
    -------
    pandas.DataFrame
        ``ATTEMPT_COLUMNS``, ordered by time. ``tls`` is the session's TLS protocol (null:
        plain text); ``credentials_logged`` says the server logged that session's SMTP
        dialogue (TLS log level 4 or ``debug_peer_list``), credentials included.
        ``outcome`` is ``failed``, ``succeeded``,
        ``aborted``, ``rate_limited`` (anvil refused the AUTH), ``rejected`` (refused without a
        SASL exchange: error limit, STARTTLS required) or ``server_error`` (an auth backend
        outage: not an attack). ``username_source`` says where the name came from
        (``sasl_username``, ``dovecot``, ``decoded``, ``pam`` or ``none``); names are
        never guessed. ``evidence`` lists the ``{source_file, line_no}`` of every line used.
    """
    if reveal_passwords:
        warnings.warn("auth attempts will show passwords in clear text", UserWarning, stacklevel=2)
    if sessions is None:
        sessions = sessions_from_events(events)
    # each line's session as a number: a session_id string per line would cost gigabytes
    row_session = row_sessions(events)
    sess = sessions.set_index("session_id")
    # categorical: == and isin compare codes (a str copy of 10M kinds costs about a second)
    kind = events["kind"]
    rows = np.arange(len(events))

    parts = [
        postfix_warning_attempts(events, kind, rows, row_session, sess),
        success_attempts(events, kind, rows, row_session, sess),
    ]
    attempts = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    )
    attempts = empty_attempts() if attempts is None else attempts
    attempts = counter_only_attempts(attempts, sess)
    attempts = merge_backend_verdicts(attempts, events, kind)
    attempts = with_login_summaries(attempts, login_summary_attempts(events, kind))
    if secrets is not None and len(secrets):
        attempts = with_decoded_dialogue(
            attempts, events, kind, rows, row_session, secrets, reveal=reveal_passwords, key=hmac_key
        )
    # what the session says: was it encrypted, did the server log the credentials?
    by_session = sess.reindex(attempts["session_id"].astype(object).where(attempts["session_id"].notna(), ""))
    attempts["tls"] = by_session["tls_protocol"].to_numpy()
    attempts["credentials_logged"] = (
        by_session["tls_data_logged"].fillna(False).astype(bool)
        | by_session["debug_dialogue"].fillna(False).astype(bool)
    ).to_numpy()
    # the sources are concatenated; an empty one would leave ts as object, so say what it is
    attempts["ts"] = pd.to_datetime(attempts["ts"], utc=True)
    attempts = attempts.sort_values("ts", kind="stable", na_position="last").reset_index(drop=True)
    for col in ATTEMPT_COLUMNS:
        if col not in attempts.columns:
            attempts[col] = None
    attempts["password_length_min"] = attempts["password_length_min"].astype("Int32")
    attempts["password_length_max"] = attempts["password_length_max"].astype("Int32")
    return attempts[ATTEMPT_COLUMNS]
