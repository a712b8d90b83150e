"""Figures for the notebooks and reports (each returns a ``Figure``; nothing is shown)."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from ..common.safe_text import visible
from ..detection.actors import ActorMap
from ..tables.auth import FAILED_OUTCOMES

__all__ = [
    "NO_FINDING",
    "OTHER_ATTACKERS",
    "actor_colors",
    "attempts_over_time",
    "kinds_bar",
    "lines_over_time",
    "plain_label",
    "png",
    "session_spans",
    "usernames_heatmap",
]

#: distinct colours for the actors, in report order (tab10 without its grey: nine that no
#: reader confuses); later actors share one grey
_ACTOR_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
]
OTHER_ATTACKERS = "other attackers"
#: failed logins of addresses with no finding (users who mistyped, a stray try)
NO_FINDING = "no finding (e.g. users who mistyped)"
_GREYS = {OTHER_ATTACKERS: "#555555", NO_FINDING: "#c7c7c7"}


def plain_label(text: object) -> str:
    r"""Log text as a matplotlib label: control characters visible, ``$`` never mathtext.

    >>> print(plain_label(r"$\frac{$"))
    \$\frac{\$
    """
    return visible(str(text)).replace("$", r"\$")


def actor_colors(order: list[str]) -> dict[str, str]:
    """One colour per actor (the first nine of ``order``), the same in every figure.

    Actors past the ninth, and the two groups of the rest, map to greys.
    """
    colors = {actor: _ACTOR_PALETTE[k] for k, actor in enumerate(order[: len(_ACTOR_PALETTE)])}
    colors.update({actor: _GREYS[OTHER_ATTACKERS] for actor in order[len(_ACTOR_PALETTE) :]})
    colors.update(_GREYS)
    return colors


def _time_axis(ax: Any) -> None:
    """Readable time ticks: whole clock times (``19:09:30``, not ``30``), the date once."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    # tick formats by resolution: years, months, days, hours, minutes, seconds
    formats = ["%Y", "%b %Y", "%b %d", "%H:%M", "%H:%M", "%H:%M:%S"]
    zero = ["", "%Y", "%b %Y", "%b %d", "%b %d %H:%M", "%H:%M:%S"]
    formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator,
        formats=formats,
        zero_formats=zero,
        offset_formats=["", "%Y", "%b %Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def _group_of(address: str, actors: ActorMap) -> str:
    """The figure group of a failing address: its actor (one of the nine), or a grey group."""
    actor = actors.label(address)
    if actor is None:
        return NO_FINDING
    return actor if actor in actors.order[: len(_ACTOR_PALETTE)] else OTHER_ATTACKERS


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
    actors: ActorMap | None = None,
) -> Figure:
    """Failed and successful logins over time, failures stacked by actor (or top addresses).

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
    actors
        ``report.actor_map(case)``: failures are stacked by actor, each in its colour of
        every figure (networks as one), failures of addresses with no finding in light grey;
        without it, by the ``top`` addresses.
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
    if actors is not None:
        groups = {ip: _group_of(ip, actors) for ip in who[failed].unique().tolist()}
        label = who.map(groups).fillna(NO_FINDING)
        colors = actor_colors(actors.order)
    else:
        leaders = who[failed].value_counts().head(top).index
        label = who.where(who.isin(leaders), "other")
        colors = {}
    frame = pd.DataFrame({"ts": ts, "who": label, "failed": failed.to_numpy()})
    counts = (
        frame[frame["failed"]].groupby([pd.Grouper(key="ts", freq=freq), "who"]).size().unstack(fill_value=0)
    )
    if not counts.empty:
        if actors is not None:  # the actors' order, then the grey groups
            rank = {v: k for k, v in enumerate([*actors.order, OTHER_ATTACKERS, NO_FINDING])}
            counts = counts[sorted(counts.columns, key=lambda c: rank.get(str(c), len(rank)))]
        bottom = None
        width: Any = pd.Timedelta(freq) * 0.9  # matplotlib takes timedelta widths on date axes
        palette = _ACTOR_PALETTE
        for k, col in enumerate(counts.columns):
            color = colors.get(str(col)) or ("0.6" if col == "other" else palette[k % len(palette)])
            legend = plain_label(f"failed: {col}")
            ax.bar(
                counts.index, counts[col], width=width, bottom=bottom, label=legend, align="edge", color=color
            )
            bottom = counts[col] if bottom is None else bottom + counts[col]
    ok = frame[~frame["failed"]]
    if len(ok):
        # on top of the bars and of the mail crosses, large enough to see
        ax.scatter(
            ok["ts"],
            [0] * len(ok),
            marker="^",
            s=120,
            color="black",
            edgecolors="white",
            linewidths=0.8,
            zorder=7,
            label="successful login",
            clip_on=False,
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
    _time_axis(ax)
    ax.set_xlabel(f"time ({tz})")
    ax.set_ylabel(f"attempts per {freq}")
    ax.set_ylim(bottom=0)
    if lanes and attacks is not None:
        _attack_lanes(lane_ax, attacks, tz=tz, limit=max_attacks, actors=actors)
    else:
        ax.set_title("Authentication attempts")
    # outside the axes: inside it hid the busiest bins
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    return fig


def _attack_lanes(ax: Any, attacks: pd.DataFrame, *, tz: str, limit: int, actors: ActorMap | None) -> None:
    """One lane per attack (the busiest ``limit``): a bar from its start to its end, in the
    colour of its actor."""
    top = attacks.sort_values("failed logins", ascending=False, kind="stable").head(limit)
    start = _local(pd.to_datetime(top["start (UTC)"], utc=True).to_numpy(), tz)
    end = _local(pd.to_datetime(top["end (UTC)"], utc=True).to_numpy(), tz)
    colors = actor_colors(actors.order) if actors is not None else {}
    labels = []
    # the plain name of the attack where the table has it ("Password guessing from one address")
    names = top["attack"] if "attack" in top else top["kind"].astype(str).str.replace("_", " ")
    for k, (source, kind, t0, t1) in enumerate(zip(top["source"], names, start, end, strict=True)):
        if t1 <= t0:  # a one-moment attack still gets a visible bar
            t1 = t0 + pd.Timedelta(seconds=1)
        actor = (actors.label(str(source)) or str(source)) if actors is not None else str(source)
        color = colors.get(actor, _ACTOR_PALETTE[k % len(_ACTOR_PALETTE)])
        ax.barh(k, t1 - t0, left=t0, height=0.6, color=color, gid="attack-span")
        labels.append(plain_label(f"{source}: {kind}"))
    ax.set_yticks(range(len(labels)), labels, fontsize="x-small")
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_title("Attacks (start to end) and authentication attempts")
    ax.grid(axis="x", alpha=0.3)


def session_spans(
    sessions: pd.DataFrame,
    attempts: pd.DataFrame,
    *,
    top: int = 12,
    tz: str = "UTC",
    actors: ActorMap | None = None,
) -> Figure:
    """Session start–end bars for the most active attacking addresses; successful logins marked.

    With ``actors`` (``report.actor_map(case)``) only attackers' addresses are drawn, each in
    its actor's colour, and each label names its network actor.
    """
    fig = Figure(figsize=(10, 0.45 * top + 1.5), layout="constrained")
    ax = fig.add_subplot()
    failed = attempts[attempts["outcome"].isin(list(FAILED_OUTCOMES))]
    failing = failed["client_ip"].dropna().astype(str)
    if actors is not None:
        failing = failing[failing.map(lambda ip: actors.label(ip) is not None)]
    leaders = list(failing.value_counts().head(top).index)
    colors = actor_colors(actors.order) if actors is not None else {}
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
                color=colors.get(_group_of(ip, actors), "tab:red") if actors is not None else "tab:red",
                alpha=0.75,
            )
        wins = _local(ok.loc[ok["client_ip"].astype(str) == ip, "ts"].to_numpy(), tz)
        ax.scatter(wins, [y] * len(wins), marker="^", s=110, color="black", edgecolors="white", zorder=7)
    names = [
        ip if actors is None or actors.label(ip) in (ip, None) else f"{ip} ({actors.label(ip)})"
        for ip in leaders
    ]
    ax.set_yticks(range(len(leaders)), [plain_label(n) for n in names])
    ax.invert_yaxis()
    _time_axis(ax)
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
    if a.empty:  # a line of text, not a page of white
        fig = Figure(figsize=(10, 0.6), layout="constrained")
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no failed logins with a user name in the logs", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title("Failed logins per address and user name")
        return fig
    fig = Figure(figsize=(10, 0.35 * addresses + 2.5), layout="constrained")
    ax = fig.add_subplot()
    top_users = a["username"].astype(str).value_counts().head(users).index
    top_ips = a["client_ip"].astype(str).value_counts().head(addresses).index
    grid = (
        a[a["username"].astype(str).isin(top_users) & a["client_ip"].astype(str).isin(top_ips)]
        .assign(u=lambda d: d["username"].astype(str), ip=lambda d: d["client_ip"].astype(str))
        .pivot_table(index="ip", columns="u", values="outcome", aggfunc="size", fill_value=0)
        .reindex(index=top_ips, columns=top_users, fill_value=0)
    )
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds")
    ax.set_xticks(
        range(len(grid.columns)), [plain_label(str(c)[:28]) for c in grid.columns], rotation=60, ha="right"
    )
    ax.set_yticks(range(len(grid.index)), [plain_label(ip) for ip in grid.index])
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
    ax.set_ylim(bottom=0)  # a gap is a flat line at zero, on the axis
    _time_axis(ax)
    ax.set_xlabel(f"time ({tz})")
    ax.set_ylabel(f"lines per {freq}")
    ax.set_title("Log coverage (flat zero = a gap)")
    return fig
