"""Attempts Postfix logs: smtpd's AUTH warnings and rate limits, successes, counter-only AUTHs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sessions import RowSessions
from .arrays import line_evidence
from .outcomes import BACKEND_ERRORS, POSTFIX_SIDE_ERRORS, SASL_STAGES, empty_attempts

__all__ = ["counter_only_attempts", "postfix_warning_attempts", "success_attempts"]


def postfix_warning_attempts(
    events: pd.DataFrame, kind: pd.Series, rows: np.ndarray, row_session: RowSessions, sess: pd.DataFrame
) -> pd.DataFrame:
    """Postfix's own failed attempts: SASL failure/abort warnings, anvil's AUTH rate limits
    and sessions dropped for too many errors during AUTH.

    ``sess`` is the sessions table indexed by ``session_id``; ``row_session`` places each
    event row (``rows`` are their positions) in its session.
    """
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
        return empty_attempts()
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
            "stage": reason.map(SASL_STAGES).to_numpy(),
            "reason": reason.to_numpy(),
            "evidence": line_evidence(w["source_file"], w["line_no"]),
        }
    )


def success_attempts(
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
        return empty_attempts()
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


def counter_only_attempts(attempts: pd.DataFrame, sess: pd.DataFrame) -> pd.DataFrame:
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
