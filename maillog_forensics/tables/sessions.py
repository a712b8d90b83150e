"""SMTP server sessions: one row per smtpd connection, reconstructed from events.

A session is the run of lines of one smtpd process, keyed ``(host, instance, service,
daemon, pid)``, from ``connect from`` to ``disconnect from``. An smtpd process serves
many sessions one after the other (PID reuse) and sessions of different processes
interleave; a session whose connect or disconnect lies outside the log is kept and
flagged. Everything is vectorised (sort + cumulative sums + group-bys), no per-row loop.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..events.schema import COUNTER_COMMANDS, EventRows

__all__ = [
    "EVENT_COLUMNS",
    "SESSION_COLUMNS",
    "AmbiguousLines",
    "RowSessions",
    "postscreen_verdicts",
    "row_sessions",
    "same_lines",
    "session_ids_of_rows",
    "session_lines",
    "sessions_from_events",
]

#: event columns that place each smtpd line in its session (what :func:`session_lines`
#: and :func:`session_ids_of_rows` read)
PLACEMENT_COLUMNS = [
    "host",
    "instance",
    "service",
    "daemon",
    "pid",
    "kind",
    "client_ip",
    "source_file",
    "line_no",
]

#: the disconnect line's command counters (``ehlo_ok``, ``ehlo_total``, ...)
COUNTER_COLUMNS = [f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total")]

#: event columns the sessioniser reads (pass ``columns=`` to load_events to save memory)
EVENT_COLUMNS = [
    "ts",
    *PLACEMENT_COLUMNS,
    "queue_id",
    "client_name",
    "client_port",
    "helo",
    "sasl_username",
    "reason",
    "stage",
    "tls_trust",
    "tls_protocol",
    "tls_cipher",
    "ps_event",
    *COUNTER_COLUMNS,
]

#: rows it reads: smtpd lines and postscreen verdicts (``load_events(..., rows=EVENT_ROWS)``)
EVENT_ROWS = EventRows(daemons=("smtpd",), kinds=("postscreen_verdict",))

#: the same without the counters, which only disconnect lines carry: on a large dataset,
#: load ``EVENT_ROWS`` with these columns and the counters of the disconnect lines apart
#: (``DISCONNECT_COLUMNS``, ``DISCONNECT_ROWS``) and pass both to
#: :func:`sessions_from_events` (the counters as 36 mostly-empty columns of every smtpd
#: line take more memory than all the other columns together)
LINE_COLUMNS = [c for c in EVENT_COLUMNS if c not in COUNTER_COLUMNS]
DISCONNECT_COLUMNS = ["source_file", "line_no", *COUNTER_COLUMNS]
DISCONNECT_ROWS = EventRows(kinds=("disconnect",))

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
_DEBUG = ["smtp_dialogue", "sasl_debug", "sasl_decoded", "verbose"]


def _smtpd_rows(events: pd.DataFrame) -> np.ndarray:
    """Positions (in ``events``) of the smtpd lines, in log order."""
    mask = (events["daemon"] == "smtpd") & events["instance"].notna()
    return np.flatnonzero(mask.to_numpy())


def _column(events: pd.DataFrame, col: str, rows: np.ndarray) -> pd.Series:
    """``events[col]`` at the given positions, as a Series with a fresh RangeIndex."""
    return pd.Series(events[col].array.take(rows), copy=False)


def value_codes(values: Any, na: object = None) -> tuple[np.ndarray, int]:
    """Integer code of each value and the number of codes: equal values get equal codes.

    NA is a value of its own (code 0), or counts as ``na`` when that is given.
    """
    codes, uniques = pd.factorize(values)
    if na is not None:
        # uniques plus ``na`` at the end, where the NA code -1 points
        labels = np.append(np.asarray(uniques, dtype=object), np.array([na], dtype=object))
        relabel, distinct = pd.factorize(labels)
        return relabel[codes] + 1, len(distinct) + 1
    return codes.astype(np.int64) + 1, len(uniques) + 1


def group_numbers(columns: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Number the distinct combinations of codes in order of first appearance.

    The same numbers as ``groupby(sort=False, dropna=False).ngroup()`` on the columns.
    """
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    size = 1
    for codes, n in columns:
        key = key * n + codes
        size *= n
        if size > 2**32:  # renumber densely before the mixed-radix key could overflow int64
            dense, uniques = pd.factorize(key)
            key, size = dense.astype(np.int64), len(uniques)
    return pd.factorize(key)[0]


def _assign(events: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort smtpd rows by process then log order and number the sessions.

    Returns the rows (positions in ``events``) in that order and the session number of each.
    Works on positions and integer codes: no copy of the smtpd lines' columns.
    """
    # Postfix logs port-25 smtpd without a service name: its master.cf service is "smtp"
    group = group_numbers(
        [
            value_codes(events["host"].array.take(rows)),
            value_codes(events["instance"].array.take(rows)),
            value_codes(events["service"].array.take(rows), na="smtp"),
            value_codes(events["pid"].array.take(rows)),
        ]
    )
    # rows are in log order: a stable sort by process keeps log order within a process
    order = np.argsort(group, kind="stable")
    rows = rows[order]
    group = group[order]
    kind = _column(events, "kind", rows)
    is_connect = (kind == "connect").to_numpy()
    is_disconnect = (kind == "disconnect").to_numpy()
    first_in_group = np.ones(len(rows), dtype=bool)
    first_in_group[1:] = group[1:] != group[:-1]
    after_disconnect = np.zeros(len(rows), dtype=bool)
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
    # ... unless the run names another client than the next session (a reordered stray line)
    named = np.flatnonzero(_named_ip(events)[rows])
    first = named[np.r_[True, sess[named][1:] != sess[named][:-1]]] if len(named) else named
    sess_ip = np.full(n, -1, dtype=np.int64)
    # codes of the first address each session names (only those strings are compared)
    sess_ip[sess[first]] = pd.factorize(events["client_ip"].array.take(rows[first]))[0]
    next_ip = np.full(n, -1, dtype=np.int64)
    next_ip[:-1] = sess_ip[1:]
    same_client = (sess_ip == -1) | (sess_ip == next_ip)
    noise = ~has_connect & ~has_end & next_same & same_client
    if noise.any():
        # a noise run takes the next session's number; numbers stay non-decreasing
        merged = sess + noise[sess]
        sess = np.cumsum(np.r_[True, merged[1:] != merged[:-1]]) - 1
    # A run left with no connect, no disconnect, no client address and nothing but -v trace
    # (or lines no kind knows) is no session at all:
    # smtpd -v logs its start-up ("name_mask: ipv4", "inet_addr_local: ...") under the default
    # syslog_name "postfix/smtpd" before master.cf's "-o syslog_name=postfix/smtps" applies
    # (another service: no session of its own follows), and its idle wait after the last
    # disconnect ("master_notify: status 1", "connection closed") up to its exit
    n = int(sess[-1]) + 1 if len(sess) else 0
    said = ~kind.isin(["verbose", "unparsed"]).to_numpy()  # a SASL failure of unknown[] counts
    evidence = (
        np.bincount(sess, weights=is_connect | is_disconnect | _named_ip(events)[rows] | said, minlength=n)
        > 0
    )
    keep = evidence[sess]
    if not keep.all():
        rows, sess = rows[keep], sess[keep]
        if len(sess):
            sess = np.cumsum(np.r_[True, sess[1:] != sess[:-1]]) - 1
    return rows, sess


def _named_ip(events: pd.DataFrame) -> np.ndarray:
    """Lines that name a client address (not missing, not empty)."""
    return has_address(events["client_ip"])


def has_address(ip: pd.Series) -> np.ndarray:
    """Which values are a client address (not missing, not empty)."""
    return np.asarray((ip.notna() & (ip != "")).to_numpy(dtype=bool))


def hex_ids(frame: pd.DataFrame) -> pa.Array:
    """16 hex digits of pandas' (fixed-key, hence stable) hash of each row.

    Built as one Arrow buffer (no Python string per row); see :func:`text_column`.
    """
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy().astype(">u8")
    offsets = np.arange(0, 16 * len(h) + 1, 16, dtype=np.int64)
    digits = h.tobytes().hex().encode("ascii")
    return pa.LargeStringArray.from_buffers(len(h), pa.py_buffer(offsets), pa.py_buffer(digits))


#: the dtype pandas gives a column of Python strings (``str`` in pandas 3, ``object`` before)
_TEXT_DTYPE = pd.Series(np.array([""], dtype=object)).dtype


def text_column(values: Any) -> Any:
    """Arrow strings as the column pandas would make of the same Python strings.

    Hands the Arrow data to pandas 3's ``str`` dtype as is, instead of making Python
    strings that pandas converts back to Arrow.
    """
    # pandas makes an object column, not str, when there is no string to infer it from
    if isinstance(_TEXT_DTYPE, np.dtype) or values.null_count == len(values):
        return np.asarray(values.to_pandas().fillna(np.nan), dtype=object)
    return pd.array(values, dtype=_TEXT_DTYPE)


def _arrow_text(values: Any) -> Any:
    """``values`` as Arrow strings, written as ``astype(str)`` writes them (missing: null)."""
    arr = pa.array(values, from_pandas=True)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (
        pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_integer(arr.type)
    ):
        # Arrow formats floats and the like differently: let pandas write them
        arr = pa.array(pd.Series(np.asarray(values, dtype=object)).astype(str), from_pandas=True)
    return arr.cast(pa.large_string())


def provenance(files: Any, numbers: Any) -> Any:
    """``file:line`` of each line (missing where either part is), as a text column."""
    joined = pc.binary_join_element_wise(
        _arrow_text(files), _arrow_text(numbers), pa.scalar(":", pa.large_string())
    )
    return text_column(joined)


def _session_ids(events: pd.DataFrame, rows: np.ndarray, sess: np.ndarray) -> np.ndarray:
    """Stable id of each numbered session: a hash of its first line's provenance."""
    starts = np.flatnonzero(np.r_[True, sess[1:] != sess[:-1]]) if len(sess) else np.array([], dtype=np.int64)
    firsts = pd.DataFrame(
        {
            "f": np.asarray(events["source_file"].array.take(rows[starts]), dtype=object),
            "n": events["line_no"].array.take(rows[starts]),
        }
    )
    return np.asarray(hex_ids(firsts).to_numpy(zero_copy_only=False), dtype=object)


def session_lines(events: pd.DataFrame) -> pd.DataFrame:
    """Which session each smtpd line belongs to.

    Returns ``row`` (position in ``events``), ``source_file``, ``line_no``, ``session_id``.
    """
    rows, sess = _assign(events, _smtpd_rows(events))
    ids = _session_ids(events, rows, sess)
    return pd.DataFrame(
        {
            "row": rows,
            "source_file": _column(events, "source_file", rows).astype("object").to_numpy(),
            "line_no": _column(events, "line_no", rows).to_numpy(),
            "session_id": ids[sess] if len(ids) else np.array([], dtype=object),
        }
    )


def session_ids_of_rows(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """``session_id`` of the smtpd session each given row (position in ``events``) is in.

    Rows that are not smtpd lines get ``None``.
    """
    if len(rows) == 0:
        return np.full(0, None, dtype=object)
    return row_sessions(events).ids_of(rows)


@dataclass(frozen=True)
class RowSessions:
    """The smtpd session of each event row, as numbers (cheap to keep for millions of rows).

    ``of_row[i]`` numbers the session of row ``i`` of the events (-1: none) and
    ``ids[k]`` is the ``session_id`` of session ``k``.
    """

    of_row: np.ndarray
    ids: np.ndarray

    def ids_of(self, rows: np.ndarray, *, missing: object = None) -> np.ndarray:
        """``session_id`` of each given row (position in the events), ``missing`` if none."""
        out = np.full(len(rows), missing, dtype=object)
        sess = self.of_row[rows]
        known = sess >= 0
        out[known] = self.ids[sess[known]]
        return out


def row_sessions(events: pd.DataFrame) -> RowSessions:
    """Place every smtpd line of ``events`` in its session (see :class:`RowSessions`)."""
    smtpd, sess = _assign(events, _smtpd_rows(events))
    of_row = np.full(len(events), -1, dtype=np.int64)
    of_row[smtpd] = sess
    return RowSessions(of_row, _session_ids(events, smtpd, sess))


def sessions_from_events(events: pd.DataFrame, *, disconnects: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reconstruct smtpd sessions.

    Parameters
    ----------
    events
        Event frame from :func:`maillog_forensics.load_events` (at least
        ``sessions.EVENT_COLUMNS``, or ``sessions.LINE_COLUMNS`` with ``disconnects``).
    disconnects
        The command counters of the disconnect lines, if ``events`` does not carry them:
        ``load_events(..., columns=DISCONNECT_COLUMNS, rows=DISCONNECT_ROWS)`` of the
        same dataset and window (matched to ``events`` by source file and line number).

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
    rows, by_process = _assign(events, _smtpd_rows(events))
    if len(rows) == 0:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    n = int(by_process[-1]) + 1
    # rows are grouped by session: first/last rows are at the boundaries
    starts = np.flatnonzero(np.r_[True, by_process[1:] != by_process[:-1]])
    ends = np.r_[starts[1:] - 1, len(by_process) - 1]
    # number the sessions in the order of their first line (the output order); a session's
    # rows stay contiguous, which is all the per-session picks below need
    order = np.argsort(rows[starts], kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    sess = rank[by_process]
    starts, ends = starts[order], ends[order]
    kind = _column(events, "kind", rows)

    def count(mask: pd.Series) -> np.ndarray:
        return np.bincount(sess, weights=mask.to_numpy(), minlength=n).astype("int64")

    def at(col: str, positions: np.ndarray) -> Any:
        return events[col].array.take(rows[positions])

    out = pd.DataFrame(
        {
            "host": at("host", starts),
            "instance": at("instance", starts),
            "service": pd.Series(at("service", starts)).astype("object").fillna("smtp").array,
            "pid": at("pid", starts),
            "start": at("ts", starts),
            "end": at("ts", ends),
            "n_lines": ends - starts + 1,
            "connects": count(kind == "connect"),
            "disconnects": count(kind == "disconnect"),
            "auth_failures": count(kind == "sasl_failed"),
            "rejects": count(kind == "reject"),
            "clients": count(kind == "client"),
            "tls_verbose": count(kind.isin(_TLS_VERBOSE)) > 0,
            "tls_data_logged": count(kind == "tls_data") > 0,
            "debug_dialogue": count(kind.isin(_DEBUG)) > 0,
        }
    )
    first_file = at("source_file", starts)
    first_no = at("line_no", starts)
    out["session_id"] = text_column(
        hex_ids(pd.DataFrame({"f": np.asarray(first_file, dtype=object), "n": first_no}))
    )
    out["first_line"] = provenance(first_file, first_no)
    out["last_line"] = provenance(at("source_file", ends), at("line_no", ends))
    # the client: from the first line naming an address (connect, or any other)
    ip = events["client_ip"]
    named = _named_ip(events)[rows]
    out["client_ip"] = _first_per_session(sess, named, rows, ip.array, n)
    out["client_ip"] = out["client_ip"].fillna(
        pd.Series(_first_per_session(sess, ip.notna().to_numpy()[rows], rows, ip.array, n))
    )
    # fields that only one kind of line carries: fetch them for those lines only
    per_kind = [
        ("connect", ["client_name", "client_port"]),
        ("tls_established", ["tls_protocol", "tls_cipher", "tls_trust"]),
        ("reject", ["helo"]),
        ("session_abort", ["reason", "stage"]),
        ("client", ["sasl_username"]),
        ("disconnect", [f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total")]),
    ]
    for k, cols in per_kind:
        mask = (kind == k).to_numpy()
        first_sub, sub_sess = _first_index(sess[mask])
        # session -> the row of its first line of this kind, -1 if none
        pick = np.full(n, -1, dtype=np.int64)
        pick[sub_sess] = rows[mask][first_sub]
        source, at_rows = events, pick
        if k == "disconnect" and disconnects is not None:
            source, at_rows = disconnects, same_lines(events, pick, disconnects)
        for col in cols:
            out[_RENAME.get((k, col), col)] = source[col].array.take(at_rows, allow_fill=True)
    out["client_name"] = out["client_name"].astype(object)
    # a session begins when the client connects: the lines an smtpd -v process writes before
    # (its start-up, then an idle wait of any length) are the session's, not its start time
    is_connect = (kind == "connect").to_numpy()
    first_connect, connect_sess = _first_index(sess[is_connect])
    connect_at = np.full(n, -1, dtype=np.int64)
    connect_at[connect_sess] = rows[is_connect][first_connect]
    has_connect = connect_at >= 0
    if has_connect.any():
        start = out["start"].copy()
        start[has_connect] = events["ts"].array.take(connect_at[has_connect])
        out["start"] = start
    out["duration_s"] = (out["end"] - out["start"]).dt.total_seconds()
    out["truncated_start"] = out["connects"] == 0
    out["truncated_end"] = out["disconnects"] == 0
    auth_ok = out["auth_ok"].astype("Int64")
    out["silent_auth"] = (
        ((auth_ok > 0) & (auth_ok == out["auth_total"].astype("Int64")) & (out["clients"] == 0))
        .fillna(False)
        .astype(bool)
    )
    out["end_reason"] = _end_reason(out)
    out["queue_ids"] = _queue_ids(events, kind, rows, sess, n)
    out["postscreen_verdict"] = postscreen_verdicts(events, out)
    for col in ["pid", "client_port", *(f"{c}_{p}" for c in COUNTER_COMMANDS for p in ("ok", "total"))]:
        if out[col].dtype != "Int32":  # as loaded, they are: no copy then
            out[col] = out[col].astype("Int32")
    return out[SESSION_COLUMNS]


class AmbiguousLines(ValueError):
    """``source_file`` and ``line_no`` name more than one line of the dataset.

    That happens when one path was ingested with different contents (standard input read
    twice, a log rewritten in place): then frames loaded apart cannot be matched line by
    line, and the whole rows must be loaded at once.
    """


#: line numbers take the low 40 bits of a line's key in :func:`same_lines`
_LINE_BITS = 40


def same_lines(events: pd.DataFrame, pick: np.ndarray, other: pd.DataFrame) -> np.ndarray:
    """Positions in ``other`` of the lines at ``pick`` in ``events`` (-1: none or absent).

    Both frames come from one dataset and window, and ``other`` holds every line that is
    picked (its rows are a superset of those): use it to join frames loaded with different
    rows or columns. Raises :class:`AmbiguousLines` if ``(source_file, line_no)`` does not
    name one line of ``other``.
    """
    files: dict[str, int] = {}

    def keys(frame: pd.DataFrame, positions: np.ndarray | None) -> np.ndarray:
        f = frame["source_file"].astype("category")
        codes = f.cat.codes.to_numpy()
        rank = np.array([files.setdefault(str(c), len(files)) for c in f.cat.categories] + [-1])
        lines = frame["line_no"].to_numpy(dtype=np.int64, na_value=-1)
        if positions is not None:
            codes, lines = codes[positions], lines[positions]
        if len(lines) and int(lines.max()) >= 1 << _LINE_BITS:
            raise AmbiguousLines(f"line numbers from 2**{_LINE_BITS} on do not fit the line key")
        # file rank in the high bits, line number in the low ones
        return np.asarray(rank[codes].astype(np.int64) * (1 << _LINE_BITS) + lines)

    found = pick >= 0
    out = np.full(len(pick), -1, dtype=np.int64)
    if found.any() and len(other):
        index = pd.Index(keys(other, None))
        if not index.is_unique:
            raise AmbiguousLines("the same file and line number name several lines of the dataset")
        out[found] = index.get_indexer(keys(events, pick[found]))
    return out


def _end_reason(out: pd.DataFrame) -> Any:
    """Why each session ended: the log ends, the abort's reason, QUIT or a plain disconnect."""

    def text(value: str) -> pa.Scalar:
        return pa.scalar(value, pa.large_string())

    reason = pc.if_else((out["quit_ok"].fillna(0) > 0).to_numpy(), text("quit"), text("disconnect"))
    aborted = out["abort_reason"].notna().to_numpy()
    reason = pc.if_else(aborted, _arrow_text(out["abort_reason"].array), reason)
    return text_column(pc.if_else(out["truncated_end"].to_numpy(), text("log ends"), reason))


_RENAME = {
    ("session_abort", "reason"): "abort_reason",
    ("session_abort", "stage"): "lost_after",
    ("client", "sasl_username"): "auth_success_user",
}


def _first_index(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first row of each run of equal keys (a session's rows are contiguous)."""
    if len(keys) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=keys.dtype)
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return first, keys[first]


def _first_per_session(
    sess: np.ndarray, mask: np.ndarray, rows: np.ndarray, values: object, n: int
) -> pd.Series:
    """``values`` (an events column) at each session's first line with ``mask``, NA if none."""
    pos = np.flatnonzero(mask)
    first, keys = _first_index(sess[pos])
    pick = np.full(n, -1, dtype=np.int64)
    pick[keys] = rows[pos[first]]
    return pd.Series(pd.array(values).take(pick, allow_fill=True))  # type: ignore[call-overload]


def _queue_ids(
    events: pd.DataFrame, kind: pd.Series, rows: np.ndarray, sess: np.ndarray, n: int
) -> pd.Series:
    mask = (kind == "client").to_numpy()
    values = np.asarray(events["queue_id"].array.take(rows[mask]), dtype=object).astype(str)
    return group_lists(sess[mask], values, pd.RangeIndex(n))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while making many small lists.

    Each allocation batch of new lists triggers a collection that walks every tracked
    object, which costs more than the lists themselves; the lists hold no cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def group_lists(keys: np.ndarray, values: np.ndarray, index: pd.Index) -> pd.Series:
    """A list of ``values`` per label of ``index`` (empty where a label has none), in order."""
    positions = index.get_indexer(pd.Index(keys)) if len(keys) else np.array([], dtype=np.int64)
    positions[positions < 0] += len(index)  # a key not in index: the last list (Python's [-1])
    # values of each label next to each other (stable: in their order), then one slice per label
    order = np.argsort(positions, kind="stable")
    flat = values[order].tolist()
    bounds = [0, *np.cumsum(np.bincount(positions, minlength=len(index))).tolist()]
    with _gc_paused():
        cells = [flat[a:b] for a, b in itertools.pairwise(bounds)]
    out = np.empty(len(index), dtype=object)
    out[:] = cells if cells else []
    return pd.Series(out, index=index, dtype=object)


def postscreen_verdicts(events: pd.DataFrame, sessions: pd.DataFrame) -> pd.Series:
    """postscreen's verdict (PASS NEW/OLD, ...) for the client just before the session."""
    ps = events.loc[
        (events["daemon"] == "postscreen") & (events["kind"] == "postscreen_verdict"),
        ["host", "client_ip", "ts", "ps_event"],
    ]
    result = pd.Series(pd.NA, index=sessions.index, dtype="object")
    if ps.empty:
        return result
    # one integer per (host, client address), numbered over both sides: merge_asof
    # matches on it as on the pair of strings, without converting them to objects
    pair = group_numbers(
        [value_codes(pd.concat([sessions[col], ps[col]], ignore_index=True)) for col in ("host", "client_ip")]
    )
    keep = (sessions["start"].notna() & sessions["client_ip"].notna()).to_numpy()
    left = pd.DataFrame(
        {"ts": sessions["start"].array, "_i": np.arange(len(sessions)), "_pair": pair[: len(sessions)]}
    )[keep]
    right = pd.DataFrame(
        {
            "ts": ps["ts"].array,
            "_pair": pair[len(sessions) :],
            "ps_event": ps["ps_event"].astype("object").array,
        }
    )
    right = right.dropna(subset=["ts"]).sort_values("ts")
    merged = pd.merge_asof(
        left.sort_values("ts"),
        right,
        on="ts",
        by="_pair",
        direction="backward",
        tolerance=pd.Timedelta(seconds=5),
    )
    result.iloc[merged["_i"].to_numpy()] = merged["ps_event"].to_numpy()
    return result
