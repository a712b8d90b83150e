"""Mail-flow figures: traffic per hour, rejects by reason, a day × hour heat map.

Reasons and other text come from the logs (attacker-controlled): every label goes through
:func:`~.plots.plain_label`, so no ``$`` becomes mathtext.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .plots import plain_label

__all__ = ["day_hour_heatmap", "rejects_bar", "traffic_per_hour"]

_COLORS = {
    "received": "tab:blue",
    "delivered": "tab:green",
    "rejected": "tab:red",
    "deferred": "tab:orange",
    "bounced": "tab:purple",
}


def _empty(fig: Figure, text: str) -> Figure:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    return fig


def traffic_per_hour(
    hours: pd.DataFrame, *, tz: str = "UTC", title: str = "Traffic per hour of day"
) -> Figure:
    """Received, delivered, rejected, deferred and bounced per hour (0-23), one line each."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    if hours.to_numpy().sum() == 0:
        return _empty(fig, "no mail traffic in the logs")
    ax = fig.add_subplot()
    for col, color in _COLORS.items():
        if col in hours.columns:
            ax.plot(hours.index, hours[col].to_numpy(), marker="o", ms=3, color=color, label=col)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)])
    ax.set_xlim(-0.5, 23.5)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"hour of day ({tz})")
    ax.set_ylabel("messages")
    ax.set_title(title)
    ax.legend(ncols=5, fontsize="small", loc="upper left")
    return fig


def rejects_bar(by_reason: pd.DataFrame, *, top: int = 12) -> Figure:
    """Rejects per reason (the ``top`` most frequent), with the SMTP stage."""
    rows = by_reason.head(top)
    fig = Figure(figsize=(10, 0.35 * max(len(rows), 1) + 1.4), layout="constrained")
    if rows.empty:
        return _empty(fig, "no rejects in the logs")
    ax = fig.add_subplot()
    labels = [plain_label(f"{s}: {r}"[:80]) for s, r in zip(rows["stage"], rows["reason"], strict=True)]
    ax.barh(range(len(rows)), rows["count"].to_numpy(), color="tab:red")
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("rejects")
    ax.set_title("Rejects by reason")
    return fig


def day_hour_heatmap(grid: pd.DataFrame, *, tz: str = "UTC", what: str = "received") -> Figure:
    """Messages per day (rows) and hour (columns)."""
    fig = Figure(figsize=(10, 0.4 * max(len(grid), 1) + 1.8), layout="constrained")
    if grid.empty:
        return _empty(fig, f"no {what} messages in the logs")
    ax = fig.add_subplot()
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Blues", vmin=0)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_yticks(range(len(grid.index)), [plain_label(str(d)) for d in grid.index])
    ax.set_xlabel(f"hour ({tz})")
    ax.set_ylabel("day")
    ax.set_title(f"Messages {what} per day and hour")
    fig.colorbar(im, ax=ax, label="messages")
    return fig
