"""Text from log lines made safe for the places it goes: spreadsheets, terminals, one cell.

Every string that came from a log line is attacker-controlled. These helpers are shared by
every stage that writes such text out (the ingest progress line, explain, the exports).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["cell_text", "csv_safe", "terminal_safe", "visible"]

_FORMULA_START = ("=", "+", "-", "@")
_SPACE_START = ("\t", "\r", "\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def csv_safe(value: Any) -> Any:
    """Neutralise a CSV cell that a spreadsheet would treat as a formula.

    A cell starting with ``=``, ``+``, ``-`` or ``@``, also after leading white space
    (spreadsheets skip it, CR and LF included), or with a tab, CR or LF, gets a ``'`` in
    front. The writer must quote cells holding CR or LF (``report.export.export_pieces``
    does), or a reader starts a new row inside the cell.

    >>> csv_safe('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> csv_safe("\\r\\n =2+2")
    "'\\r\\n =2+2"
    >>> csv_safe("alice@example.com")
    'alice@example.com'
    """
    if isinstance(value, str) and (
        value.startswith(_SPACE_START) or value.lstrip().startswith(_FORMULA_START)
    ):
        return "'" + value
    return value


def terminal_safe(text: str) -> str:
    """Replace control characters (escape sequences, bidi overrides) with ``?``."""
    return _CONTROL.sub("?", text)


# controls, bidi and invisible format characters, line and paragraph separators, BOM
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """Show control, bidi and invisible characters as escapes (``\\x1b``, ``\\u202e``).

    For text that people read in a report: an override cannot reorder what follows it and a
    terminal escape is seen, not obeyed.

    >>> print(visible("evil\\u202etxt.exe\\x1b[31m"))
    evil\\u202etxt.exe\\x1b[31m
    """
    return _INVISIBLE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cell_text(v: Any) -> str:
    """A list element as CSV text: evidence ``{source_file, line_no}`` as ``file:line``."""
    if isinstance(v, dict) and "source_file" in v and "line_no" in v:
        return f"{v['source_file']}:{v['line_no']}"
    return str(v)
