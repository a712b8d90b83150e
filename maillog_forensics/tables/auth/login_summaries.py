"""Dovecot login summaries ("auth failed, N attempts", "Login") as attempts."""

from __future__ import annotations

import bisect
from collections import defaultdict

import numpy as np
import pandas as pd

from ..sessions import has_address
from .arrays import line_evidence, nanoseconds, object_where
from .outcomes import LOGIN_REASON_OUTCOMES, empty_attempts

__all__ = ["SUMMARY_WINDOW_S", "login_summary_attempts", "with_login_summaries"]


def login_summary_attempts(events: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
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
        return empty_attempts()
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
        return empty_attempts()
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
            "username": object_where(user.notna().to_numpy(), user.to_numpy(dtype=object)),
            "username_source": np.where(user.notna(), "dovecot", "none"),
            "account_exists": object_where(succeeded, np.full(len(succeeded), True, dtype=object)),
            "outcome": outcome,
            "stage": None,
            "reason": np.array(
                [
                    e if r is None or pd.isna(r) else f"{e}: {r}"
                    for e, r in zip(event[take], why[take], strict=True)
                ],
                dtype=object,
            ),
            "evidence": line_evidence(picked["source_file"], picked["line_no"]),
        }
    )


#: how long before its login summary (written at disconnect) a failed attempt's passdb
#: line may be: the login processes drop an idle client after 180 s during authentication
SUMMARY_WINDOW_S = 600.0


def with_login_summaries(attempts: pd.DataFrame, summaries: pd.DataFrame) -> pd.DataFrame:
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
    o_ns = nanoseconds(o["ts"])
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
    f_ns = nanoseconds(f["ts"])
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
