"""The native ingest core (``native/``, Rust): the same batches as the polars path, faster.

The Rust core gets everything it matches from here at start-up: the envelope patterns
of :mod:`.syslog` and every kind of :mod:`.catalog` (name, programs, trigger, pattern,
group columns), so the catalog stays the one source of truth. It parses a batch with the
GIL released: envelope, program tag (resolved by :func:`syslog.parse_tag`, once per
distinct value), ``message repeated``, body prefixes, one-pass kind dispatch and the
typed captures. Time stamps and redaction are the polars path's own functions, and rows
the core cannot parse (RFC 5424 lines; a kind whose pattern Rust cannot compile) are
parsed by the reference parser, so the three parsers agree by construction where they
share code and by test where they do not (``tests/events/test_native.py``).

The core is used when it is built (``make`` builds it: ``pip install ./native``);
``MAILLOG_FORENSICS_NATIVE=0`` turns it off, ``=1`` insists on it (an error if it is not
built). When it cannot be imported, ingest says so once and uses the polars path.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import polars as pl
import pyarrow as pa

from . import catalog, parse, syslog
from .schema import COLUMNS, FLAG_BITS

__all__ = ["available", "enabled", "parse_lines"]

#: the envelope columns the core fills, in its output order (engine::ENVELOPE_COLUMNS)
ENVELOPE = ("ts_raw", "host", "program", "instance", "service", "daemon", "pid", "severity", "queue_id")
ENVELOPE_TAIL = ("message", "repeat")
#: filled here, not by the core
_OWN = frozenset(["ts", "kind", "flags", "source_file", "line_no", "secret_length"])
_TYPE_NAMES = {pa.string(): "str", pa.int32(): "i32", pa.int64(): "i64", pa.float64(): "f64"}
_CAPTURES = [c for c in COLUMNS if c.name not in _OWN and c.name not in ENVELOPE + ENVELOPE_TAIL]

_lock = threading.Lock()
_core: Any = None
_import_error: str | None = None
_warned = False


def config() -> dict[str, Any]:
    """What the core compiles: the patterns of :mod:`.syslog` and the catalog's kinds."""
    return {
        "wrapped": syslog.WRAPPED,
        "wrapper": syslog.WRAPPER,
        "ts": syslog.TS_RE.pattern,
        "repeated": syslog.REPEATED_RE.pattern,
        "postfix_prefix": syslog.POSTFIX_PREFIX,
        "dovecot_syslog_prefix": syslog.DOVECOT_SYSLOG_PREFIX,
        "dovecot_prefix": syslog.DOVECOT_NATIVE_PREFIX,
        "dovecot24_body": syslog.DOVECOT24_BODY,
        "user_daemons": sorted(syslog.DOVECOT_USER_DAEMONS),
        "kinds": [
            {
                "name": k.name,
                "source": k.source,
                "daemons": sorted(k.daemons),
                "debug": k.debug,
                "trigger": k.trigger,
                "prefix": k.prefix,
                "pattern": k.pattern,
                "groups": [(g, catalog.group_column(g)) for g in k.regex.groupindex],
            }
            for k in catalog.KINDS
        ],
        "columns": [(c.name, _TYPE_NAMES[c.type], c.angle, c.address) for c in _CAPTURES],
        "defaults": [("disconnect", total, ok) for total, ok in parse.COUNTER_TOTALS],
        "iso_parts": parse.ISO_PARTS.pattern,
        "tai64n": syslog.TS_TAI64N,
        "tai64_epoch": syslog.TAI64_EPOCH,
        "ts_min_seconds": syslog.TS_MIN_SECONDS,
        "ts_end_seconds": syslog.TS_END_SECONDS,
        "months": list(syslog.MONTHS),
        "mapped_v4": parse.MAPPED_V4,
    }


def _load() -> Any:
    global _core, _import_error
    with _lock:
        if _core is None and _import_error is None:
            try:
                from maillog_native import Core
            except ImportError as exc:
                _import_error = str(exc)
            else:
                _core = Core(config(), syslog.parse_tag, syslog.local_offset_seconds)
        return _core


def available() -> bool:
    """Whether the extension is built and compiled the catalog."""
    return _load() is not None


def enabled() -> bool:
    """Whether :func:`parse.parse_lines` uses the core (``MAILLOG_FORENSICS_NATIVE``)."""
    global _warned
    want = os.environ.get("MAILLOG_FORENSICS_NATIVE", "auto")
    if want == "0":
        return False
    if available():
        return True
    if want == "1":
        raise RuntimeError(f"MAILLOG_FORENSICS_NATIVE=1 but the native core is not built: {_import_error}")
    if not _warned:
        _warned = True
        print(
            f"maillog-forensics: native core not available ({_import_error}); using the polars path",
            file=sys.stderr,
        )
    return False


def fallbacks() -> list[tuple[str, str]]:
    """(kind, reason) of the catalog patterns the core leaves to the reference parser."""
    core = _load()
    return [] if core is None else list(core.fallbacks())


_KIND_NAMES = pl.Series("kind", catalog.kind_names(), dtype=pl.String)
_TYPES = {c.name: c.type for c in COLUMNS}


def _arrays(n: int, columns: list[tuple[Any, int, Any, Any] | None]) -> dict[str, pa.Array]:
    """The core's buffers as Arrow arrays, without a copy (text as ``string_view``)."""
    out: dict[str, pa.Array] = {}
    names = [*ENVELOPE, *ENVELOPE_TAIL, *(c.name for c in _CAPTURES)]
    for name, column in zip(names, columns, strict=True):
        if column is None:  # null on every row: parse.to_frame adds it
            continue
        validity, nulls, values, data = column
        bufs = [None if validity is None else pa.py_buffer(validity), pa.py_buffer(values)]
        if data is not None:
            out[name] = pa.Array.from_buffers(
                pa.string_view(), n, [*bufs, pa.py_buffer(data)], null_count=nulls
            )
        else:
            out[name] = pa.Array.from_buffers(_TYPES[name], n, bufs, null_count=nulls)
    return out


def parse_lines(
    lines: pl.Series,
    *,
    source_file: str,
    first_line_no: int,
    ctx: parse.TimeContext,
    flags: pl.Series | None = None,
    threads: int = 1,
) -> parse.ParsedBatch:
    """Parse a batch with the core; the same result as the polars path (``parse.parse_lines``)."""
    core = _load()
    if core is None:
        raise RuntimeError(f"native core not available: {_import_error}")
    n = len(lines)
    arr = lines.cast(pl.String).rechunk().to_arrow()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    data = bufs[2] if bufs[2] is not None else pa.py_buffer(b"")
    kinds, columns, deferred, ts, chain = core.parse(
        _bytes(bufs[1]), _bytes(data), arr.offset, n, threads, ctx.tz, ctx.year, ctx.last_month
    )
    ctx.year, ctx.last_month = chain
    cols = _arrays(n, columns)
    validity, nulls, values, _ = ts
    vbuf = None if validity is None else pa.py_buffer(validity)
    cols["ts"] = pa.Array.from_buffers(_TYPES["ts"], n, [vbuf, pa.py_buffer(values)], null_count=nulls)
    frame = pl.from_arrow(pa.table(cols))
    assert isinstance(frame, pl.DataFrame)
    codes = pl.from_arrow(pa.Array.from_buffers(pa.uint16(), n, [None, pa.py_buffer(kinds)]))
    assert isinstance(codes, pl.Series)
    frame = frame.with_columns(_KIND_NAMES.gather(codes)).with_row_index("idx")
    if deferred:
        frame = _patch_deferred(frame, lines, deferred, ctx)
    nul = lines.str.contains("\x00", literal=True).fill_null(False)
    in_flags = pl.Series([0] * n, dtype=pl.UInt8) if flags is None else flags.cast(pl.UInt8)
    out = frame.with_columns(
        pl.lit(source_file).alias("source_file"),
        (pl.col("idx").cast(pl.Int64) + first_line_no).alias("line_no"),
        (in_flags | (nul.cast(pl.UInt8) * FLAG_BITS["nul"])).cast(pl.UInt8).alias("flags"),
    )
    taken, patch = parse.redact_fast(out)
    if taken:
        out = out.with_columns(pl.lit(None, dtype=pl.Int32).alias("secret_length")).update(patch, on="idx")
    return parse.ParsedBatch(parse.to_frame(out), taken)


def _bytes(buf: pa.Buffer) -> memoryview:
    """An Arrow buffer as unsigned bytes (the format the core reads)."""
    return memoryview(buf).cast("B")


def _patch_deferred(
    frame: pl.DataFrame, lines: pl.Series, rows: list[int], ctx: parse.TimeContext
) -> pl.DataFrame:
    """Rows the core leaves to the reference parser.

    The core's time stamp stays where it read one (a kind it cannot match: the stamp is
    part of the year chain); RFC 5424 rows take the reference's (ISO, never year-less).
    """
    scratch = parse.TimeContext(ctx.tz, ctx.year, ctx.last_month)
    frame = frame.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in parse.POLARS_SCHEMA.items() if c not in frame.columns
    )
    names = [c for c in frame.columns if c != "idx"]
    patch: dict[str, list[Any]] = {"idx": [], **{c: [] for c in names}}
    ts = frame.get_column("ts")
    stamped = frame.get_column("ts_raw").is_not_null()
    for i in rows:
        row = parse.reference_line(str(lines[i]), scratch)
        if stamped[i]:
            row["ts"] = ts[i]
        patch["idx"].append(i)
        for c in names:
            patch[c].append(row.get(c))
    upd = pl.DataFrame(patch, schema={"idx": pl.UInt32, **{c: frame.schema[c] for c in names}})
    return frame.update(upd, on="idx", include_nulls=True)
