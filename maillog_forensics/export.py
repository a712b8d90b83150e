"""Writing tables out: CSV (formula-safe), JSON Lines, JSON, Parquet; terminal-safe text.

Every string that came from a log line is attacker-controlled. CSV cells that a
spreadsheet would run as a formula are prefixed with a quote; text for a terminal has
control characters replaced.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

__all__ = ["csv_safe", "export_table", "terminal_safe"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def csv_safe(value: Any) -> Any:
    """Neutralise a CSV cell that a spreadsheet would treat as a formula.

    >>> csv_safe('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> csv_safe("alice@example.com")
    'alice@example.com'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences, bidi overrides) with ``?``."""
    return _CONTROL.sub("?", text)


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
    if fmt == "parquet":
        if out is None:
            raise ValueError("parquet output needs -o FILE")
        df.to_parquet(out, index=False)
        return
    stream = stdout or sys.stdout
    text: TextIO = open(out, "w", encoding="utf-8", newline="") if out else stream  # noqa: SIM115
    try:
        if fmt == "csv":
            safe = df.copy()
            for col in safe.columns:
                if safe[col].dtype == object and safe[col].map(lambda v: isinstance(v, list)).any():
                    safe[col] = safe[col].map(
                        lambda v: "; ".join(map(_cell_text, v)) if isinstance(v, list) else v
                    )
                if (
                    safe[col].dtype == object
                    or pd.api.types.is_string_dtype(safe[col])
                    or isinstance(safe[col].dtype, pd.CategoricalDtype)
                ):
                    safe[col] = safe[col].astype(object).map(csv_safe)
            safe.to_csv(text, index=False)
        elif fmt in ("jsonl", "json"):
            records = _json_records(df)
            if fmt == "jsonl":
                for rec in records:
                    text.write(json.dumps(rec, ensure_ascii=True, default=str) + "\n")
            else:
                json.dump(records, text, ensure_ascii=True, default=str, indent=1)
                text.write("\n")
        else:
            raise ValueError(f"unknown format {fmt!r}: use csv, jsonl, json or parquet")
    finally:
        if out:
            text.close()


def _cell_text(v: Any) -> str:
    """A list element as CSV text: evidence ``{source_file, line_no}`` as ``file:line``."""
    if isinstance(v, dict) and "source_file" in v and "line_no" in v:
        return f"{v['source_file']}:{v['line_no']}"
    return str(v)


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    buf = io.StringIO()
    df.to_json(buf, orient="records", date_format="iso", date_unit="us", force_ascii=True)
    records: list[dict[str, Any]] = json.loads(buf.getvalue())
    return records


def ensure_parent(path: str) -> None:
    """Create the folder of an output file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
