"""Lines → typed events: a vectorised batch parser and a plain ``re`` reference parser.

:func:`parse_lines` is the fast path used by ingest: it works on a whole batch of lines
with polars string kernels (multi-threaded Rust), dispatches each catalog kind on a cheap
literal, and runs a kind's regular expression only on the rows that can match.
Everything that is per *unique value* (program tags, local-time offsets) is computed once
in Python. :func:`reference_parse` does the same line by line with Python ``re``; it is
the test oracle the fast path must agree with, row for row and column for column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from . import catalog, redact, secrets, syslog
from .schema import COLUMN_BY_NAME, COLUMNS, EVENT_SCHEMA, FLAG_BITS

__all__ = ["ParsedBatch", "TimeContext", "parse_lines", "polars_parse_lines", "reference_parse"]

_INT_TYPES = {pa.int32(): 31, pa.int64(): 63}
_PREFIX_RES = {
    "postfix": re.compile(syslog.POSTFIX_PREFIX),
    "dovecot-syslog": re.compile(syslog.DOVECOT_SYSLOG_PREFIX),
    "dovecot": re.compile(syslog.DOVECOT_NATIVE_PREFIX),
}
_DIGIT_START = re.compile(r"[0-9]")
_DOVECOT24 = re.compile(catalog.python_pattern(syslog.DOVECOT24_BODY))
_ISO_PARTS = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})"
    r"(?:\.(?P<f>[0-9]{1,9}))?(?P<z>Z|(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2}))?$"
)


@dataclass
class TimeContext:
    """How year-less, zone-less time stamps of one input file become UTC.

    ``year`` is the running year of the previous year-less line and ``last_month`` its
    month (``None`` before the first); both carry over from batch to batch.
    """

    tz: str
    year: int
    last_month: int | None = None


@dataclass
class ParsedBatch:
    """A parsed batch: the events (polars, plain types) and the secrets taken out of them."""

    frame: pl.DataFrame
    secrets: list[tuple[int, str, str]] = field(default_factory=list)  # (line_no, kind, secret)

    @property
    def table(self) -> pa.Table:
        """The events as Arrow with the stored schema (categorical columns dictionary-encoded)."""
        return _finish_table(self.frame.to_arrow())


# ============================================================================ reference


def reference_parse(
    lines: Sequence[str],
    *,
    source_file: str,
    first_line_no: int,
    ctx: TimeContext,
    flags: Sequence[int] | None = None,
) -> ParsedBatch:
    """Parse lines one by one with Python ``re`` (the oracle for :func:`parse_lines`)."""
    rows: list[dict[str, Any]] = []
    taken: list[tuple[int, str, str]] = []
    for i, line in enumerate(lines):
        row = _reference_line(line, ctx)
        row["source_file"] = source_file
        row["line_no"] = first_line_no + i
        row["flags"] = (flags[i] if flags is not None else 0) | (FLAG_BITS["nul"] if "\x00" in line else 0)
        _redact_row(row, taken)
        rows.append(row)
    table = pa.Table.from_pylist(rows, schema=_plain_schema())
    return ParsedBatch(_as_frame(table), taken)


def _reference_line(line: str, ctx: TimeContext) -> dict[str, Any]:
    row: dict[str, Any] = {"repeat": 1, "kind": "unparsed", "message": line}
    tag: syslog.HeaderTag | None
    message: str | None
    text = syslog.unwrap(line)
    if text.startswith("<"):
        m5 = syslog.RFC5424_RE.match(text)
        if m5 is None:
            return row
        ts_raw = m5["ts"] if m5["ts"] != "-" else None
        tag = syslog.rfc5424_tag(m5["host"], m5["tag"], m5["pid"])
        message = m5["message"] or ""
    else:
        split = syslog.split_head(text)
        if split is None:
            return row
        head, message = split
        n = syslog.ts_length(head)
        ts_raw = head[:n]
        if not syslog.TS_RE.fullmatch(ts_raw) or len(head) <= n or head[n] != " ":
            return row
        tag = syslog.parse_tag(head[n + 1 :])
        if tag is None:
            return row
    row.update(
        ts_raw=ts_raw,
        host=tag.host,
        program=tag.program,
        pid=tag.pid,
        instance=tag.instance,
        service=tag.service,
        daemon=tag.daemon,
    )
    row["ts"] = _reference_ts(ts_raw, ctx) if ts_raw is not None else None
    rep = syslog.REPEATED_RE.match(message)
    if rep:
        row["repeat"] = _to_int(rep["n"], 31)
        message = rep["message"]
    row["message"] = message
    family = tag.family
    body = message
    prefix_re = _PREFIX_RES.get(family)
    if prefix_re is not None:
        pm = prefix_re.match(body)
        if pm is not None:
            groups = pm.groupdict()
            if family == "postfix":
                row["queue_id"] = groups["queue_id"] or groups["queue_id__2"]
            if family == "dovecot-syslog":
                row["daemon"] = groups["daemon"]
            sev = groups["severity"]
            row["severity"] = sev.lower() if sev else None
            body = body[pm.end() :]
            dargs = groups.get("dargs") if family == "dovecot-syslog" else tag.args
            if family != "postfix" and dargs is not None and row["daemon"] in syslog.DOVECOT_USER_DAEMONS:
                body = f"({dargs}): {body}"
            elif dargs and "," in dargs:
                m24 = _DOVECOT24.match(body)
                if m24:
                    body = f"{m24['driver']}({dargs}): {m24['rest']}"
    daemon = row.get("daemon")
    severity = row.get("severity")
    for kind in catalog.KINDS:
        if not _kind_applies(kind, family, daemon, severity) or kind.trigger not in body:
            continue
        if not body.startswith(kind.prefix):
            continue
        km = kind.regex.match(body)
        if km is None:
            continue
        row["kind"] = kind.name
        for group, value in km.groupdict().items():
            if value is None:
                continue
            col = catalog.group_column(group)
            if row.get(col) is None:
                row[col] = _convert(col, value)
        if kind.name == "disconnect":
            for total, ok in _COUNTER_TOTALS:
                if row.get(total) is None:
                    row[total] = row.get(ok)
        break
    else:
        row["kind"] = _fallback_kind(family, row.get("severity"))
    return row


def _kind_applies(kind: catalog.LineKind, family: str, daemon: str | None, severity: str | None) -> bool:
    """Can a line of this program family, daemon and (lower-case) severity be of ``kind``?

    A Dovecot ``Debug:`` line only gets the debug kinds (``LineKind.debug``); the
    severity of any other family is never ``debug``.
    """
    if kind.source == catalog.POSTFIX and family != "postfix":
        return False
    if kind.source == catalog.DOVECOT and family not in ("dovecot", "dovecot-syslog"):
        return False
    if not kind.applies_to_level(severity):
        return False
    return not kind.daemons or daemon in kind.daemons


def _fallback_kind(family: str, severity: str | None) -> str:
    if family == "other":
        return "other_program"
    return "warning" if severity in ("warning", "error", "fatal", "panic") else "unparsed"


def _to_int(text: str, bits: int) -> int | None:
    try:
        v = int(text)
    except ValueError:
        return None
    return v if -(2**bits) <= v < 2**bits else None


#: an IPv4-mapped IPv6 address; group 1 is the IPv4 address
MAPPED_V4 = r"^(?i:::ffff:)([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})$"
_MAPPED_V4_RE = re.compile(MAPPED_V4)


def _convert(col: str, value: str) -> Any:
    c = COLUMN_BY_NAME[col]
    if c.angle and len(value) >= 2 and value[0] == "<" and value[-1] == ">":
        value = value[1:-1]
    if c.address:
        mapped = _MAPPED_V4_RE.match(value)
        value = mapped[1] if mapped else value
    if c.type in _INT_TYPES:
        return _to_int(value, _INT_TYPES[c.type])
    if c.type == pa.float64():
        return _to_float(value)
    return value


_FLOAT_RE = re.compile(r"[0-9]*\.?[0-9]*")


def _to_float(text: str) -> float | None:
    if not _FLOAT_RE.fullmatch(text) or text in ("", "."):
        return None
    return float(text)


def _ts_parts(ts_raw: str) -> tuple[int, int, int, int, int, int, int, int | None] | None:
    """(year or -1 for year-less, month, day, h, m, s, us, utc offset seconds or None)."""
    if ts_raw.startswith("@"):
        return None  # TAI64N: exact, see _reference_ts
    if _DIGIT_START.match(ts_raw):
        m = _ISO_PARTS.match(ts_raw)
        if m is None:
            return None
        off: int | None = None
        if m["z"] == "Z":
            off = 0
        elif m["z"]:
            off = (int(m["oh"]) * 3600 + int(m["om"]) * 60) * (1 if m["sign"] == "+" else -1)
        us = int(m["f"][:6].ljust(6, "0")) if m["f"] else 0
        return (int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]), us, off)
    parts = syslog.bsd_parts(ts_raw)
    if parts is None:
        return None
    return (-1, *parts, None)


def _reference_ts(ts_raw: str, ctx: TimeContext) -> datetime | None:
    if ts_raw.startswith("@"):
        return syslog.tai64n_utc(ts_raw)
    parts = _ts_parts(ts_raw)
    if parts is None:
        return None
    year, month, day, h, mi, s, us, off = parts
    if year == -1:
        step = syslog.year_steps([month], ctx.last_month)[0]
        ctx.year += step
        ctx.last_month = month
        year = ctx.year
    if not 1900 <= year <= 2999 or s > 59:
        return None
    try:
        naive = datetime(year, month, day, h, mi, s, us)
    except ValueError:
        return None
    if off is None:
        off = syslog.local_offset_seconds(ctx.tz, year, month, day, h)
        if off is None:
            return None
    try:
        return (naive - timedelta(seconds=off)).replace(tzinfo=UTC)
    except OverflowError:
        return None


def _redact_row(row: dict[str, Any], found: list[tuple[int, str, str]]) -> None:
    for secret in secrets.redact_row(row):
        found.append((row["line_no"], row["kind"], secret))


# ============================================================================ fast path

#: "name=N" in disconnect counters means N of N succeeded: total defaults to ok
_COUNTER_TOTALS = [(c.name, c.name[: -len("_total")] + "_ok") for c in COLUMNS if c.name.endswith("_total")]

_KIND_GROUPS: dict[str, list[tuple[str, str]]] = {
    k.name: [(g, catalog.group_column(g)) for g in k.regex.groupindex] for k in catalog.KINDS
}


def parse_lines(
    lines: pl.Series,
    *,
    source_file: str,
    first_line_no: int,
    ctx: TimeContext,
    flags: pl.Series | None = None,
) -> ParsedBatch:
    """Parse a batch of lines: the native core when it is on (``events.native``), else polars."""
    # absolute and at call time: native imports this module (and a relative import here
    # trips an ImportWarning when pytest's doctest collection has re-imported the package)
    from maillog_forensics.events import native

    if native.enabled():
        return native.parse_lines(
            lines, source_file=source_file, first_line_no=first_line_no, ctx=ctx, flags=flags
        )
    return polars_parse_lines(
        lines, source_file=source_file, first_line_no=first_line_no, ctx=ctx, flags=flags
    )


def polars_parse_lines(
    lines: pl.Series,
    *,
    source_file: str,
    first_line_no: int,
    ctx: TimeContext,
    flags: pl.Series | None = None,
) -> ParsedBatch:
    """Parse a batch of lines (vectorised). Returns the same as :func:`reference_parse`.

    Parameters
    ----------
    lines
        One string per input line, without the line terminator.
    source_file
        Provenance written to every row.
    first_line_no
        1-based line number of ``lines[0]`` in its file.
    ctx
        Year / zone context of the file; updated for the next batch.
    flags
        Per-line input flags (``schema.FLAG_BITS``) found while reading.
    """
    n = len(lines)
    df = pl.DataFrame({"line": lines.cast(pl.String)}).with_row_index("idx")
    in_flags = (
        pl.Series("in_flags", [0] * n, dtype=pl.UInt8)
        if flags is None
        else flags.cast(pl.UInt8).rename("in_flags")
    )
    line = pl.col("line")
    df = df.with_columns(in_flags, line.str.contains("\x00", literal=True).alias("nul"))
    df = _unwrap(df)
    text = pl.col("text")
    parts = text.str.splitn(": ", 2)
    df = df.with_columns(
        parts.struct.field("field_0").alias("head"),
        parts.struct.field("field_1").alias("msg"),
        text.str.starts_with("<").alias("is5424"),
    )
    head = pl.col("head")
    head_len = head.str.len_chars()
    first_digit = head.str.slice(0, 1).is_in(list("0123456789"))
    long_head = head_len > 10
    sp = head.str.find(" ", literal=True)

    def space_from(start: int | pl.Expr) -> pl.Expr:
        return pl.coalesce(head.str.slice(start).str.find(" ", literal=True) + start, head_len)

    bsd_base = pl.when(head.str.slice(5, 1) == " ").then(14).otherwise(15)  # "Feb 3 ..."
    ts_len = (
        pl.when(head.str.starts_with("@"))
        .then(25)
        .when(first_digit & long_head)
        .then(
            pl.when(head.str.slice(10, 1) == "T")
            .then(pl.coalesce(sp, head_len))
            .when((head_len > 19) & (head.str.slice(19, 1) == "."))
            .then(space_from(19))
            .otherwise(19)
        )
        .when((head_len > bsd_base) & (head.str.slice(bsd_base, 1) == "."))
        .then(space_from(bsd_base))
        .otherwise(bsd_base)
    )
    df = df.with_columns(ts_len.cast(pl.Int64).alias("tslen"))
    df = df.with_columns(
        head.str.slice(0, pl.col("tslen")).alias("ts_raw"),
        head.str.slice(pl.col("tslen"), 1).alias("ts_sep"),
        head.str.slice(pl.col("tslen") + 1).alias("hosttag"),
    )
    df = df.with_columns(
        (
            pl.col("msg").is_not_null()
            & ~pl.col("is5424")
            & (pl.col("ts_sep") == " ")
            & pl.col("ts_raw").str.contains(f"^(?:{syslog.TS_RE.pattern})$")
        ).alias("hdr_ok")
    )
    tags = _tag_table(df.filter(pl.col("hdr_ok")).get_column("hosttag"))
    df = df.join(tags, on="hosttag", how="left", maintain_order="left")
    df = df.with_columns(
        pl.when(pl.col("hdr_ok") & pl.col("family").is_not_null()).then(True).otherwise(False).alias("ok")
    )
    if df.get_column("is5424").any():
        df = _apply_rfc5424(df)
    env = df.select(
        "idx",
        pl.when(pl.col("ok")).then(pl.col("ts_raw")).alias("ts_raw"),
        pl.when(pl.col("ok")).then(pl.col("msg")).otherwise(line).alias("message"),
        *[
            pl.when(pl.col("ok")).then(pl.col(c)).alias(c)
            for c in ("host", "program", "pid", "instance", "service", "daemon", "family", "dargs")
        ],
        "ok",
        "in_flags",
        "nul",
    )
    env = _unwrap_repeated(env)
    env = _strip_prefixes(env)
    kinds = _match_kinds(env)
    ts = _fast_ts(env.select("idx", "ts_raw"), ctx)
    out = env.join(kinds, on="idx", how="left", maintain_order="left").join(
        ts, on="idx", how="left", maintain_order="left"
    )
    out = out.with_columns(
        pl.when(pl.col("kind").is_not_null())
        .then(pl.col("kind"))
        .when(pl.col("family") == "other")
        .then(pl.lit("other_program"))
        .when(pl.col("ok") & pl.col("severity").is_in(["warning", "error", "fatal", "panic"]))
        .then(pl.lit("warning"))
        .otherwise(pl.lit("unparsed"))
        .alias("kind"),
        pl.lit(source_file).alias("source_file"),
        (pl.col("idx").cast(pl.Int64) + first_line_no).alias("line_no"),
        (pl.col("in_flags") | pl.when(pl.col("nul")).then(FLAG_BITS["nul"]).otherwise(0))
        .cast(pl.UInt8)
        .alias("flags"),
    )
    taken, patch = _redact_fast(out)
    if taken:
        out = out.with_columns(pl.lit(None, dtype=pl.Int32).alias("secret_length")).update(patch, on="idx")
    return ParsedBatch(_to_frame(out), taken)


def _unwrap(df: pl.DataFrame) -> pl.DataFrame:
    """Column ``text``: the line as :func:`syslog.unwrap` gives it (NULs, wrappers cut)."""
    line = pl.col("line")
    text = pl.when(pl.col("nul")).then(line.str.replace_all("\x00", "", literal=True)).otherwise(line)
    df = df.with_columns(text.alias("text"))
    wrapped = df.get_column("text").str.contains(syslog.WRAPPED)
    if not wrapped.any():
        return df
    g = pl.col("text").str.extract_groups(syslog.WRAPPER)
    sub = df.filter(wrapped).select("idx", "text", g.alias("g"))
    compose = pl.col("g").struct.field("compose").str.len_chars().fill_null(0)
    outer = (
        pl.when(pl.col("g").struct.field("inner").is_not_null())
        .then(pl.col("g").struct.field("outer").str.len_chars() + 1)
        .otherwise(0)
    )
    sub = sub.select("idx", pl.col("text").str.slice(compose + outer).alias("text"))
    return df.update(sub, on="idx")


def _tag_table(hosttags: pl.Series) -> pl.DataFrame:
    uniques = hosttags.unique().to_list()
    rows: dict[str, list[Any]] = {
        k: []
        for k in ("hosttag", "host", "program", "pid", "instance", "service", "daemon", "family", "dargs")
    }
    for ht in uniques:
        if ht is None:
            continue
        t = syslog.parse_tag(ht)
        if t is None:
            continue
        rows["hosttag"].append(ht)
        rows["host"].append(t.host)
        rows["program"].append(t.program)
        rows["pid"].append(t.pid)
        rows["instance"].append(t.instance)
        rows["service"].append(t.service)
        rows["daemon"].append(t.daemon)
        rows["family"].append(t.family)
        rows["dargs"].append(t.args)
    return pl.DataFrame(
        rows,
        schema={
            "hosttag": pl.String,
            "host": pl.String,
            "program": pl.String,
            "pid": pl.Int32,
            "instance": pl.String,
            "service": pl.String,
            "daemon": pl.String,
            "family": pl.String,
            "dargs": pl.String,
        },
    )


def _apply_rfc5424(df: pl.DataFrame) -> pl.DataFrame:
    """RFC 5424 lines are rare: parse them per line with the shared regex."""
    sub = df.filter(pl.col("is5424")).select("idx", "text")
    upd: dict[str, list[Any]] = {
        k: []
        for k in (
            "idx",
            "ts_raw",
            "msg",
            "host",
            "program",
            "pid",
            "instance",
            "service",
            "daemon",
            "family",
            "dargs",
            "ok",
        )
    }
    for idx, line in sub.iter_rows():
        m = syslog.RFC5424_RE.match(line)
        if m is None:
            continue
        t = syslog.rfc5424_tag(m["host"], m["tag"], m["pid"])
        upd["idx"].append(idx)
        upd["ts_raw"].append(m["ts"] if m["ts"] != "-" else None)
        upd["msg"].append(m["message"] or "")
        for k in ("host", "program", "pid", "instance", "service", "daemon", "family"):
            upd[k].append(getattr(t, k))
        upd["dargs"].append(t.args)
        upd["ok"].append(True)
    if not upd["idx"]:
        return df
    patch = pl.DataFrame(upd, schema={k: df.schema[k] for k in upd})
    return df.update(patch, on="idx", include_nulls=True)


def _unwrap_repeated(env: pl.DataFrame) -> pl.DataFrame:
    msg = pl.col("message")
    is_rep = pl.col("ok") & msg.str.starts_with("message repeated ")
    if not env.select(is_rep.any()).item():
        return env.with_columns(pl.lit(1, dtype=pl.Int32).alias("repeat"))
    g = msg.str.extract_groups("^(?:" + syslog.REPEATED_RE.pattern.replace(r"\Z", "$") + ")")
    env = env.with_columns(pl.when(is_rep).then(g).alias("rep"))
    rep_ok = pl.col("rep").struct.field("n").is_not_null()
    return env.with_columns(
        pl.when(rep_ok)
        .then(pl.col("rep").struct.field("n").cast(pl.Int32, strict=False))
        .otherwise(1)
        .alias("repeat"),
        pl.when(rep_ok).then(pl.col("rep").struct.field("message")).otherwise(msg).alias("message"),
    ).drop("rep")


def _strip_prefixes(env: pl.DataFrame) -> pl.DataFrame:
    env = env.with_columns(
        pl.col("message").alias("body"),
        pl.lit(None, dtype=pl.String).alias("queue_id"),
        pl.lit(None, dtype=pl.String).alias("severity"),
    )
    parts = []
    for family, rx in _PREFIX_RES.items():
        sub = env.filter(pl.col("family") == family)
        if sub.height == 0:
            continue
        prefix = "^(?P<all_>" + rx.pattern[1:] + ")"
        g = pl.col("body").str.extract_groups(prefix)
        sub = sub.with_columns(g.alias("g"))
        cols = [
            pl.col("body").str.slice(pl.col("g").struct.field("all_").str.len_chars()).alias("body"),
            pl.col("g").struct.field("severity").str.to_lowercase().alias("severity"),
        ]
        if family == "postfix":
            cols.append(
                pl.coalesce(
                    pl.col("g").struct.field("queue_id"), pl.col("g").struct.field("queue_id__2")
                ).alias("queue_id")
            )
        if family == "dovecot-syslog":
            cols.append(pl.col("g").struct.field("daemon").alias("daemon"))
            cols.append(pl.col("g").struct.field("dargs").alias("dargs"))
        parts.append(sub.with_columns(cols).drop("g"))
    if not parts:
        return env
    patched = pl.concat(parts, how="vertical_relaxed").select(
        "idx", "body", "severity", "queue_id", "daemon", "dargs"
    )
    env = env.update(patched, on="idx", include_nulls=True)
    is_dovecot = pl.col("family").is_in(["dovecot", "dovecot-syslog"])
    # LMTP/LDA, IMAP/POP3: the user is in the process prefix: "(user): msgid=...: saved mail to INBOX"
    user_args = (
        is_dovecot
        & pl.col("dargs").is_not_null()
        & pl.col("daemon").is_in(sorted(syslog.DOVECOT_USER_DAEMONS))
    ).fill_null(False)
    if env.select(user_args.any()).item():
        env = env.with_columns(
            pl.when(user_args)
            .then(pl.concat_str([pl.lit("("), pl.col("dargs"), pl.lit("): "), pl.col("body")]))
            .otherwise(pl.col("body"))
            .alias("body")
        )
    # Dovecot 2.4: "sql: Password mismatch" + prefix args "u,ip,sasl:login" -> "sql(u,ip,sasl:login): ..."
    is24 = is_dovecot & pl.col("dargs").str.contains(",", literal=True) & ~user_args
    if not env.select(is24.fill_null(False).any()).item():
        return env
    parts24 = pl.col("body").str.extract_groups(syslog.DOVECOT24_BODY)
    rewritten = pl.concat_str(
        [
            parts24.struct.field("driver"),
            pl.lit("("),
            pl.col("dargs"),
            pl.lit("): "),
            parts24.struct.field("rest"),
        ]
    )
    return env.with_columns(
        pl.when(is24.fill_null(False) & parts24.struct.field("driver").is_not_null())
        .then(rewritten)
        .otherwise(pl.col("body"))
        .alias("body")
    )


def _match_kinds(env: pl.DataFrame) -> pl.DataFrame:
    """Assign the first matching kind per row and extract its groups (typed columns).

    Rows are split by (family, daemon) so a kind only looks at rows it can apply to;
    within a group, kinds are tried in catalog order on the rows still unassigned: a
    cheap literal test first, the regular expression only on the rows that pass it, and
    group extraction only on the rows it matched.
    """
    base = env.filter(pl.col("ok")).select(
        "idx",
        "family",
        "daemon",
        "body",
        (pl.col("severity") == "debug").fill_null(False).alias("is_debug"),
    )
    found: list[pl.DataFrame] = []
    for (family, daemon, is_debug), group in base.group_by(["family", "daemon", "is_debug"]):
        fam = str(family)
        dmn = None if daemon is None else str(daemon)
        sev = "debug" if is_debug else None
        pending = group.drop("is_debug")
        for kind in catalog.KINDS:
            if pending.height == 0:
                break
            if not _kind_applies(kind, fam, dmn, sev):
                continue
            if kind.prefix:  # anchored literal: checking the first bytes is enough
                has = pending.get_column("body").str.starts_with(kind.prefix)
                if not has.any():
                    continue
                cand, rest = pending.filter(has), pending.filter(~has)
            elif kind.trigger:
                has = pending.get_column("body").str.contains(kind.trigger, literal=True)
                if not has.any():
                    continue
                cand, rest = pending.filter(has), pending.filter(~has)
            else:
                cand, rest = pending, pending.clear()
            hit = cand.get_column("body").str.contains(kind.pattern)
            if not hit.any():
                continue
            found.append(_extract(kind, cand.filter(hit)))
            pending = pl.concat([rest, cand.filter(~hit)])
    if not found:
        return pl.DataFrame(schema={"idx": pl.UInt32, "kind": pl.String})
    return pl.concat(found, how="diagonal_relaxed")


def _extract(kind: catalog.LineKind, sub: pl.DataFrame) -> pl.DataFrame:
    groups = sub.select("idx", pl.col("body").str.extract_groups(kind.pattern).alias("g")).unnest("g")
    cols: dict[str, pl.Expr] = {}
    for group, col in _KIND_GROUPS[kind.name]:
        expr = pl.col(group)
        cols[col] = expr if col not in cols else pl.coalesce(cols[col], expr)
    typed = {col: _typed(col, e) for col, e in cols.items()}
    if kind.name == "disconnect":
        for total, ok in _COUNTER_TOTALS:
            typed[total] = pl.coalesce(typed[total], typed[ok])
    return groups.select("idx", pl.lit(kind.name).alias("kind"), *[e.alias(col) for col, e in typed.items()])


_POLARS_TYPES = {pa.int32(): pl.Int32, pa.int64(): pl.Int64, pa.float64(): pl.Float64}


def _typed(col: str, expr: pl.Expr) -> pl.Expr:
    c = COLUMN_BY_NAME[col]
    if c.angle:
        expr = (
            pl.when(expr.str.starts_with("<") & expr.str.ends_with(">") & (expr.str.len_chars() >= 2))
            .then(expr.str.slice(1, expr.str.len_chars() - 2))
            .otherwise(expr)
        )
    if c.address:
        expr = expr.str.replace(MAPPED_V4, "${1}")
    if c.type == pa.float64():
        ok = expr.str.contains(r"^[0-9]*\.?[0-9]*$") & (expr != "") & (expr != ".")
        return pl.when(ok).then(expr.cast(pl.Float64, strict=False))
    if c.type in _POLARS_TYPES:
        return expr.cast(_POLARS_TYPES[c.type], strict=False)
    return expr


def _fast_ts(frame: pl.DataFrame, ctx: TimeContext) -> pl.DataFrame:
    """UTC timestamps for a batch, with year inference carried in ``ctx``."""
    raw = pl.col("ts_raw")
    f = frame.filter(raw.is_not_null())
    if f.height == 0:
        return frame.select("idx", pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts"))
    is_tai = raw.str.starts_with("@")
    iso = f.filter(raw.str.contains("^[0-9]"))
    bsd = f.filter(~raw.str.contains("^[0-9]") & ~is_tai)
    tai = f.filter(is_tai)
    pieces = []
    if iso.height:
        g = iso.select("idx", raw.str.extract_groups(_ISO_PARTS.pattern).alias("g")).unnest("g")
        off = (
            pl.when(pl.col("z") == "Z")
            .then(0)
            .when(pl.col("z").is_not_null() & (pl.col("z") != ""))
            .then(
                (pl.col("oh").cast(pl.Int64) * 3600 + pl.col("om").cast(pl.Int64) * 60)
                * pl.when(pl.col("sign") == "+").then(1).otherwise(-1)
            )
        )
        pieces.append(
            g.select(
                "idx",
                pl.col("y").cast(pl.Int64).alias("y"),
                pl.col("mo").cast(pl.Int64).alias("mo"),
                pl.col("d").cast(pl.Int64).alias("d"),
                pl.col("h").cast(pl.Int64).alias("h"),
                pl.col("mi").cast(pl.Int64).alias("mi"),
                pl.col("s").cast(pl.Int64).alias("s"),
                pl.coalesce(pl.col("f").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64), pl.lit(0)).alias(
                    "us"
                ),
                off.cast(pl.Int64).alias("off"),
            )
        )
    if bsd.height:
        # "Feb 3 11:57:42" (one space) is read as "Feb  3 11:57:42"
        bsd = bsd.with_columns(
            pl.when(raw.str.slice(5, 1) == " ")
            .then(pl.concat_str([raw.str.slice(0, 4), pl.lit(" "), raw.str.slice(4)]))
            .otherwise(raw)
            .alias("ts_raw")
        )
        month = raw.str.slice(0, 3).replace_strict(syslog.MONTHS, default=None, return_dtype=pl.Int64)
        b = bsd.select(
            "idx",
            month.alias("mo"),
            raw.str.slice(4, 2).str.strip_chars(" ").cast(pl.Int64, strict=False).alias("d"),
            raw.str.slice(7, 2).cast(pl.Int64, strict=False).alias("h"),
            raw.str.slice(10, 2).cast(pl.Int64, strict=False).alias("mi"),
            raw.str.slice(13, 2).cast(pl.Int64, strict=False).alias("s"),
            pl.coalesce(raw.str.slice(16).str.pad_end(6, "0").cast(pl.Int64, strict=False), pl.lit(0)).alias(
                "us"
            ),
        ).filter(pl.col("mo").is_not_null())
        if b.height:
            months = b.get_column("mo")
            prev = months.shift(1)
            if ctx.last_month is not None:
                prev = prev.fill_null(ctx.last_month)
            d = months - prev
            step = pl.select(
                pl.when(d < -6).then(1).when(d > 6).then(-1).otherwise(0).fill_null(0)
            ).to_series()
            years = step.cum_sum() + ctx.year
            ctx.year = int(years[-1])
            ctx.last_month = int(months[-1])
            b = b.with_columns(years.cast(pl.Int64).alias("y"), pl.lit(None, dtype=pl.Int64).alias("off"))
            pieces.append(b.select("idx", "y", "mo", "d", "h", "mi", "s", "us", "off"))
    exact = [_tai64n_ts(tai)] if tai.height else []
    if not pieces:
        if exact:
            return frame.select("idx").join(exact[0], on="idx", how="left", maintain_order="left")
        return frame.select("idx", pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts"))
    p = pl.concat(pieces)
    p = p.with_columns(_naive_datetime().alias("naive"))
    local = (
        p.filter(pl.col("off").is_null() & pl.col("naive").is_not_null()).select("y", "mo", "d", "h").unique()
    )
    offs = [syslog.local_offset_seconds(ctx.tz, y, mo, d, h) for y, mo, d, h in local.iter_rows()]
    local = local.with_columns(pl.Series("loff", offs, dtype=pl.Int64))
    p = p.join(local, on=["y", "mo", "d", "h"], how="left")
    offset = pl.coalesce(pl.col("off"), pl.col("loff"))
    p = p.select(
        "idx",
        (pl.col("naive") - pl.duration(seconds=offset)).dt.replace_time_zone("UTC").alias("ts"),
    )
    p = pl.concat([p, *exact])
    return frame.select("idx").join(p, on="idx", how="left", maintain_order="left")


def _tai64n_ts(tai: pl.DataFrame) -> pl.DataFrame:
    """UTC of TAI64N labels, as :func:`syslog.tai64n_utc` (2^62 + 10 s off, to the us)."""
    raw = pl.col("ts_raw")
    secs = raw.str.slice(1, 16).str.to_integer(base=16, strict=False) - syslog.TAI64_EPOCH
    nanos = raw.str.slice(17, 8).str.to_integer(base=16, strict=False)
    ok = (
        raw.str.contains(f"^{syslog.TS_TAI64N}$")
        & secs.is_between(syslog.TS_MIN_SECONDS, syslog.TS_END_SECONDS - 1)
        & (nanos < 1_000_000_000)
    ).fill_null(False)
    micros = pl.when(ok).then(secs * 1_000_000 + nanos // 1000)
    return tai.select("idx", micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("ts"))


def _naive_datetime() -> pl.Expr:
    """The wall-clock datetime of columns y, mo, d, h, mi, s, us; null where they are no date.

    Built from the integers directly (ten times faster than formatting and parsing text);
    ``pl.datetime`` raises on an impossible date, so such rows get placeholder parts first.
    """
    y, mo, d = pl.col("y"), pl.col("mo"), pl.col("d")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days_in_month = (
        pl.when(mo == 2).then(28 + leap.cast(pl.Int64)).when(mo.is_in([4, 6, 9, 11])).then(30).otherwise(31)
    )
    valid = (
        y.is_between(1900, 2999)
        & mo.is_between(1, 12)
        & d.is_between(1, days_in_month)
        & pl.col("h").is_between(0, 23)
        & pl.col("mi").is_between(0, 59)
        & pl.col("s").is_between(0, 59)
        & pl.col("us").is_between(0, 999_999)
    ).fill_null(False)

    def part(name: str, placeholder: int) -> pl.Expr:
        return pl.when(valid).then(pl.col(name)).otherwise(placeholder)

    stamp = pl.datetime(
        part("y", 2000),
        part("mo", 1),
        part("d", 1),
        part("h", 0),
        part("mi", 0),
        part("s", 0),
        part("us", 0),
        time_unit="us",
    )
    return pl.when(valid).then(stamp)


def _redact_fast(out: pl.DataFrame) -> tuple[list[tuple[int, str, str]], pl.DataFrame]:
    """Secrets of a parsed batch: Python (``secrets.redact_row``) only on the candidate rows.

    A row is a candidate when its kind's payload may be a secret (a client's AUTH or bare
    base64 dialogue line, a debug line whose pattern captured one), or its message matches
    ``secrets.TRIGGER`` (one pass of Rust's regex over the batch).
    """
    cols = [c for c in secrets.REDACTED_COLUMNS if c in out.columns]
    extra = [c for c in ("direction", "payload") if c not in out.columns]
    if extra:
        out = out.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in extra])
    message = pl.col("message")
    payload, direction, kind = pl.col("payload"), pl.col("direction"), pl.col("kind")
    # a dialogue line's payload is a secret only as the client's AUTH or a bare base64 word
    # (redact.secret_in_payload); the rest of the dialogue (EHLO, MAIL, the server's replies)
    # goes to Python only if its text looks like a credential, as any line does
    client_said = (
        pl.when(kind == "smtp_client_dialogue")
        .then(direction == ">")
        .otherwise(direction.is_in(["Read", "<"]))
    )
    dialogue = kind.is_in(sorted(redact.DIALOGUE_KINDS))
    may_hold = client_said & payload.str.contains(r"^(?:(?i:auth) +[^ ?]+ +[^ ?]|[A-Za-z0-9+/]+=*(?:\?\?)?$)")
    known = kind.is_in(sorted(redact.SECRET_KINDS)) & payload.is_not_null() & (~dialogue | may_hold)
    names = sorted({"idx", "kind", "direction", "payload", "line_no", *cols})
    # one pass of the trigger over every line (its literal prefilter does what an
    # Aho-Corasick pass would); its (?i) folds Unicode as Python's re does, except for the
    # two Turkish i (Python folds them to i, Rust's regex does not): those lines go to Python.
    # Only the columns Python needs are copied: the batch has a hundred.
    turkish_i = message.str.contains("[\u0130\u0131]")
    candidate = known | message.str.contains(secrets.TRIGGER) | turkish_i
    sub = out.select(names).filter(candidate.fill_null(False))
    found: list[tuple[int, str, str]] = []
    if sub.height == 0:
        return found, pl.DataFrame()
    upd: dict[str, list[Any]] = {c: [] for c in ["idx", *cols, "secret_length"]}
    for row in sub.iter_rows(named=True):
        taken = secrets.redact_row(row)
        if not taken:
            continue
        for c in upd:
            upd[c].append(row[c])
        found.extend((row["line_no"], row["kind"], s) for s in taken)
    schema = {"idx": pl.UInt32, **{c: pl.String for c in cols}, "secret_length": pl.Int32}
    return found, pl.DataFrame(upd, schema=schema)


_POLARS_OF = {
    pa.string(): pl.String,
    pa.int32(): pl.Int32,
    pa.int64(): pl.Int64,
    pa.float64(): pl.Float64,
    pa.uint8(): pl.UInt8,
    pa.timestamp("us", tz="UTC"): pl.Datetime("us", "UTC"),
}
#: the event columns as polars types (categorical columns as plain strings)
POLARS_SCHEMA: dict[str, Any] = {c.name: _POLARS_OF[c.type] for c in COLUMNS}


def _to_frame(out: pl.DataFrame) -> pl.DataFrame:
    """Select the schema's columns in order with their types (missing ones all null)."""
    have = set(out.columns)
    return out.select(
        [
            (pl.col(name) if name in have else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in POLARS_SCHEMA.items()
        ]
    )


def _as_frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return _to_frame(frame)


_PLAIN: pa.Schema | None = None


def _plain_schema() -> pa.Schema:
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])
    return _PLAIN


def _finish_table(table: pa.Table) -> pa.Table:
    """Dictionary-encode the categorical columns (the schema pandas gets)."""
    arrays = []
    for c, col in zip(COLUMNS, table.columns, strict=True):
        col = col.cast(c.type) if col.type != c.type else col
        arrays.append(col.dictionary_encode() if c.categorical else col)
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


# the polars path's pieces the native core reuses (events.native)
COUNTER_TOTALS = _COUNTER_TOTALS
reference_line = _reference_line
ISO_PARTS = _ISO_PARTS
redact_fast = _redact_fast
to_frame = _to_frame
