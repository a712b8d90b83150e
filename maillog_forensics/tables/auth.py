"""Authentication attempts: one row per attempt, from every source the logs offer.

Sources: smtpd SASL failure / abort warnings; anvil's "AUTH command rate limit exceeded";
successes (``client=… sasl_username=``) and silent successes known only from a session's
``auth=N`` counter; attempts seen only in the disconnect counters; Dovecot passdb lines
(``unknown user`` vs ``Password mismatch``: does the account exist?) merged with the
Postfix warning of the same attempt, and so are Cyrus saslauthd's verdicts (``do_auth: auth
failure: [user=...]``); Dovecot login summaries and PAM lines; and SMTP
dialogue logged at ``smtpd_tls_loglevel = 4`` or for ``debug_peer_list`` peers, decoded
to user names and password facts (the password itself only on request).
"""

from __future__ import annotations

import bisect
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..events.schema import EventRows
from .credentials import decode_response, password_facts
from .sessions import PLACEMENT_COLUMNS, RowSessions, has_address, row_sessions, sessions_from_events

__all__ = [
    "ATTEMPT_COLUMNS",
    "FAILED_OUTCOMES",
    "REFUSED_OUTCOMES",
    "SERVER_ERROR",
    "auth_attempts_from_events",
]

#: outcomes of an attempt that did not log in through the client's doing: what counts as a
#: failed login (a guess) everywhere; ``server_error`` is not one of them
FAILED_OUTCOMES = ("failed", "rejected", "aborted", "rate_limited")
#: of those, the ones where the server refused before any password was checked
REFUSED_OUTCOMES = ("rejected", "rate_limited")
#: the authentication backend did not answer: the server's fault, never the attacker's
SERVER_ERROR = "server_error"

ATTEMPT_COLUMNS = [
    "ts",
    "client_ip",
    "session_id",
    "service",
    "tls",
    "credentials_logged",
    "mechanism",
    "username",
    "username_source",
    "account_exists",
    "outcome",
    "stage",
    "reason",
    "password_length_min",
    "password_length_max",
    "password_truncated",
    "password_class",
    "password_hmac",
    "password",
    "evidence",
]

#: failure reasons that are the server's fault, not a wrong password
BACKEND_ERRORS = (
    "Connection lost to authentication server",
    "Can't connect to authentication server",
    "Authentication backend error",
)
#: failure reasons Postfix produces without asking the SASL backend
POSTFIX_SIDE_ERRORS = ("Invalid authentication mechanism", "Invalid base64 data")
_STAGE = {"UGFzc3dvcmQ6": "password", "VXNlcm5hbWU6": "username"}


def account_exists(result: str) -> bool | None:
    """What a Dovecot/PAM verdict says about the account: exists, does not, or unknown.

    >>> [account_exists(r) for r in ["unknown user", "Password mismatch",
    ...  "pam_authenticate() failed: User not known to the underlying authentication module",
    ...  "pam_authenticate() failed: Authentication failure (password mismatch?)", "invalid credentials"]]
    [False, True, False, True, None]
    """
    r = result.lower()
    if "unknown user" in r or "user not known" in r or "user unknown" in r:
        return False
    if "mismatch" in r or "authentication failure" in r:
        return True
    return None


#: Dovecot/PAM verdict texts that refuse a login (lower case, searched in the text). Other
#: texts of the same request prefix are no attempt: "Master user logging in as u", "login
#: user: u", "Falling back to expired data from cache", errors of the backend ("Password
#: query failed"). core src/auth (2.2-2.4): auth-request.c "unknown user", "Password
#: mismatch", "User found from deny passdb", "allow_nets check failed", "No password returned
#: (and no nopassword)"; passdb-pam.c "pam_authenticate() failed: ..."; db-checkpassword.c
#: "Login failed (status=%d)", "User unknown"; passdb-ldap.c "Password mismatch (for LDAP
#: bind)", "Login attempt with empty password"; auth-policy.c "Authentication failure due
#: to policy server refusal"; mech-*.c "password mismatch", "user not authenticated".
FAILED_VERDICTS = (
    "unknown user",
    "user unknown",
    "user not known",
    "username not known",
    "mismatch",
    "authentication failure",
    "pam_authenticate() failed",
    "login failed",
    "deny passdb",
    "check failed",
    "not authorized",
    "not authenticated",
    "oauth2 failed",
    "illegal chars",
    "empty password",
    "no password returned",
)


def is_failed_verdict(result: str) -> bool:
    """Does a Dovecot/PAM verdict text say a login was refused?

    >>> [is_failed_verdict(r) for r in ["unknown user", "Password mismatch (for LDAP bind)",
    ...  "Master user logging in as bob", "login user: bob", "Password query failed: timeout"]]
    [True, True, False, False, False]
    """
    r = result.lower()
    return any(v in r for v in FAILED_VERDICTS)


#: login-process failure reasons (``dovecot_login`` ``reason``) and the outcome of each of
#: the connection's attempts; a reason not listed (user disabled, password expired...) and
#: a summary without one count no attempt
LOGIN_REASON_OUTCOMES = {
    "auth failed": "failed",
    "authorization failed": "failed",
    "proxy dest auth failed": "failed",
    "proxy dest authentication failure": "failed",
    "tried to use disabled plaintext auth": "rejected",
    "tried to use disallowed plaintext auth": "rejected",
    "tried to use disallowed cleartext auth": "rejected",
    "auth service reported temporary failure": "server_error",
    "temporary authentication failure": "server_error",
}


def _drop_worker_duplicates(d: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
    """Dovecot 2.4 logs one verdict twice (``auth-worker`` and ``auth``): keep one."""
    worker = (d["daemon"].astype(object) == "auth-worker") & (kind[d.index] == "dovecot_auth")
    if not worker.any() or worker.all():
        return d
    key = (
        d["username"].astype(str)
        + "\x00"
        + d["client_ip"].astype(str)
        + "\x00"
        + d["auth_result"].astype(str)
    )
    left = pd.DataFrame({"ts": d.loc[worker, "ts"], "key": key[worker], "i": d.index[worker]}).sort_values(
        "ts"
    )
    right = pd.DataFrame({"ts": d.loc[~worker, "ts"], "key": key[~worker]}).sort_values("ts").assign(hit=True)
    m = pd.merge_asof(left, right, on="ts", by="key", direction="nearest", tolerance=pd.Timedelta(seconds=2))
    dup = m.loc[m["hit"].fillna(False).astype(bool), "i"]
    return d.loc[~d.index.isin(dup.to_numpy())]


def _ns(ts: pd.Series) -> np.ndarray:
    """UTC time stamps as int64 nanoseconds (for bisection)."""
    naive = pd.to_datetime(ts, utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    return np.asarray(naive.to_numpy().view("int64"))


def _cell(frame: pd.DataFrame, index: Any, col: str) -> Any:
    return frame.at[index, col]


def _set(frame: pd.DataFrame, index: Any, col: str, value: Any) -> None:
    frame.at[index, col] = value


def _evidence(files: pd.Series, lines: pd.Series) -> list[list[dict[str, Any]]]:
    return [[{"source_file": str(f), "line_no": int(n)}] for f, n in zip(files, lines, strict=True)]


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
        _postfix_warnings(events, kind, rows, row_session, sess),
        _successes(events, kind, rows, row_session, sess),
    ]
    attempts = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    )
    attempts = _empty() if attempts is None else attempts
    attempts = _counter_only(attempts, sess)
    attempts = _merge_dovecot(attempts, events, kind)
    attempts = _with_login_summaries(attempts, _login_summaries(events, kind))
    if secrets is not None and len(secrets):
        attempts = _decode_dialogue(
            attempts, events, kind, rows, row_session, secrets, reveal_passwords, hmac_key
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


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ATTEMPT_COLUMNS})


def _postfix_warnings(
    events: pd.DataFrame, kind: pd.Series, rows: np.ndarray, row_session: RowSessions, sess: pd.DataFrame
) -> pd.DataFrame:
    # the metric is read only on anvil's lines (casting the whole column to str is slow)
    rate = (kind == "rate_limit").to_numpy(dtype=bool)
    auth_rate = np.zeros(len(events), dtype=bool)
    auth_rate[rate] = events["metric"][rate].astype(str).str.startswith("AUTH").to_numpy(dtype=bool)
    error_limit = (
        (kind == "session_abort") & (events["reason"] == "too many errors") & (events["stage"] == "AUTH")
    )
    mask = kind.isin(["sasl_failed", "sasl_aborted"]) | auth_rate | error_limit.fillna(False)
    w = events.loc[mask]
    if w.empty:
        return _empty()
    sid = row_session.ids_of(rows[mask.to_numpy()], missing=np.nan)
    reason = w["reason"].astype(object)
    k = kind[mask]
    outcome = np.select(
        [
            (k == "sasl_aborted").to_numpy(),
            (k == "rate_limit").to_numpy(),
            (k == "session_abort").to_numpy(),
            reason.fillna("").str.startswith(BACKEND_ERRORS).to_numpy(),
        ],
        ["aborted", "rate_limited", "rejected", "server_error"],
        default="failed",
    )
    # an abort line names the stage, not a mechanism or a SASL reason
    reason = reason.where(k != "session_abort", "too many errors: AUTH refused (421)")
    user = w["sasl_username"].astype(object)
    user = user.where(~user.isin(["(unavailable)", ""]))
    # Postfix repeats the previous attempt's sasl_username when the backend answered without
    # naming a user (an outage, or a request Postfix refused itself): such names are stale.
    # A repeat after a real verdict is a real name (Cyrus names every attempt; bots retry).
    no_answer = reason.fillna("").str.startswith(BACKEND_ERRORS + POSTFIX_SIDE_ERRORS)
    user = user.where(~no_answer)
    ip = w["client_ip"].astype(object)
    session_ip = sess["client_ip"].reindex(sid).to_numpy()
    ip = ip.where(ip.notna() & (ip != ""), session_ip)
    mech = w["sasl_method"].astype(object).str.upper()
    return pd.DataFrame(
        {
            "ts": w["ts"].array,  # a datetime array: to_numpy() would box every stamp
            "client_ip": ip.to_numpy(),
            "session_id": sid,
            "service": w["service"].astype(object).fillna("smtp").to_numpy(),
            "mechanism": mech.to_numpy(),
            "username": user.to_numpy(),
            "username_source": np.where(user.notna(), "sasl_username", "none"),
            "account_exists": None,
            "outcome": outcome,
            "stage": reason.map(_STAGE).to_numpy(),
            "reason": reason.to_numpy(),
            "evidence": _evidence(w["source_file"], w["line_no"]),
        }
    )


def _successes(
    events: pd.DataFrame, kind: pd.Series, rows: np.ndarray, row_session: RowSessions, sess: pd.DataFrame
) -> pd.DataFrame:
    """Successful AUTHs: named by a ``client=`` line, or silent (``auth=N`` and no mail).

    A session without an ``auth=`` counter (Postfix < 3.0 logs none; the disconnect may be
    outside the log) whose ``client=`` line names a SASL user authenticated once: SMTP allows
    one successful AUTH per session, and every later ``client=`` line repeats that login.
    """
    cmask = (kind == "client") & events["sasl_username"].notna()
    clients = events.loc[cmask, ["ts", "sasl_method", "sasl_username", "source_file", "line_no"]].assign(
        session_id=row_session.ids_of(rows[cmask.to_numpy()], missing=np.nan)
    )
    first_client = clients.dropna(subset=["session_id"]).drop_duplicates("session_id").set_index("session_id")
    counted = pd.to_numeric(sess["auth_ok"], errors="coerce")
    uncounted = counted.isna().to_numpy() & sess.index.isin(first_client.index)
    ok = pd.Series(np.where(uncounted, 1, counted.fillna(0).to_numpy()), index=sess.index).astype(int)
    good = sess.loc[ok > 0]
    if good.empty:
        return _empty()
    # each good session's first client= line (NaN where it has none), read as object arrays:
    # the values iterrows and .loc gave one row at a time, without a Series per row
    named = good.index.isin(first_client.index)
    c = first_client.reindex(good.index)
    c_ts, c_method, c_user, c_file, c_line = (
        c[col].to_numpy(dtype=object)
        for col in ("ts", "sasl_method", "sasl_username", "source_file", "line_no")
    )
    s_end, s_ip, s_service, s_last = (
        good[col].to_numpy(dtype=object) for col in ("end", "client_ip", "service", "last_line")
    )
    times = ok[good.index].to_numpy()
    out = []
    for k, sid in enumerate(good.index):
        has_c = bool(named[k])
        evidence = []
        if has_c:
            evidence.append({"source_file": str(c_file[k]), "line_no": int(str(c_line[k]))})
        last_file, _, last_no = str(s_last[k]).rpartition(":")
        last = {"source_file": last_file, "line_no": int(last_no)}
        if last not in evidence:  # a session cut off after its client= line ends on it
            evidence.append(last)
        for i in range(int(times[k])):
            out.append(
                {
                    "ts": c_ts[k] if has_c else s_end[k],
                    "client_ip": s_ip[k],
                    "session_id": sid,
                    "service": s_service[k],
                    "mechanism": str(c_method[k]).upper() if has_c and i == 0 else None,
                    "username": c_user[k] if has_c and i == 0 else None,
                    "username_source": "sasl_username" if has_c and i == 0 else "none",
                    "account_exists": True if has_c and i == 0 else None,
                    "outcome": "succeeded",
                    "stage": None,
                    "reason": None if has_c else "silent: AUTH succeeded, no mail sent",
                    "evidence": evidence,
                }
            )
    return pd.DataFrame(out)


def _counter_only(attempts: pd.DataFrame, sess: pd.DataFrame) -> pd.DataFrame:
    """AUTH commands the disconnect counters show but no other line explains."""
    failed_total = (sess["auth_total"].fillna(0) - sess["auth_ok"].fillna(0)).astype(int)
    logged = attempts.loc[attempts["outcome"] != "succeeded"].groupby("session_id").size()
    missing = (failed_total - logged.reindex(failed_total.index).fillna(0).astype(int)).clip(lower=0)
    if not (missing > 0).any():
        return attempts
    s = sess.loc[missing.index[missing > 0]]
    times = missing[missing > 0].to_numpy()
    last = s["last_line"].astype(str).str.rpartition(":")
    extra = pd.DataFrame(
        {
            "ts": np.repeat(s["end"].to_numpy(), times),
            "client_ip": np.repeat(s["client_ip"].to_numpy(), times),
            "session_id": np.repeat(s.index.to_numpy(), times),
            "service": np.repeat(s["service"].to_numpy(), times),
            "mechanism": None,
            "username": None,
            "username_source": "none",
            "account_exists": None,
            "outcome": "rejected",
            "stage": None,
            "reason": "AUTH refused without a log line (seen in the disconnect counters)",
            "evidence": np.repeat(
                np.array(
                    [[{"source_file": f, "line_no": int(n)}] for f, n in zip(last[0], last[2], strict=True)]
                    + [None],
                    dtype=object,
                )[:-1],
                times,
            ),
        }
    )
    return pd.concat([attempts, extra], ignore_index=True)


def _merge_dovecot(
    attempts: pd.DataFrame, events: pd.DataFrame, kind: pd.Series, *, vectorised: bool = True
) -> pd.DataFrame:
    """Join Dovecot passdb lines to the Postfix warning of the same attempt.

    Dovecot answers Postfix's SASL request, so both log the attempt from the same client
    address within about a second; when Dovecot's failure delay outlasts Postfix's
    timeout ("Connection lost to authentication server") its line comes later. Lines are
    paired per address in time order; unpaired Dovecot lines are attempts of their own
    (IMAP/POP3, or SMTP AUTH whose Postfix line is missing), and so are lines without a
    time stamp or a client address (nothing says which attempt they answer). ``vectorised=False`` pairs
    every attempt one by one (the tests' reference for the vectorised pairing).
    """
    sasld = (kind == "saslauthd_auth") & (events["auth_result"] == "failure").fillna(False)
    cols = [
        "ts",
        "daemon",
        "severity",
        "client_ip",
        "username",
        "auth_result",
        "reason",
        "anvil_service",
        "source_file",
        "line_no",
    ]
    d = events.loc[kind.isin(["dovecot_auth", "pam_auth_failure"]) | sasld, [c for c in cols if c in events]]
    d = d.assign(**{c: None for c in cols if c not in d})  # saslauthd's columns, if not loaded
    # only refusals are attempts; a Debug: line never is (the parser gives it no verdict
    # kind: this is the second guard)
    verdict = d["auth_result"].astype(object).fillna("")
    refused = np.array([is_failed_verdict(str(v)) for v in verdict], dtype=bool)
    refused |= kind[d.index].isin(["pam_auth_failure", "saslauthd_auth"]).to_numpy()
    refused &= (d["severity"].astype(object) != "debug").to_numpy()
    d = d.loc[refused]
    if d.empty:
        return attempts
    d = _drop_worker_duplicates(d, kind)
    is_sasld = (kind[d.index] == "saslauthd_auth").to_numpy()
    # saslauthd's verdict text is its reason ("PAM auth error"); Dovecot's is the result
    d = d.assign(auth_result=d["auth_result"].astype(object).where(~is_sasld, d["reason"].astype(object)))
    result = d["auth_result"].astype(object).fillna("")
    codes, verdicts = pd.factorize(result.to_numpy())
    exists = np.array([account_exists(str(v)) for v in verdicts] + [None], dtype=object)[codes]
    user = np.array(d["username"].astype(object).to_numpy(), dtype=object)
    # Dovecot prints "?" for a name it cannot show: that is no name at all
    user[user == "?"] = None
    dov = pd.DataFrame(
        {
            "ts": d["ts"].array,
            "client_ip": d["client_ip"].astype(object).to_numpy(),
            "username": user,
            "exists": exists,
            "result": d["auth_result"].astype(object).to_numpy(),
            "pam": (kind[d.index] == "pam_auth_failure").to_numpy(),
            "label": np.where(is_sasld, "saslauthd", "dovecot"),
            "service": np.where(
                is_sasld,
                d["anvil_service"].astype(object).fillna("saslauthd").to_numpy(dtype=object),
                "dovecot",
            ),
            "source_file": d["source_file"].astype(str).to_numpy(),
            "line_no": d["line_no"].to_numpy(),
        }
    )
    # saslauthd names the client only with the PAM_RHOST patch ([remote=]): the others are
    # paired by time alone (_pair_by_time)
    loose = (dov["label"] == "saslauthd").to_numpy() & ~has_address(dov["client_ip"])
    loose_lines = dov.loc[loose]
    dov = dov.loc[~loose]
    lines = _DovecotLines(dov)
    attempts = attempts.copy()
    # Postfix refuses unknown mechanisms and bad base64 itself: Dovecot never sees those
    asked = ~attempts["reason"].fillna("").str.startswith(POSTFIX_SIDE_ERRORS)
    candidates = attempts.loc[attempts["outcome"].isin(["failed", "server_error"]) & asked]
    outage = attempts[attempts["outcome"] == "server_error"]
    outage_times: dict[str, list[int]] = {}
    for ip, t in zip(outage["client_ip"].astype(str), _ns(outage["ts"]).tolist(), strict=True):
        outage_times.setdefault(ip, []).append(t)
    for lst in outage_times.values():
        lst.sort()
    # edit plain object arrays, write them back once (cell writes to Arrow columns are slow)
    found = _Pairing(
        user=np.asarray(attempts["username"], dtype=object).copy(),
        source=np.asarray(attempts["username_source"], dtype=object).copy(),
        exists=np.asarray(attempts["account_exists"], dtype=object).copy(),
        evidence=np.asarray(attempts["evidence"], dtype=object).copy(),
    )
    # Dovecot logs its verdict, then holds the reply for auth_failure_delay (2 s). When its
    # delay outlasts Postfix's patience ("Connection lost to authentication server", 454),
    # the verdict comes later: its user name is claimed only when that address had no other
    # abandoned request then; otherwise the line is kept as evidence only
    for outcome, hi, take_name in (("failed", 3.0, True), ("server_error", 120.0, False)):
        lines.pair(
            candidates[candidates["outcome"] == outcome].sort_values("ts", kind="stable"),
            attempts.index,
            found,
            lo=-5.0,
            hi=hi,
            take_name=take_name,
            outage_times=outage_times,
            vectorised=vectorised,
        )
    loose_used = _pair_by_time(
        candidates[candidates["outcome"] == "failed"].sort_values("ts", kind="stable"),
        attempts.index,
        loose_lines,
        found,
    )
    attempts = attempts.assign(
        username=found.user,
        username_source=found.source,
        account_exists=found.exists,
        evidence=found.evidence,
    )
    rest = pd.concat([dov.loc[~lines.used_rows()], loose_lines.loc[~loose_used]])
    if rest.empty:
        return attempts
    own = pd.DataFrame(
        {
            "ts": rest["ts"].to_numpy(),
            "client_ip": rest["client_ip"].to_numpy(),
            "session_id": None,
            "service": rest["service"].to_numpy(),
            "mechanism": None,
            "username": rest["username"].to_numpy(),
            "username_source": np.where(rest["pam"], "pam", rest["label"].to_numpy(dtype=object)),
            "account_exists": rest["exists"].to_numpy(),
            "outcome": "failed",
            "stage": None,
            "reason": rest["result"].to_numpy(),
            "evidence": _evidence(rest["source_file"], rest["line_no"]),
        }
    )
    return pd.concat([attempts, own], ignore_index=True)


@dataclass
class _Pairing:
    """What pairing found, per attempt (positions of the attempts frame)."""

    user: np.ndarray
    source: np.ndarray
    exists: np.ndarray
    evidence: np.ndarray


class _DovecotLines:
    """Dovecot's verdict lines sorted by (client address, time), for pairing with attempts.

    Each line is used once. The windows of many attempts are found with one sort
    (:func:`_bisect_grouped`); only choosing a line within a window is a Python loop.
    """

    def __init__(self, dov: pd.DataFrame) -> None:
        # addresses as text, as attempts name them; a line without one is in no group (-1)
        ip = np.array([str(v) for v in dov["client_ip"].to_numpy().tolist()], dtype=object)
        addressed = has_address(dov["client_ip"])
        self.group_of_ip = {v: k for k, v in enumerate(dict.fromkeys(ip[addressed].tolist()))}
        group = np.fromiter((self.group_of_ip.get(v, -1) for v in ip.tolist()), dtype=np.int64, count=len(ip))
        group[~addressed] = -1
        ns = _ns(dov["ts"])
        # by address, then time, then log order (the order bisection over the lines expects)
        self.order = np.lexsort((np.arange(len(dov)), ns, group))
        self.group = group[self.order]
        self.ns = ns[self.order]
        self.ip = ip[self.order].tolist()
        # numpy arrays for the vectorised pairing, lists for the one-by-one loop
        self.user_arr = np.asarray(dov["username"].to_numpy(dtype=object)[self.order])
        # a line without a name matches no name (None never equals a name)
        self.user_lower_arr = np.array(
            [str(u).lower() if pd.notna(u) else None for u in self.user_arr.tolist()], dtype=object
        )
        self.has_user_arr = np.asarray(pd.notna(self.user_arr), dtype=bool)
        self.exists_arr = np.asarray(dov["exists"].to_numpy(dtype=object)[self.order])
        # where a paired name came from: "dovecot" (passdb and PAM lines) or "saslauthd"
        label = (
            dov["label"].to_numpy(dtype=object)
            if "label" in dov
            else np.full(len(dov), "dovecot", dtype=object)
        )
        self.label_arr = np.asarray(label[self.order], dtype=object)
        self.label = self.label_arr.tolist()
        self.file_arr = np.asarray(dov["source_file"].to_numpy(dtype=object)[self.order])
        self.line_arr = np.asarray(dov["line_no"].to_numpy()[self.order])
        self.user = self.user_arr.tolist()
        self.user_lower = self.user_lower_arr.tolist()
        self.has_user = self.has_user_arr.tolist()
        self.exists = self.exists_arr.tolist()
        self.file = self.file_arr.tolist()
        self.line = self.line_arr.tolist()
        self.used = bytearray(len(dov))
        self.used_arr = np.frombuffer(self.used, dtype=np.uint8)  # the same memory

    def used_rows(self) -> np.ndarray:
        """``used`` in the frame's own row order."""
        out = np.zeros(len(self.used), dtype=bool)
        out[self.order] = self.used_arr.astype(bool)
        return out

    def pair(
        self,
        pool: pd.DataFrame,
        index: pd.Index,
        found: _Pairing,
        *,
        lo: float,
        hi: float,
        take_name: bool,
        outage_times: dict[str, list[int]],
        vectorised: bool = True,
    ) -> None:
        """Give each attempt of ``pool`` (in time order) the first free line of its window."""
        if pool.empty:
            return
        second = 1_000_000_000
        a_ns = _ns(pool["ts"])
        a_ip = [str(v) for v in pool["client_ip"].astype(str).to_numpy()]
        a_group = np.fromiter((self.group_of_ip.get(v, -1) for v in a_ip), dtype=np.int64, count=len(a_ip))
        # an attempt without a time stamp has no window (and a line without one, sorted
        # before every dated line of its address, falls in none): neither is paired; nor is
        # one without a client address (nothing ties it to a line)
        known = (a_group >= 0) & pool["ts"].notna().to_numpy() & has_address(pool["client_ip"])
        first = np.zeros(len(pool), dtype=np.int64)
        last = np.zeros(len(pool), dtype=np.int64)
        first[known] = _bisect_grouped(
            self.group, self.ns, a_group[known], a_ns[known] + int(lo * second), "left"
        )
        last[known] = _bisect_grouped(
            self.group, self.ns, a_group[known], a_ns[known] + int(hi * second), "right"
        )
        said_of = [
            str(u).lower() if src == "sasl_username" and pd.notna(u) else None
            for u, src in zip(pool["username"].to_numpy(), pool["username_source"].to_numpy(), strict=True)
        ]
        positions = index.get_indexer(pool.index)
        todo = np.flatnonzero(first < last)
        if vectorised and take_name and not self.used_arr.any():
            todo = self._pair_runs(todo, a_group, first, last, said_of, positions, found)
        used, user_lower = self.used, self.user_lower
        first_l, last_l, pos_l = first.tolist(), last.tolist(), positions.tolist()
        for k in todo.tolist():
            window = [j for j in range(first_l[k], last_l[k]) if not used[j]]
            if not window:
                continue
            said = said_of[k]
            # the name Postfix got back from Dovecot picks the line among parallel sessions
            j = (
                next((j for j in window if user_lower[j] == said), window[0])
                if said is not None
                else window[0]
            )
            used[j] = 1
            sure = take_name or (
                len(window) == 1 and _alone(outage_times.get(self.ip[j], []), int(self.ns[j]))
            )
            pos = pos_l[k]
            if sure and self.has_user[j]:
                found.user[pos], found.source[pos], found.exists[pos] = (
                    self.user[j],
                    self.label[j],
                    self.exists[j],
                )
            line = {"source_file": str(self.file[j]), "line_no": int(self.line[j])}
            found.evidence[pos] = [*found.evidence[pos], line]

    def _pair_runs(
        self,
        todo: np.ndarray,
        a_group: np.ndarray,
        first: np.ndarray,
        last: np.ndarray,
        said_of: list[str | None],
        positions: np.ndarray,
        found: _Pairing,
    ) -> np.ndarray:
        """Pair at once the runs of attempts that the one-by-one loop would pair in line order.

        Windows of one address move forward in time, so only neighbours can share lines;
        a run is a chain of overlapping windows. When each attempt of a run takes its first
        free line, the picks are ``pick[k] = max(pick[k-1] + 1, first[k])``, a running
        maximum. A run is paired here if every pick is inside its window and is the line
        whose name Postfix got back (when it got one); other runs are returned for the loop.
        Only called before any line is used, with names taken.
        """
        ks = todo[np.argsort(a_group[todo], kind="stable")]  # by address, in time order
        if not len(ks):
            return todo
        g, f, e = a_group[ks], first[ks], last[ks]
        starts = np.ones(len(ks), dtype=bool)
        starts[1:] = (g[1:] != g[:-1]) | (f[1:] >= e[:-1])
        run = np.cumsum(starts) - 1
        step = np.arange(len(ks)) - np.flatnonzero(starts)[run]  # place within the run
        big = 4 * (len(self.used) + len(ks) + 1)
        best = np.maximum.accumulate(f - step + run * big) - run * big
        pick = best + step
        ok = pick < e
        said = np.array([said_of[k] for k in ks.tolist()], dtype=object)
        has_said = np.flatnonzero(said != None)  # noqa: E711 (elementwise)
        in_window = has_said[ok[has_said]]
        ok[has_said[~ok[has_said]]] = False
        ok[in_window] = self.user_lower_arr[pick[in_window]] == said[in_window]
        bad_run = np.zeros(run[-1] + 1, dtype=bool)
        bad_run[run[~ok]] = True
        good = ~bad_run[run]
        ks, pick = ks[good], pick[good]
        if not len(ks):
            return todo
        self.used_arr[pick] = 1
        pos = positions[ks]
        has = self.has_user_arr[pick]
        found.user[pos[has]] = self.user_arr[pick[has]]
        found.source[pos[has]] = self.label_arr[pick[has]]
        found.exists[pos[has]] = self.exists_arr[pick[has]]
        found.evidence[pos] = _appended(found.evidence[pos], self.file_arr[pick], self.line_arr[pick])
        left = np.ones(len(first), dtype=bool)
        left[ks] = False
        rest: np.ndarray = todo[left[todo]]
        return rest


def _pair_by_time(pool: pd.DataFrame, index: pd.Index, lines: pd.DataFrame, found: _Pairing) -> np.ndarray:
    """Pair saslauthd verdicts that name no client with Postfix failures by time alone.

    Each attempt of ``pool`` (in time order) takes the first free line from 5 s before to 3 s
    after it (the name Postfix got back, when it got one, picks the line); the line's user
    name is taken only when every attempt that line could answer came from the same address
    (a wrong guess among parallel sessions must not put a name on another client). Returns
    which lines (in ``lines`` order) were used.
    """
    used = np.zeros(len(lines), dtype=bool)
    if pool.empty or lines.empty:
        return used
    second = 1_000_000_000
    l_order = np.argsort(_ns(lines["ts"]), kind="stable")
    l_ns = _ns(lines["ts"])[l_order]
    dated = pool["ts"].notna().to_numpy()
    pool = pool.loc[dated]
    a_ns = _ns(pool["ts"])
    a_ip = [str(v) for v in pool["client_ip"].astype(object).to_numpy()]
    said = [
        str(u).lower() if src == "sasl_username" and pd.notna(u) else None
        for u, src in zip(pool["username"].to_numpy(), pool["username_source"].to_numpy(), strict=True)
    ]
    l_user = [lines["username"].to_numpy(dtype=object)[i] for i in l_order.tolist()]
    l_lower = [str(u).lower() if pd.notna(u) else None for u in l_user]
    l_exists = lines["exists"].to_numpy(dtype=object)[l_order].tolist()
    l_file = lines["source_file"].to_numpy(dtype=object)[l_order].tolist()
    l_line = lines["line_no"].to_numpy()[l_order].tolist()
    positions = index.get_indexer(pool.index).tolist()
    a_list, l_list = a_ns.tolist(), l_ns.tolist()
    for k in range(len(pool)):
        lo = bisect.bisect_left(l_list, a_list[k] - 5 * second)
        hi = bisect.bisect_right(l_list, a_list[k] + 3 * second)
        free = [j for j in range(lo, hi) if not used[j]]
        if not free:
            continue
        j = next((j for j in free if l_lower[j] == said[k]), free[0]) if said[k] is not None else free[0]
        used[j] = True
        # the attempts this line could answer: from 3 s before it to 5 s after it
        a_lo = bisect.bisect_left(a_list, l_list[j] - 3 * second)
        a_hi = bisect.bisect_right(a_list, l_list[j] + 5 * second)
        sure = len({a_ip[i] for i in range(a_lo, a_hi)}) == 1
        pos = positions[k]
        if sure and l_user[j] is not None and pd.notna(l_user[j]) and found.source[pos] == "none":
            found.user[pos], found.source[pos], found.exists[pos] = l_user[j], "saslauthd", l_exists[j]
        found.evidence[pos] = [
            *found.evidence[pos],
            {"source_file": str(l_file[j]), "line_no": int(l_line[j])},
        ]
    out = np.zeros(len(lines), dtype=bool)
    out[l_order] = used
    return out


def _appended(evidence: np.ndarray, files: np.ndarray, lines: np.ndarray) -> np.ndarray:
    out = np.empty(len(evidence), dtype=object)
    out[:] = [
        [*ev, {"source_file": str(f), "line_no": int(n)}]
        for ev, f, n in zip(evidence.tolist(), files.tolist(), lines.tolist(), strict=True)
    ]
    return out


def _alone(outages: list[int], t_line: int) -> bool:
    """Is there exactly one backend-outage attempt (of the line's address) within 2 min of it?"""
    window = 120 * 1_000_000_000
    return bisect.bisect_right(outages, t_line + window) - bisect.bisect_left(outages, t_line - window) == 1


def _bisect_grouped(
    groups: np.ndarray, times: np.ndarray, q_groups: np.ndarray, q_times: np.ndarray, side: str
) -> np.ndarray:
    """``bisect`` of each query (group, time) into lines sorted by (group, time), all at once.

    Returns global positions: with ``side="left"`` the first line of the query's group at or
    after its time, with ``"right"`` the first after it (a group's lines are contiguous, so
    ``[left, right)`` never leaves the group).
    """
    n = len(times)
    # a query sorts before equal lines for "left", after them for "right"
    rank = 0 if side == "left" else 2
    keys_g = np.concatenate([groups, q_groups])
    keys_t = np.concatenate([times, q_times])
    keys_k = np.concatenate([np.ones(n, dtype=np.int8), np.full(len(q_times), rank, dtype=np.int8)])
    order = np.lexsort((keys_k, keys_t, keys_g))
    is_line = order < n
    lines_before: np.ndarray = np.cumsum(is_line) - is_line
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    return np.asarray(lines_before[where[n:]], dtype=np.int64)


def _object_where(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else ``None`` (an object array)."""
    out = np.full(len(keep), None, dtype=object)
    out[keep] = values[keep]
    return out


def _login_summaries(events: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
    """Dovecot IMAP/POP3/submission login summaries: N failed attempts, or a login."""
    cols = [
        "ts",
        "daemon",
        "severity",
        "client_ip",
        "username",
        "sasl_method",
        "login_event",
        "auth_attempts",
    ]
    d = events.loc[kind == "dovecot_login", [*cols, "reason", "source_file", "line_no"]]
    d = d.loc[(d["severity"].astype(object) != "debug").to_numpy()]
    if d.empty:
        return _empty()
    event = d["login_event"].astype(object).map(str).to_numpy(dtype=object)
    n = pd.to_numeric(d["auth_attempts"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    login = event == "Login"
    # each failure reason names its attempts' outcome; 1.2's and 2.2's reasons without a
    # count ("tried to use disabled plaintext auth", "proxy dest auth failed") are one attempt
    why = d["reason"].astype(object).to_numpy(dtype=object)
    failure = np.array(
        [LOGIN_REASON_OUTCOMES.get(str(r)) if pd.notna(r) else None for r in why], dtype=object
    )
    failed = np.array([f is not None for f in failure], dtype=bool) & ~login
    count = np.where(login, 1, np.where(failed, n.clip(min=1), 0))
    if not count.any():
        return _empty()
    take = np.repeat(np.arange(len(d)), count)
    picked = d.iloc[take]
    user = picked["username"].astype(object)
    # a failure before the client named a user is logged as user=<>: no name
    user = user.where(user != "")
    method = picked["sasl_method"].astype(object)
    succeeded = login[take]
    outcome = np.where(succeeded, "succeeded", failure[take])
    return pd.DataFrame(
        {
            "ts": picked["ts"].array,
            "client_ip": picked["client_ip"].astype(object).to_numpy(),
            "session_id": None,
            "service": picked["daemon"]
            .astype(object)
            .map(str)
            .str.removesuffix("-login")
            .to_numpy(dtype=object),
            "mechanism": np.array([str(m).upper() if pd.notna(m) else None for m in method], dtype=object),
            "username": _object_where(user.notna().to_numpy(), user.to_numpy(dtype=object)),
            "username_source": np.where(user.notna(), "dovecot", "none"),
            "account_exists": _object_where(succeeded, np.full(len(succeeded), True, dtype=object)),
            "outcome": outcome,
            "stage": None,
            "reason": np.array(
                [
                    e if r is None or pd.isna(r) else f"{e}: {r}"
                    for e, r in zip(event[take], why[take], strict=True)
                ],
                dtype=object,
            ),
            "evidence": _evidence(picked["source_file"], picked["line_no"]),
        }
    )


#: how long before its login summary (written at disconnect) a failed attempt's passdb
#: line may be: the login processes drop an idle client after 180 s during authentication
SUMMARY_WINDOW_S = 600.0


def _with_login_summaries(attempts: pd.DataFrame, summaries: pd.DataFrame) -> pd.DataFrame:
    """Add the login summaries' attempts; a passdb line of one of them is that attempt.

    An IMAP/POP3 failure is logged twice: the auth process's verdict ("Password mismatch",
    an attempt of its own when no Postfix line claimed it) and the login process's
    summary at disconnect ("auth failed, N attempts"). Each failed summary attempt takes
    the latest unclaimed verdict line of its client address up to ``SUMMARY_WINDOW_S``
    before it (and 5 s after), of the same user when both name one; the line becomes its
    evidence and says whether the account exists. Unclaimed lines stay attempts.
    """
    if summaries.empty:  # still concatenated: the empty frame brings every attempt column
        return pd.concat([attempts, summaries], ignore_index=True)
    own = attempts.index[
        (attempts["service"] == "dovecot").to_numpy() & attempts["session_id"].isna().to_numpy()
    ]
    fails = summaries.index[
        (summaries["outcome"] == "failed").to_numpy() & has_address(summaries["client_ip"])
    ]
    if len(own) == 0 or len(fails) == 0:
        return pd.concat([attempts, summaries], ignore_index=True)
    second = 1_000_000_000
    o = attempts.loc[own]
    o_ns = _ns(o["ts"])
    o_ok = o["ts"].notna().to_numpy()
    by_ip: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for k, (ip, t, ok) in enumerate(
        zip(o["client_ip"].astype(str), o_ns.tolist(), o_ok.tolist(), strict=True)
    ):
        if ok:
            by_ip[ip].append((t, k))
    for lst in by_ip.values():
        lst.sort()
    o_user = [str(u).lower() if pd.notna(u) else None for u in o["username"].to_numpy(dtype=object)]
    used = np.zeros(len(o), dtype=bool)
    summaries = summaries.copy()
    f = summaries.loc[fails]
    f_ns = _ns(f["ts"])
    order = np.argsort(f_ns, kind="stable")
    f_ok = f["ts"].notna().to_numpy()
    f_ip = f["client_ip"].astype(str).to_numpy(dtype=object)
    f_user = [str(u).lower() if pd.notna(u) else None for u in f["username"].to_numpy(dtype=object)]
    evidence = summaries["evidence"].to_numpy(dtype=object).copy()
    exists = summaries["account_exists"].to_numpy(dtype=object).copy()
    pos = summaries.index.get_indexer(fails)
    o_evidence = o["evidence"].to_numpy(dtype=object)
    o_exists = o["account_exists"].to_numpy(dtype=object)
    o_name = o["username"].to_numpy(dtype=object)
    names = summaries["username"].to_numpy(dtype=object).copy()
    sources = summaries["username_source"].to_numpy(dtype=object).copy()
    for i in order.tolist():
        lines = by_ip.get(f_ip[i])
        if not lines or not f_ok[i]:
            continue
        t = int(f_ns[i])
        hi = bisect.bisect_right(lines, (t + 5 * second, len(o)))
        lo = bisect.bisect_left(lines, (t - int(SUMMARY_WINDOW_S * second), -1))
        for j in range(hi - 1, lo - 1, -1):
            k = lines[j][1]
            if used[k] or (f_user[i] is not None and o_user[k] is not None and f_user[i] != o_user[k]):
                continue
            used[k] = True
            evidence[pos[i]] = [*o_evidence[k], *evidence[pos[i]]]
            exists[pos[i]] = o_exists[k]
            if f_user[i] is None and o_user[k] is not None:
                names[pos[i]], sources[pos[i]] = o_name[k], "dovecot"
            break
    summaries["evidence"] = evidence
    summaries["username"] = names
    summaries["username_source"] = sources
    summaries["account_exists"] = exists
    kept = attempts.drop(index=own[used])
    return pd.concat([kept, summaries], ignore_index=True)


def _decode_dialogue(
    attempts: pd.DataFrame,
    events: pd.DataFrame,
    kind: pd.Series,
    rows: np.ndarray,
    row_session: RowSessions,
    secrets: pd.DataFrame,
    reveal: bool,
    key: bytes | None,
) -> pd.DataFrame:
    """Decode AUTH dialogue logged for a session and attach it to that session's attempts."""
    mask = kind.isin(["tls_data", "smtp_dialogue", "sasl_debug"])
    d = events.loc[mask, ["ts", "kind", "direction", "payload", "io_length", "source_file", "line_no"]].copy()
    if d.empty:
        return attempts
    d["session_id"] = row_session.ids_of(rows[mask.to_numpy()], missing=np.nan)
    sec: dict[tuple[str, int], str] = {}
    for f, n, s in zip(secrets["source_file"], secrets["line_no"], secrets["secret"], strict=True):
        sec.setdefault((str(f), int(n)), s)  # the line kind's own secret comes first
    per_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending: dict[str, dict[str, Any]] = {}
    challenge: dict[str, str] = {}
    for rec in d.to_dict("records"):
        sid = rec["session_id"]
        if sid is None or (isinstance(sid, float) and np.isnan(sid)):
            continue
        payload = str(rec["payload"] or "")
        where: dict[str, Any] = {"source_file": str(rec["source_file"]), "line_no": int(rec["line_no"])}
        secret = sec.get((str(rec["source_file"]), int(rec["line_no"])))
        client = rec["direction"] in ("Read", "<") or rec["kind"] == "sasl_debug"
        text = payload[:-2] if payload.endswith("??") else payload
        cut = rec["kind"] == "tls_data" and pd.notna(rec["io_length"]) and int(rec["io_length"]) > 40
        full_len = int(rec["io_length"]) if pd.notna(rec["io_length"]) else None
        if not client:
            reply = text.split(" ", 2)
            if reply[0] == "334":
                challenge[sid] = _STAGE.get(reply[1] if len(reply) > 1 else "", "")
            elif reply[0][:1] in ("2", "4", "5") and sid in pending:
                per_session[sid].append(pending.pop(sid))
            continue
        # a pipelined "AUTH LOGIN??<user>??<pass>": the mechanism ends at the logged CR LF
        words = text.split("?", 1)[0].split()
        if words and words[0].upper() == "AUTH" and len(words) >= 2:
            if sid in pending:
                per_session[sid].append(pending.pop(sid))
            att: dict[str, Any] = {"mechanism": words[1].upper(), "evidence": [where], "username": None}
            if secret is not None:
                n = full_len - 2 - len(" ".join(words[:2])) - 1 if full_len is not None else None
                _absorb(att, decode_response(words[1], secret, step="initial", logged_length=n, cut=cut))
            pending[sid] = att
            challenge.pop(sid, None)
        elif sid in pending and secret is not None:
            att = pending[sid]
            step = challenge.get(sid) or ("username" if att["username"] is None else "password")
            n = full_len - 2 if full_len is not None else None
            _absorb(att, decode_response(att["mechanism"], secret, step=step, logged_length=n, cut=cut))
            att["evidence"].append(where)
    for sid, att in pending.items():
        per_session[sid].append(att)
    if not per_session:
        return attempts
    attempts = attempts.copy()
    for sid, decoded in per_session.items():
        mine = attempts.index[(attempts["session_id"] == sid)]
        mine = attempts.loc[mine].sort_values("ts", kind="stable").index
        for a, att in zip(mine, decoded, strict=False):
            if att["username"] and _cell(attempts, a, "username_source") == "none":
                _set(attempts, a, "username", att["username"])
                _set(attempts, a, "username_source", "decoded")
            if pd.isna(_cell(attempts, a, "mechanism")):
                _set(attempts, a, "mechanism", att["mechanism"])
            _set(attempts, a, "evidence", [*_cell(attempts, a, "evidence"), *att["evidence"]])
            pw = att.get("password")
            if pw is not None:
                facts = password_facts(pw, key or b"")
                _set(attempts, a, "password_class", facts["password_class"])
                _set(attempts, a, "password_hmac", facts["password_hmac"] if key else None)
                _set(attempts, a, "password_truncated", not att["password_complete"])
                lo, hi = att["password_length"] or (len(pw), None)
                _set(attempts, a, "password_length_min", lo)
                _set(attempts, a, "password_length_max", hi)
                if reveal:
                    _set(attempts, a, "password", pw + ("…" if not att["password_complete"] else ""))
    return attempts


def _absorb(att: dict[str, Any], creds: Any) -> None:
    if creds.username is not None and att.get("username") is None:
        att["username"] = creds.username
    if creds.password is not None:
        att["password"] = creds.password
        att["password_complete"] = creds.password_complete
        att["password_length"] = creds.password_length
