"""Writing tables out: CSV (formula-safe), JSON Lines, JSON, Parquet; terminal-safe text.

Every string that came from a log line is attacker-controlled. CSV cells that a
spreadsheet would run as a formula are prefixed with a quote; rows end in CRLF (RFC
4180), so every cell holding a CR or LF is quoted and no reader starts a row inside one;
CSV for a terminal has its control characters replaced (files keep them).
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ..common.safe_text import cell_text, csv_safe, terminal_safe

__all__ = ["cell_text", "csv_safe", "export_pieces", "export_table", "terminal_safe"]


def export_table(
    df: pd.DataFrame,
    *,
    fmt: str,
    out: str | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Write ``df`` as csv / jsonl / json / parquet to ``out`` (or standard output).

    Parameters
    ----------
    df
        The table.
    fmt
        ``csv`` (formula prefixes neutralised), ``jsonl``, ``json`` or ``parquet``
        (needs ``out``).
    out
        Output file; ``None`` writes text formats to standard output.
    """
    export_pieces([df], fmt=fmt, out=out, stdout=stdout)


def export_pieces(
    pieces: Iterable[pd.DataFrame],
    *,
    fmt: str,
    out: str | None = None,
    stdout: TextIO | None = None,
    skip_nulls: bool = False,
) -> int:
    """Write a table that comes in pieces (same columns), one piece in memory at a time.

    The output is that of :func:`export_table` on the pieces concatenated: one CSV header,
    one JSON array, one Parquet file. ``skip_nulls`` leaves empty fields out of JSON
    records (a sparse table, such as the timeline, is then much smaller). Returns the
    number of rows written.
    """
    if fmt not in ("csv", "jsonl", "json", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: use csv, jsonl, json or parquet")
    if fmt == "parquet":
        if out is None:
            raise ValueError("parquet output needs -o FILE")
        return _parquet_pieces(pieces, out)
    stream = stdout or sys.stdout
    text: TextIO = open(out, "w", encoding="utf-8", newline="") if out else stream  # noqa: SIM115
    terminal = out is None and _is_terminal(stream)
    rows = 0
    header = True
    try:
        if fmt == "json":
            text.write("[")
        for piece in pieces:
            if fmt == "csv" and header and piece.empty:
                _csv_safe_frame(piece, terminal=terminal).to_csv(
                    text, index=False, lineterminator=CSV_LINE_END
                )
                header = False
            for df in _slices(piece):
                if fmt == "csv":
                    _csv_safe_frame(df, terminal=terminal).to_csv(
                        text, index=False, header=header, lineterminator=CSV_LINE_END
                    )
                    header = False
                elif fmt == "jsonl":
                    text.write(_json_lines(df, skip_nulls=skip_nulls))
                else:
                    for rec in _json_records(df, skip_nulls=skip_nulls):
                        item = json.dumps(rec, ensure_ascii=True, default=str, indent=1).replace("\n", "\n ")
                        text.write(("," if rows else "") + "\n " + item)
                        rows += 1
                    continue
                rows += len(df)
        if fmt == "json":
            text.write("\n]\n" if rows else "]\n")
    finally:
        if out:
            text.close()
    return rows


#: RFC 4180 row end: Python's csv writer quotes a cell holding any character of the row
#: end, so with CRLF every cell with a CR or LF in it is quoted (with "\n" alone, a lone
#: CR stays bare and readers split the row there)
CSV_LINE_END = "\r\n"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _csv_safe_frame(df: pd.DataFrame, *, terminal: bool = False) -> pd.DataFrame:
    """Cells as text a spreadsheet will not run; for a terminal, control characters as ``?``."""
    neutral = (lambda v: csv_safe(terminal_safe(v) if isinstance(v, str) else v)) if terminal else csv_safe
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object and safe[col].map(lambda v: isinstance(v, list)).any():
            safe[col] = safe[col].map(lambda v: "; ".join(map(cell_text, v)) if isinstance(v, list) else v)
        if (
            safe[col].dtype == object
            or pd.api.types.is_string_dtype(safe[col])
            or isinstance(safe[col].dtype, pd.CategoricalDtype)
        ):
            safe[col] = safe[col].astype(object).map(neutral)
    return safe


def _parquet_pieces(pieces: Iterable[pd.DataFrame], out: str) -> int:
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    try:
        for df in pieces:
            table = _arrow_piece(df)
            if schema is None:
                schema = table.schema
                writer = pq.ParquetWriter(out, schema)
            assert writer is not None
            writer.write_table(table.cast(schema))
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no piece at all: an empty file that still reads
        pd.DataFrame().to_parquet(out, index=False)
    return rows


def _arrow_piece(df: pd.DataFrame) -> pa.Table:
    """A piece as Arrow, as ``DataFrame.to_parquet`` would write it (pandas metadata kept).

    Pieces carry their own categories, or none at all (a dictionary of nulls): categorical
    columns become ``dictionary<int32, string>`` in every piece, so all pieces share one schema.
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields, columns = [], []
    for f, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(f.type):
            if pa.types.is_null(f.type.value_type):
                values = pa.chunked_array([pa.nulls(len(col), pa.string())])
            else:
                values = col.cast(f.type.value_type).cast(pa.string())
            col = values.dictionary_encode()  # dictionary<int32, string>
            f = f.with_type(col.type)
        fields.append(f)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


#: rows converted to text at a time: bounds the memory of an export of a million-row piece
SLICE_ROWS = 100_000


def _slices(df: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(df), SLICE_ROWS):
        yield df.iloc[start : start + SLICE_ROWS]


def _json_lines(df: pd.DataFrame, *, skip_nulls: bool) -> str:
    """JSON Lines of ``df``: ISO times in µs, ASCII only, empty fields left out if asked."""
    if (
        skip_nulls
        and 0 < len(df.columns) <= _MAX_SPARSE_COLUMNS
        and all(_plain_json(df[c]) for c in df.columns)
    ):
        return _sparse_json_lines(df)
    return "".join(
        json.dumps(rec, ensure_ascii=True, default=str) + "\n"
        for rec in _json_records(df, skip_nulls=skip_nulls)
    )


#: columns the sparse writer handles: one bit each in an int64 per row
_MAX_SPARSE_COLUMNS = 63


def _plain_json(col: pd.Series) -> bool:
    """Text, integers or booleans: what polars writes to JSON as ``json.dumps`` would."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return pd.api.types.is_string_dtype(categories.dtype) and all(isinstance(c, str) for c in categories)
    if pd.api.types.is_object_dtype(dtype):
        return not col.map(lambda v: not isinstance(v, str | None)).any()
    return (
        pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _sparse_json_lines(df: pd.DataFrame) -> str:
    """JSON Lines without the empty fields, in row order (polars' writer: 8x pandas').

    Rows are grouped by which fields they have (the rows of a line kind share them); each
    group is written with just those columns, and the lines are put back in row order.
    """
    frame = pl.from_pandas(df.reset_index(drop=True))
    names = frame.columns
    has = frame.select(
        pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int64) * (1 << i) for i, c in enumerate(names)])
    ).to_series()  # a bit per column
    masks = has.to_numpy()
    lines = ["{}"] * frame.height
    for mask in has.unique(maintain_order=True).to_list():
        keep = [c for i, c in enumerate(names) if int(mask) >> i & 1]
        if not keep:
            continue
        rows = np.flatnonzero(masks == mask)
        text = frame.select(keep)[rows].write_ndjson()
        for row, line in zip(rows.tolist(), text.split("\n"), strict=False):
            lines[row] = line
    out = "\n".join(lines) + "\n" if lines else ""
    return out if out.isascii() and "\x7f" not in out else _NOT_PRINTABLE_ASCII.sub(_json_escape, out)


#: what ``json.dumps(ensure_ascii=True)`` escapes beyond the control characters (DEL too)
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x00-\x7e]")


def _json_escape(match: re.Match[str]) -> str:
    """``\\uXXXX`` of a character (a surrogate pair above U+FFFF), as ``ensure_ascii`` writes."""
    code = ord(match.group())
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _json_records(df: pd.DataFrame, *, skip_nulls: bool = False) -> list[dict[str, Any]]:
    buf = io.StringIO()
    df.to_json(buf, orient="records", date_format="iso", date_unit="us", force_ascii=True)
    records: list[dict[str, Any]] = json.loads(buf.getvalue())
    if skip_nulls:
        return [{k: v for k, v in rec.items() if v is not None} for rec in records]
    return records


def ensure_parent(path: str) -> None:
    """Create the folder of an output file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
