"""Figures for the notebooks and reports (each returns a ``Figure``; nothing is shown)."""

from __future__ import annotations

from typing import Any

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from ..tables.auth import FAILED_OUTCOMES

__all__ = ["attempts_over_time", "kinds_bar", "lines_over_time", "png", "session_spans", "usernames_heatmap"]


def _local(values: object, tz: str) -> pd.Series:
    """UTC time stamps as naive wall-clock times of ``tz`` (what the axis shows)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        # a typed column converts as a whole (to_numpy would make a Timestamp object per row)
        return values.reset_index(drop=True).dt.tz_convert(tz).dt.tz_localize(None)
    return pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(tz).dt.tz_localize(None)


def png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for ``IPython.display.Image`` and static HTML)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def attempts_over_time(
    attempts: pd.DataFrame,
    *,
    top: int = 5,
    freq: str | None = None,
    tz: str = "UTC",
    mail: pd.Series | None = None,
    attacks: pd.DataFrame | None = None,
    max_attacks: int = 8,
) -> Figure:
    """Failed and successful logins over time, failures stacked by the top source addresses.

    Parameters
    ----------
    attempts
        ``auth_attempts_from_events`` output.
    top
        Addresses drawn on their own; the rest are grouped as "other".
    freq
        Bin width (pandas offset alias); default: chosen from the time span.
    tz
        Time zone of the axis (the data stay UTC).
    mail
        Times at which compromised accounts sent mail, marked on the same axis.
    attacks
        Attack findings to draw as spans in a lane above the attempts, sharing its time
        axis: ``report.attack_rates`` output (columns ``kind``, ``source``,
        ``start (UTC)``, ``end (UTC)``, ``failed logins``).
    max_attacks
        Draw at most this many attacks, the ones with the most failed logins.
    """
    lanes = 0 if attacks is None else min(len(attacks), max_attacks)
    fig = Figure(figsize=(12, 4.2 + 0.22 * lanes), layout="constrained")
    if lanes:
        lane_ax, ax = fig.subplots(2, 1, sharex=True, height_ratios=[0.6 + 0.22 * lanes, 4.2])
    else:
        ax = fig.add_subplot()
    a = attempts.dropna(subset=["ts"])
    if a.empty:
        ax.text(0.5, 0.5, "no authentication attempts in the logs", ha="center", va="center")
        ax.set_axis_off()
        return fig
    ts = _local(a["ts"], tz)
    ts.index = a.index
    span = ts.max() - ts.min()
    if freq is None:
        steps = [
            (pd.Timedelta(minutes=10), "10s"),
            (pd.Timedelta(hours=3), "1min"),
            (pd.Timedelta(days=7), "1h"),
        ]
        freq = next((f for limit, f in steps if span <= limit), "1D")
    failed = a["outcome"].isin(list(FAILED_OUTCOMES))
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
        palette = matplotlib.colormaps["tab20"]
        for k, col in enumerate(counts.columns):
            color = "0.6" if col == "other" else palette(k % 20)
            legend = f"failed: {col}"
            ax.bar(
                counts.index, counts[col], width=width, bottom=bottom, label=legend, align="edge", color=color
            )
            bottom = counts[col] if bottom is None else bottom + counts[col]
    ok = frame[~frame["failed"]]
    if len(ok):
        ax.scatter(
            ok["ts"], [0] * len(ok), marker="^", s=80, color="black", zorder=5, label="successful login"
        )
    if mail is not None and len(mail):
        sent = _local(mail.to_numpy(), tz)
        ax.scatter(
            sent,
            [0] * len(sent),
            marker="x",
            s=90,
            color="crimson",
            zorder=6,
            label="mail sent by a compromised account",
        )
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel(f"time ({tz})")
    ax.set_ylabel(f"attempts per {freq}")
    if lanes and attacks is not None:
        _attack_lanes(lane_ax, attacks, tz=tz, limit=max_attacks)
    else:
        ax.set_title("Authentication attempts")
    # outside the axes: inside it hid the busiest bins
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    return fig


def _attack_lanes(ax: Any, attacks: pd.DataFrame, *, tz: str, limit: int) -> None:
    """One lane per attack (the busiest ``limit``): a bar from its start to its end."""
    top = attacks.sort_values("failed logins", ascending=False, kind="stable").head(limit)
    start = _local(pd.to_datetime(top["start (UTC)"], utc=True).to_numpy(), tz)
    end = _local(pd.to_datetime(top["end (UTC)"], utc=True).to_numpy(), tz)
    palette = matplotlib.colormaps["tab10"]
    labels = []
    for k, (source, kind, t0, t1) in enumerate(zip(top["source"], top["kind"], start, end, strict=True)):
        if t1 <= t0:  # a one-moment attack still gets a visible bar
            t1 = t0 + pd.Timedelta(seconds=1)
        ax.barh(k, t1 - t0, left=t0, height=0.6, color=palette(k % 10), gid="attack-span")
        labels.append(f"{source} ({str(kind).replace('_', ' ')})")
    ax.set_yticks(range(len(labels)), labels, fontsize="x-small")
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_title("Attacks (start to end) and authentication attempts")
    ax.grid(axis="x", alpha=0.3)


def session_spans(
    sessions: pd.DataFrame, attempts: pd.DataFrame, *, top: int = 12, tz: str = "UTC"
) -> Figure:
    """Session start–end bars for the most active attacking addresses; successful logins marked."""
    fig = Figure(figsize=(10, 0.45 * top + 1.5), layout="constrained")
    ax = fig.add_subplot()
    failed = attempts[attempts["outcome"].isin(list(FAILED_OUTCOMES))]
    leaders = list(failed["client_ip"].dropna().astype(str).value_counts().head(top).index)
    if not leaders:
        ax.text(0.5, 0.5, "no failed logins", ha="center", va="center")
        ax.set_axis_off()
        return fig
    s = sessions[sessions["client_ip"].astype(str).isin(leaders)]
    ok = attempts[(attempts["outcome"] == "succeeded") & attempts["client_ip"].astype(str).isin(leaders)]
    t0 = pd.to_datetime(s["start"], utc=True).min()
    t1 = pd.to_datetime(s["end"], utc=True).max()
    merge_gap = max((t1 - t0) / 800, pd.Timedelta(seconds=1)) if len(s) else pd.Timedelta(seconds=1)
    for y, ip in enumerate(leaders):
        mine = s[s["client_ip"].astype(str) == ip].sort_values("start")
        start = _local(mine["start"].to_numpy(), tz).tolist()
        end = _local(mine["end"].to_numpy(), tz).tolist()
        # thousands of sessions would be thousands of bars: draw runs closer than merge_gap as one
        spans: list[list[Any]] = []
        for a, b in zip(start, end, strict=True):
            if spans and a - spans[-1][1] <= merge_gap:
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
        if spans:
            ax.broken_barh(
                [(a, max(b - a, pd.Timedelta(seconds=1))) for a, b in spans],
                (y - 0.3, 0.6),
                color="tab:red",
                alpha=0.6,
            )
        wins = _local(ok.loc[ok["client_ip"].astype(str) == ip, "ts"].to_numpy(), tz)
        ax.scatter(wins, [y] * len(wins), marker="^", s=90, color="black", zorder=5)
    ax.set_yticks(range(len(leaders)), leaders)
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({tz})")
    ax.set_title("SMTP sessions of the most active attacking addresses (triangle: successful login)")
    return fig


def usernames_heatmap(attempts: pd.DataFrame, *, users: int = 20, addresses: int = 15) -> Figure:
    """Failed logins per (address, user name) for the most tried names and most active addresses.

    Successful logins are left out: a user's own logins are not guessing.
    """
    a = attempts[
        attempts["outcome"].isin(list(FAILED_OUTCOMES))
        & attempts["username"].notna()
        & attempts["client_ip"].notna()
    ]
    fig = Figure(figsize=(10, 0.35 * addresses + 2.5), layout="constrained")
    ax = fig.add_subplot()
    if a.empty:
        ax.text(0.5, 0.5, "no failed logins with a user name in the logs", ha="center", va="center")
        ax.set_axis_off()
        return fig
    top_users = a["username"].astype(str).value_counts().head(users).index
    top_ips = a["client_ip"].astype(str).value_counts().head(addresses).index
    grid = (
        a[a["username"].astype(str).isin(top_users) & a["client_ip"].astype(str).isin(top_ips)]
        .assign(u=lambda d: d["username"].astype(str), ip=lambda d: d["client_ip"].astype(str))
        .pivot_table(index="ip", columns="u", values="outcome", aggfunc="size", fill_value=0)
        .reindex(index=top_ips, columns=top_users, fill_value=0)
    )
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds")
    ax.set_xticks(range(len(grid.columns)), [str(c)[:28] for c in grid.columns], rotation=60, ha="right")
    ax.set_yticks(range(len(grid.index)), list(grid.index))
    ax.set_xlabel("user name")
    ax.set_ylabel("client address")
    ax.set_title("Attempts per address and user name")
    fig.colorbar(im, ax=ax, label="attempts")
    return fig


def kinds_bar(kind_counts: dict[str, int], *, top: int = 25) -> Figure:
    """How many lines of each kind were read (log-scaled)."""
    items = sorted(kind_counts.items(), key=lambda kv: -kv[1])[:top]
    fig = Figure(figsize=(9, 0.28 * len(items) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ax.barh([k for k, _ in items], [v for _, v in items], color="tab:blue")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("lines (log scale)")
    ax.set_title("Line kinds read")
    return fig


def lines_over_time(events: pd.DataFrame, *, tz: str = "UTC") -> Figure:
    """Lines per hour: coverage of the logs, and gaps."""
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ts = _local(events["ts"].dropna(), tz)
    if ts.empty:
        ax.text(0.5, 0.5, "no time stamps", ha="center", va="center")
        ax.set_axis_off()
        return fig
    span = ts.max() - ts.min()
    freq = "1min" if span <= pd.Timedelta(hours=6) else "1h"
    counts = ts.dt.floor(freq).value_counts().sort_index()
    full = counts.reindex(pd.date_range(counts.index.min(), counts.index.max(), freq=freq), fill_value=0)
    ax.plot(full.index, full.to_numpy(), drawstyle="steps-post")
    ax.set_xlabel(f"time ({tz})")
    ax.set_ylabel(f"lines per {freq}")
    ax.set_title("Log coverage (flat zero = a gap)")
    return fig
