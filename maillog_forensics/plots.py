"""Figures for the notebooks and reports (each returns a ``Figure``; nothing is shown)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["attempts_over_time", "png"]


def png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for ``IPython.display.Image`` and static HTML)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def attempts_over_time(attempts: pd.DataFrame, *, top: int = 5, freq: str | None = None) -> Figure:
    """Failed and successful logins over time, failures stacked by the top source addresses.

    Parameters
    ----------
    attempts
        ``auth_attempts_from_events`` output.
    top
        Addresses drawn on their own; the rest are grouped as "other".
    freq
        Bin width (pandas offset alias); default: chosen from the time span.
    """
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.add_subplot()
    a = attempts.dropna(subset=["ts"])
    if a.empty:
        ax.text(0.5, 0.5, "no authentication attempts in the logs", ha="center", va="center")
        ax.set_axis_off()
        return fig
    ts = pd.to_datetime(a["ts"], utc=True).dt.tz_localize(None)
    span = ts.max() - ts.min()
    if freq is None:
        steps = [
            (pd.Timedelta(minutes=10), "10s"),
            (pd.Timedelta(hours=3), "1min"),
            (pd.Timedelta(days=7), "1h"),
        ]
        freq = next((f for limit, f in steps if span <= limit), "1D")
    failed = a["outcome"] != "succeeded"
    who = a["client_ip"].fillna("(unknown)").astype(str).replace("", "(unknown)")
    leaders = who[failed].value_counts().head(top).index
    label = who.where(who.isin(leaders), "other")
    frame = pd.DataFrame({"ts": ts, "who": label, "failed": failed.to_numpy()})
    counts = (
        frame[frame["failed"]].groupby([pd.Grouper(key="ts", freq=freq), "who"]).size().unstack(fill_value=0)
    )
    if not counts.empty:
        bottom = None
        width: Any = pd.Timedelta(freq) * 0.9  # matplotlib takes timedelta widths on date axes
        for col in counts.columns:
            ax.bar(
                counts.index, counts[col], width=width, bottom=bottom, label=f"failed: {col}", align="edge"
            )
            bottom = counts[col] if bottom is None else bottom + counts[col]
    ok = frame[~frame["failed"]]
    if len(ok):
        ax.scatter(
            ok["ts"], [0] * len(ok), marker="^", s=80, color="black", zorder=5, label="successful login"
        )
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel(f"attempts per {freq}")
    ax.set_title("Authentication attempts")
    ax.legend(loc="upper left", fontsize="small", ncols=2)
    return fig
