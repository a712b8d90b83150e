"""Tables and verdicts for people: what a report cell shows.

Everything here is HTML made from log text, so every value is escaped for HTML, marked for
MathJax to leave alone (JupyterLab typesets ``$...$`` in HTML outputs), and its control and
bidi characters are shown as escapes. Tables have no index column; times are to the second
in the display zone, named in the heading; durations read as words; an empty table says
"none".
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from ..common.safe_text import visible
from ..common.wording import duration_text

__all__ = ["NO_MATH", "duration_text", "figure", "figure_text", "preformatted", "table", "verdict"]

#: classes MathJax 2 and 3 (and so JupyterLab and nbconvert) skip when typesetting
NO_MATH = "tex2jax_ignore mathjax_ignore"


def _cell(value: Any, tz: str) -> str:
    """One cell's text (before HTML escaping)."""
    if isinstance(value, pd.Timestamp):
        if value is pd.NaT:
            return ""
        stamp = value.tz_convert(tz) if value.tzinfo is not None else value
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, pd.Timedelta):
        return duration_text(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:,.1f}".rstrip("0").rstrip(".")
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(_cell(v, tz) for v in value)
    return str(value)


def table(
    frame: pd.DataFrame,
    *,
    tz: str = "UTC",
    empty: str = "none",
    caption: str = "",
    limit: int | None = None,
    rest: str = "",
) -> Any:
    """An HTML table of ``frame`` for a report cell.

    Parameters
    ----------
    frame
        Any frame; its index is not shown.
    tz
        Display zone of time stamps; a ``(UTC)`` in a column name is replaced by this zone.
    empty
        What an empty table says.
    caption
        An optional line above the table.
    limit
        Show at most this many rows (the first ones); a line below says how many there are
        in all, and ``rest``: where to find them all.

    Returns
    -------
    IPython.display.HTML
        Escaped HTML; text cells left-aligned, numbers right-aligned.
    """
    from IPython.display import HTML

    head = f"<p class='{NO_MATH}'>{html.escape(visible(caption))}</p>" if caption else ""
    if frame.empty:
        return HTML(f"{head}<p class='{NO_MATH}'><em>{html.escape(empty)}</em></p>")  # type: ignore[no-untyped-call]
    more = ""
    if limit is not None and len(frame) > limit:
        told = f"The first {limit:,} of {len(frame):,} rows" + (f"; {rest}" if rest else "") + "."
        more = f"<p class='{NO_MATH}'><em>{html.escape(told)}</em></p>"
        frame = frame.head(limit)
    zone = f"({tz})"
    names = [str(c).replace("(UTC)", zone) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    # a time stamp or a number stays on one line
    styles = [
        "text-align:right;white-space:nowrap"
        if num
        else ("white-space:nowrap" if when else "text-align:left")
        for num, when in zip(numeric, _is_time(frame), strict=True)
    ]
    cells = [
        "".join(
            f"<td style='{style}'>{html.escape(visible(_cell(v, tz)))}</td>"
            for v, style in zip(row, styles, strict=True)
        )
        for row in frame.itertuples(index=False, name=None)
    ]
    header = "".join(f"<th style='text-align:left'>{html.escape(visible(n))}</th>" for n in names)
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    return HTML(  # type: ignore[no-untyped-call]
        f"{head}<table class='mf-table {NO_MATH}'><thead><tr>{header}</tr></thead>"
        f"<tbody>{body}</tbody></table>{more}"
    )


def _is_time(frame: pd.DataFrame) -> list[bool]:
    """Which columns hold time stamps (typed, or objects that are Timestamps)."""
    out = []
    for c in frame.columns:
        col = frame[c]
        typed = pd.api.types.is_datetime64_any_dtype(col)
        out.append(
            bool(typed or (col.dtype == object and col.map(lambda v: isinstance(v, pd.Timestamp)).any()))
        )
    return out


def verdict(text: str) -> Any:
    """The answer as HTML paragraphs: the first line in bold, list items as a list."""
    from IPython.display import HTML

    lines = [html.escape(visible(line)) for line in text.splitlines() if line.strip()]
    if not lines:
        return HTML("")  # type: ignore[no-untyped-call]
    first, rest = lines[0], lines[1:]
    items = [ln[2:] for ln in rest if ln.startswith("- ")]
    others = [ln for ln in rest if not ln.startswith("- ")]
    out = [f"<p class='mf-verdict'><strong>{first}</strong></p>"]
    if items:
        out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    out += [f"<p>{o}</p>" for o in others]
    return HTML(f"<div class='{NO_MATH}'>" + "".join(out) + "</div>")  # type: ignore[no-untyped-call]


def preformatted(text: str) -> Any:
    """Text kept as laid out (commands, blocklists), escaped, in a ``<pre>`` block."""
    from IPython.display import HTML

    return HTML(f"<pre class='{NO_MATH}'>{html.escape(visible_lines(text))}</pre>")  # type: ignore[no-untyped-call]


def visible_lines(text: str) -> str:
    """:func:`~maillog_forensics.common.safe_text.visible` of each line, the line breaks kept."""
    return "\n".join(visible(line) for line in text.split("\n"))


def figure(fig: Any, *, interactive: bool = False) -> Any:
    """A figure for a notebook cell: a static PNG (reports), or a zoomable ipympl canvas (JupyterLab)."""
    if interactive:
        import warnings

        from ipympl.backend_nbagg import (  # type: ignore[import-untyped]
            new_figure_manager_given_figure,
        )

        # ipympl 0.9/0.10 passes the canvas through to a traitlets base class, which
        # warns (DeprecationWarning) on every toolbar; the widget works regardless.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            manager = new_figure_manager_given_figure(id(fig), fig)
        return manager.canvas
    from IPython.display import Image

    from .plots import png

    return Image(data=png(fig), alt=figure_text(fig))  # type: ignore[no-untyped-call]


def figure_text(fig: Any) -> str:
    """What a figure shows, in words, for readers who cannot see it (its titles and axes)."""
    parts = [fig.get_suptitle()]
    for ax in fig.axes:
        y, x = ax.get_ylabel(), ax.get_xlabel()
        words = [ax.get_title(), f"{y} against {x}" if y and x else y or x]
        parts += [w for w in words if w]
    return visible("; ".join(dict.fromkeys(p.replace("\n", " ") for p in parts if p)) or "figure")
