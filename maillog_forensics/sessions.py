"""SMTP server sessions: one row per smtpd connection, reconstructed from events.

A session is the run of lines of one smtpd process, keyed ``(host, instance, service,
daemon, pid)``, from ``connect from`` to ``disconnect from``. An smtpd process serves
many sessions one after the other (PID reuse) and sessions of different processes
interleave; a session whose connect or disconnect lies outside the log is kept and
flagged. Everything is vectorised (sort + cumulative sums + group-bys), no per-row loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import COUNTER_COMMANDS

__all__ = ["SESSION_COLUMNS", "session_lines", "sessions_from_events"]

#: event columns the sessioniser reads (pass ``columns=`` to load_events to save memory)
EVENT_COLUMNS = [
    "ts",
    "host",
    "instance",
    "service",
    "daemon",
    "pid",
    "kind",
    "queue_id",
    "client_name",
    "client_ip",
    "client_port",
    "helo",
    "sasl_username",
    "reason",
    "stage",
    "tls_trust",
    "tls_protocol",
    "tls_cipher",
    "ps_event",
    *(f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total")),
    "source_file",
    "line_no",
]

SESSION_COLUMNS = [
    "session_id",
    "host",
    "instance",
    "service",
    "pid",
    "client_name",
    "client_ip",
    "client_port",
    "start",
    "end",
    "duration_s",
    "helo",
    "tls_protocol",
    "tls_cipher",
    "tls_trust",
    *(f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total")),
    "auth_failures",
    "auth_success_user",
    "silent_auth",
    "end_reason",
    "lost_after",
    "rejects",
    "queue_ids",
    "n_lines",
    "first_line",
    "last_line",
    "tls_verbose",
    "tls_data_logged",
    "debug_dialogue",
    "truncated_start",
    "truncated_end",
    "postscreen_verdict",
]

_TLS_VERBOSE = ["tls_bio", "tls_hexdump", "tls_state", "tls_setup", "tls_data"]
_DEBUG = ["smtp_dialogue", "sasl_debug", "verbose"]


def _smtpd_rows(events: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    mask = (events["daemon"] == "smtpd") & events["instance"].notna()
    cols = [c for c in (columns or EVENT_COLUMNS) if c in events.columns]
    ev = events.loc[mask, cols]
    ev["_row"] = np.flatnonzero(mask.to_numpy())
    # Postfix logs port-25 smtpd without a service name: its master.cf service is "smtp"
    ev["service"] = ev["service"].astype("object").fillna("smtp")
    return ev


def _assign(ev: pd.DataFrame) -> pd.DataFrame:
    """Sort smtpd rows by process then log order and number the sessions."""
    keys = ["host", "instance", "service", "pid"]
    group = ev.groupby(keys, dropna=False, observed=True, sort=False).ngroup().to_numpy()
    order = np.lexsort((ev["_row"].to_numpy(), group))
    ev = ev.iloc[order]
    group = group[order]
    is_connect = (ev["kind"] == "connect").to_numpy()
    is_disconnect = (ev["kind"] == "disconnect").to_numpy()
    first_in_group = np.ones(len(ev), dtype=bool)
    first_in_group[1:] = group[1:] != group[:-1]
    after_disconnect = np.zeros(len(ev), dtype=bool)
    after_disconnect[1:] = is_disconnect[:-1]
    new = is_connect | first_in_group | after_disconnect
    sess = np.cumsum(new) - 1
    # Lines an smtpd process writes before "connect from" (TLS engine set-up, -v traces,
    # "hostname X does not resolve to address Y" from the client lookup) belong to the
    # session that follows, not to one cut off by the start of the log: a run with
    # neither connect nor disconnect is merged into the next session of its process.
    n = int(sess[-1]) + 1 if len(sess) else 0
    has_connect = np.bincount(sess, weights=is_connect, minlength=n) > 0
    has_end = np.bincount(sess, weights=is_disconnect, minlength=n) > 0
    sess_group = np.zeros(n, dtype=group.dtype)
    sess_group[sess] = group
    next_same = np.zeros(n, dtype=bool)
    next_same[:-1] = sess_group[1:] == sess_group[:-1]
    noise = ~has_connect & ~has_end & next_same
    if noise.any():
        sess = np.unique(sess + noise[sess], return_inverse=True)[1]
    return ev.assign(_sess=sess)


def _hex_id(frame: pd.DataFrame) -> pd.Series:
    """16 hex digits of pandas' (fixed-key, hence stable) hash of each row."""
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy().astype(">u8")
    text = np.frombuffer(h.tobytes().hex().encode("ascii"), dtype="S16").astype(str)
    return pd.Series(text, index=frame.index, dtype=object)


def session_lines(events: pd.DataFrame) -> pd.DataFrame:
    """Which session each smtpd line belongs to.

    Returns ``row`` (position in ``events``), ``source_file``, ``line_no``, ``session_id``.
    """
    keys = ["host", "instance", "service", "daemon", "pid", "kind", "client_ip", "source_file", "line_no"]
    ev = _assign(_smtpd_rows(events, keys))
    firsts = ev.groupby("_sess", sort=False)[["source_file", "line_no"]].first()
    ids = _hex_id(firsts.astype({"source_file": "object"}))
    return pd.DataFrame(
        {
            "row": ev["_row"].to_numpy(),
            "source_file": ev["source_file"].astype("object").to_numpy(),
            "line_no": ev["line_no"].to_numpy(),
            "session_id": ids.reindex(ev["_sess"].to_numpy()).to_numpy(),
        }
    )


def sessions_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """Reconstruct smtpd sessions.

    Parameters
    ----------
    events
        Event frame from :func:`maillog_forensics.load_events` (at least
        ``sessions.EVENT_COLUMNS``).

    Returns
    -------
    pandas.DataFrame
        One row per session (``SESSION_COLUMNS``), in order of first line. ``session_id``
        is a hash of the session's first line (file, line number): stable across runs.
        ``silent_auth`` marks a successful AUTH that sent no mail (no ``client=`` line),
        the trace credential-testing bots leave; ``truncated_start``/``truncated_end``
        mark sessions whose connect/disconnect is outside the log.

    Examples
    --------
    >>> import maillog_forensics as mf
    >>> events = mf.load_events("datasets/sample")  # doctest: +SKIP
    >>> mf.sessions_from_events(events)[["client_ip", "auth_failures", "end_reason"]]  # doctest: +SKIP
    """
    ev = _assign(_smtpd_rows(events))
    if ev.empty:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    kind = ev["kind"]
    ip = ev["client_ip"]
    is_client = kind == "client"
    abort = kind == "session_abort"
    work = pd.DataFrame(
        {
            "_sess": ev["_sess"].to_numpy(),
            "host": ev["host"].array,
            "instance": ev["instance"].array,
            "service": ev["service"].array,
            "pid": ev["pid"].array,
            "ts": ev["ts"].array,
            "client_name": ev["client_name"].array,
            "client_ip": ip.where(ip != "").array,
            "client_ip_raw": ip.array,
            "client_port": ev["client_port"].array,
            "helo": ev["helo"].array,
            "tls_protocol": ev["tls_protocol"].array,
            "tls_cipher": ev["tls_cipher"].array,
            "tls_trust": ev["tls_trust"].array,
            "source_file": ev["source_file"].array,
            "line_no": ev["line_no"].array,
            "is_connect": (kind == "connect").to_numpy(),
            "is_disconnect": (kind == "disconnect").to_numpy(),
            "is_fail": (kind == "sasl_failed").to_numpy(),
            "is_reject": (kind == "reject").to_numpy(),
            "is_client": is_client.to_numpy(),
            "is_tls_verbose": kind.isin(_TLS_VERBOSE).to_numpy(),
            "is_tls_data": (kind == "tls_data").to_numpy(),
            "is_debug": kind.isin(_DEBUG).to_numpy(),
            "abort_reason": ev["reason"].where(abort).array,
            "lost_after": ev["stage"].where(abort).array,
            "success_user": ev["sasl_username"].where(is_client).array,
        }
    )
    disconnect = kind == "disconnect"
    for c in COUNTER_COMMANDS:
        for p in ("ok", "total"):
            col = f"{c}_{p}"
            work[col] = ev[col].where(disconnect).array

    g = work.groupby("_sess", sort=True)
    firsts = g[
        [
            "host",
            "instance",
            "service",
            "pid",
            "client_name",
            "client_ip",
            "client_port",
            "helo",
            "tls_protocol",
            "tls_cipher",
            "tls_trust",
            "abort_reason",
            "lost_after",
            "success_user",
            *(f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total")),
        ]
    ].first()
    bounds = g.agg(
        start=("ts", "first"),
        end=("ts", "last"),
        connects=("is_connect", "sum"),
        disconnects=("is_disconnect", "sum"),
        first_file=("source_file", "first"),
        first_no=("line_no", "first"),
        last_file=("source_file", "last"),
        last_no=("line_no", "last"),
        n_lines=("is_connect", "size"),
        auth_failures=("is_fail", "sum"),
        rejects=("is_reject", "sum"),
        clients=("is_client", "sum"),
        tls_verbose=("is_tls_verbose", "any"),
        tls_data_logged=("is_tls_data", "any"),
        debug_dialogue=("is_debug", "any"),
        any_ip=("client_ip_raw", "first"),
    )
    out = firsts.join(bounds)
    # "unknown[]": keep the empty address only when no line of the session named one
    out["client_ip"] = out["client_ip"].where(out["client_ip"].notna(), out["any_ip"])
    out["session_id"] = _hex_id(
        pd.DataFrame({"f": out["first_file"].astype("object"), "n": out["first_no"]})
    ).to_numpy()
    out["duration_s"] = (out["end"] - out["start"]).dt.total_seconds()
    out["truncated_start"] = out["connects"] == 0
    out["truncated_end"] = out["disconnects"] == 0
    out["auth_failures"] = out["auth_failures"].astype("int64")
    out["rejects"] = out["rejects"].astype("int64")
    auth_ok = out["auth_ok"].astype("Int64")
    out["silent_auth"] = (
        ((auth_ok > 0) & (auth_ok == out["auth_total"].astype("Int64")) & (out["clients"] == 0))
        .fillna(False)
        .astype(bool)
    )
    out["auth_success_user"] = out["success_user"]
    out["end_reason"] = np.select(
        [
            out["truncated_end"].to_numpy(),
            out["abort_reason"].notna().to_numpy(),
            (out["quit_ok"].fillna(0) > 0).to_numpy(),
        ],
        [
            "log ends",
            out["abort_reason"].fillna("").to_numpy(),
            "quit",
        ],
        default="disconnect",
    )
    out["first_line"] = out["first_file"].astype(str) + ":" + out["first_no"].astype(str)
    out["last_line"] = out["last_file"].astype(str) + ":" + out["last_no"].astype(str)
    out["queue_ids"] = _queue_ids(ev, out.index)
    out["postscreen_verdict"] = _postscreen(events, out)
    ints = ["pid", "client_port", *(f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total"))]
    out[ints] = out[ints].astype("Int32")
    return out.reset_index(drop=True)[SESSION_COLUMNS]


def _queue_ids(ev: pd.DataFrame, index: pd.Index) -> pd.Series:
    clients = ev.loc[ev["kind"] == "client", ["_sess", "queue_id"]]
    return group_lists(clients["_sess"].to_numpy(), clients["queue_id"].astype(str).to_numpy(), index)


def group_lists(keys: np.ndarray, values: np.ndarray, index: pd.Index) -> pd.Series:
    """A list of ``values`` per key of ``index`` (empty list where a key has none).

    ``keys`` must be sorted (they are: rows come in session order).
    """
    out: pd.Series = pd.Series([[] for _ in range(len(index))], index=index, dtype=object)
    if len(keys) == 0:
        return out
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], cut))
    chunks = np.split(values, cut)
    out.loc[keys[starts]] = pd.Series([c.tolist() for c in chunks], index=keys[starts], dtype=object)
    return out


def _postscreen(events: pd.DataFrame, sessions: pd.DataFrame) -> pd.Series:
    """postscreen's verdict (PASS NEW/OLD, ...) for the client just before the session."""
    ps = events.loc[
        (events["daemon"] == "postscreen") & (events["kind"] == "postscreen_verdict"),
        ["host", "client_ip", "ts", "ps_event"],
    ]
    result = pd.Series(pd.NA, index=sessions.index, dtype="object")
    if ps.empty:
        return result
    left = pd.DataFrame(
        {
            "host": sessions["host"].astype("object"),
            "client_ip": sessions["client_ip"].astype("object"),
            "ts": sessions["start"],
            "_i": np.arange(len(sessions)),
        }
    ).dropna(subset=["ts", "client_ip"])
    right = ps.assign(host=ps["host"].astype("object"), client_ip=ps["client_ip"].astype("object"))
    right = right.dropna(subset=["ts"]).sort_values("ts")
    merged = pd.merge_asof(
        left.sort_values("ts"),
        right.astype({"ps_event": "object"}),
        on="ts",
        by=["host", "client_ip"],
        direction="backward",
        tolerance=pd.Timedelta(seconds=5),
    )
    result.iloc[merged["_i"].to_numpy()] = merged["ps_event"].to_numpy()
    return result
