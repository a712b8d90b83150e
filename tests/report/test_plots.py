"""Figures: labelled axes in the display zone, markers where they belong, no crash when empty."""

from __future__ import annotations

import pandas as pd

from maillog_forensics.report.plots import (
    attempts_over_time,
    kinds_bar,
    lines_over_time,
    png,
    session_spans,
    usernames_heatmap,
)

ATTEMPTS = pd.DataFrame(
    {
        "ts": pd.to_datetime(["2026-07-01 10:00:00", "2026-07-01 10:00:05", "2026-07-01 10:03:00"], utc=True),
        "client_ip": ["192.0.2.1", "192.0.2.1", "192.0.2.1"],
        "outcome": ["failed", "failed", "succeeded"],
        "username": ["alice", "bob", "alice"],
    }
)


def test_attempts_over_time_zone_and_markers() -> None:
    mail = pd.Series(pd.to_datetime(["2026-07-01 10:04:00"], utc=True))
    fig = attempts_over_time(ATTEMPTS, tz="Europe/Berlin", mail=mail)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (Europe/Berlin)" and ax.get_ylabel().startswith("attempts per")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "successful login" in labels and "mail sent by a compromised account" in labels
    assert any(lbl.startswith("failed: 192.0.2.1") for lbl in labels)
    assert png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_attack_spans_share_the_time_axis_in_the_display_zone() -> None:
    import matplotlib.dates as mdates

    attacks = pd.DataFrame(
        {
            "attack": ["Password guessing", "Guessing from a network", "Failed logins"],
            "kind": ["brute_force_ip", "brute_force_network", "auth_failures"],
            "source": ["192.0.2.1", "198.51.100.0/24", "203.0.113.9"],
            "start (UTC)": pd.to_datetime(
                ["2026-07-01 10:00", "2026-07-01 10:01", "2026-07-01 10:02"], utc=True
            ),
            "end (UTC)": pd.to_datetime(
                ["2026-07-01 10:00:05", "2026-07-01 10:02:00", "2026-07-01 10:02:00"], utc=True
            ),
            "failed logins": [2, 40, 1],
        }
    )
    fig = attempts_over_time(ATTEMPTS, tz="Europe/Berlin", attacks=attacks, max_attacks=2)
    lanes, ax = fig.axes
    assert ax.get_xlabel() == "time (Europe/Berlin)"
    spans = [p for p in lanes.patches if p.get_gid() == "attack-span"]
    assert len(spans) == 2  # the two with the most attempts, busiest first
    names = [t.get_text() for t in lanes.get_yticklabels()]
    # each lane by its plain name, as the attack table calls it
    assert names == ["198.51.100.0/24: Guessing from a network", "192.0.2.1: Password guessing"]
    # the /24's bar runs 12:01-12:02 Berlin time (UTC+2) on the shared axis
    first = spans[0]
    left = mdates.num2date(first.get_x()).replace(tzinfo=None)
    right = mdates.num2date(first.get_x() + first.get_width()).replace(tzinfo=None)
    assert (left, right) == (
        pd.Timestamp("2026-07-01 12:01").to_pydatetime(),
        pd.Timestamp("2026-07-01 12:02").to_pydatetime(),
    )
    assert png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_other_figures_and_empty_inputs() -> None:
    sessions = pd.DataFrame(
        {
            "client_ip": ["192.0.2.1"],
            "start": ATTEMPTS["ts"][:1].to_numpy(),
            "end": ATTEMPTS["ts"][1:2].to_numpy(),
        }
    )
    assert session_spans(sessions, ATTEMPTS, tz="UTC").axes[0].get_xlabel() == "time (UTC)"
    assert usernames_heatmap(ATTEMPTS).axes[0].get_xlabel() == "user name"
    assert kinds_bar({"connect": 10, "disconnect": 9}).axes[0].get_xlabel().startswith("lines")
    assert (
        lines_over_time(pd.DataFrame({"ts": ATTEMPTS["ts"]}), tz="UTC").axes[0].get_xlabel() == "time (UTC)"
    )
    empty = ATTEMPTS.iloc[:0]
    for fig in (attempts_over_time(empty), usernames_heatmap(empty)):
        assert not fig.axes[0].axison and len(png(fig)) > 1000
    # nothing to draw is a line of text, not a page of white
    assert usernames_heatmap(empty).get_size_inches()[1] < 1


def test_figure_is_a_png_for_reports_and_a_zoomable_canvas_in_jupyterlab() -> None:
    from maillog_forensics.report import figure

    static = figure(attempts_over_time(ATTEMPTS))
    assert static.data[:8] == b"\x89PNG\r\n\x1a\n"
    live = figure(attempts_over_time(ATTEMPTS), interactive=True)
    bundle = live._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle


def _bar_colors(fig: object) -> dict[str, object]:
    """Legend label → face colour of the stacked bars of ``attempts_over_time``."""
    import matplotlib.colors as mcolors

    ax = fig.axes[-1]  # type: ignore[attr-defined]
    out = {}
    for container in ax.containers:
        label = container.get_label()
        if label.startswith("failed: "):
            out[label.removeprefix("failed: ")] = mcolors.to_hex(container.patches[0].get_facecolor())
    return out


def test_one_colour_per_actor_in_every_figure_and_users_are_not_attackers() -> None:
    import matplotlib.colors as mcolors

    from maillog_forensics.detection.actors import ActorMap
    from maillog_forensics.report.plots import NO_FINDING, actor_colors

    t = pd.Timestamp("2026-07-01 10:00:00", tz="UTC")
    ips = ["192.0.2.1"] * 6 + ["198.51.100.7", "198.51.100.8"] * 3 + ["203.0.113.5", "203.0.113.5"]
    attempts = pd.DataFrame(
        {
            "ts": [t + pd.Timedelta(seconds=5 * k) for k in range(len(ips))],
            "client_ip": ips,
            "outcome": ["failed"] * (len(ips) - 1) + ["succeeded"],
            "username": ["alice"] * len(ips),
        }
    )
    actors = ActorMap(
        actor_of={
            "192.0.2.1": "192.0.2.1",
            "198.51.100.7": "198.51.100.0/24",
            "198.51.100.8": "198.51.100.0/24",
        },
        order=["198.51.100.0/24", "192.0.2.1"],
    )
    colors = actor_colors(actors.order)
    bars = _bar_colors(attempts_over_time(attempts, actors=actors))
    # the network is one group, not its addresses; the user's mistyped password is grey
    assert set(bars) == {"198.51.100.0/24", "192.0.2.1", NO_FINDING}
    assert bars == {k: colors[k] for k in bars}
    sessions = pd.DataFrame(
        {
            "client_ip": ["192.0.2.1", "198.51.100.7", "203.0.113.5"],
            "start": [t, t, t],
            "end": [t + pd.Timedelta(seconds=30)] * 3,
        }
    )
    spans = session_spans(sessions, attempts, actors=actors)
    ax = spans.axes[0]
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert "203.0.113.5" not in labels and "198.51.100.7 (198.51.100.0/24)" in labels
    faces = [mcolors.to_hex(c.get_facecolor()[0]) for c in ax.collections if len(c.get_facecolor())]
    assert colors["192.0.2.1"] in faces and colors["198.51.100.0/24"] in faces


def test_log_text_never_becomes_mathtext() -> None:
    attempts = ATTEMPTS.assign(username=["$\\frac{$", "$x$", "alice"], client_ip=["$\\frac{$"] * 3)
    png(usernames_heatmap(attempts))  # would raise a mathtext ParseSyntaxException
    png(attempts_over_time(attempts))
