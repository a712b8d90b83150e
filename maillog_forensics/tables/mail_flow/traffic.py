"""Traffic per day and per hour (pflogsumm's Per-Day and Per-Hour summaries), and day × hour.

Days and hours are those of the clock in ``tz`` (default UTC; pflogsumm uses the clock
the log was written in, so pass that zone to compare). Unlike pflogsumm, a day is labelled
with its own year: pflogsumm gives every day the current year (or the one before, for a
month later in the year than today), so a 2023 log's days read "Mar 14 2026".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .totals import counted

__all__ = ["TRAFFIC_COLUMNS", "day_hour", "per_day", "per_hour", "per_hour_average", "usual_day"]

#: the columns of the per-day and per-hour tables; ``rejected`` counts rejects, reject
#: warnings, holds and discards together, as pflogsumm's column does
TRAFFIC_COLUMNS = ["received", "delivered", "deferred", "bounced", "rejected"]

_COLUMN_OF = {
    "received": "received",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounced": "bounced",
    "rejected": "rejected",
    "reject_warning": "rejected",
    "held": "rejected",
    "discarded": "rejected",
}


def _traffic(flow: pd.DataFrame, *, tz: str, count_repeats: bool) -> pd.DataFrame:
    flow = counted(flow, count_repeats=count_repeats)
    rows = flow[flow["event"].isin(list(_COLUMN_OF)) & flow["ts"].notna()]
    local = pd.to_datetime(rows["ts"], utc=True).dt.tz_convert(tz)
    return pd.DataFrame(
        {
            "day": local.dt.date.to_numpy(),
            "hour": local.dt.hour.to_numpy(),
            "column": rows["event"].map(_COLUMN_OF).to_numpy(),
            "weight": rows["weight"].to_numpy(),
        }
    )


def per_day(flow: pd.DataFrame, *, tz: str = "UTC", count_repeats: bool = True) -> pd.DataFrame:
    """Messages per day: one row per day with traffic (index ``day``), :data:`TRAFFIC_COLUMNS`.

    ``deferred`` counts deferred delivery attempts, like pflogsumm's column.
    """
    t = _traffic(flow, tz=tz, count_repeats=count_repeats)
    table = t.pivot_table(index="day", columns="column", values="weight", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=TRAFFIC_COLUMNS, fill_value=0).astype("int64")
    table.columns.name = None
    return table


def per_hour(flow: pd.DataFrame, *, tz: str = "UTC", count_repeats: bool = True) -> pd.DataFrame:
    """Messages per hour of the day, summed over all days: 24 rows (index ``hour``)."""
    t = _traffic(flow, tz=tz, count_repeats=count_repeats)
    table = t.pivot_table(index="hour", columns="column", values="weight", aggfunc="sum", fill_value=0)
    table = table.reindex(index=range(24), columns=TRAFFIC_COLUMNS, fill_value=0).astype("int64")
    table.index.name = "hour"
    table.columns.name = None
    return table


def per_hour_average(hours: pd.DataFrame, days: int) -> pd.DataFrame:
    """pflogsumm's "Per-Hour Traffic Daily Average": each count over the days, rounded half up.

    Examples
    --------
    >>> h = pd.DataFrame({"received": [5, 4]}, index=pd.RangeIndex(2, name="hour"))
    >>> per_hour_average(h, 3)["received"].tolist()
    [2, 1]
    """
    if days <= 1:
        return hours.copy()
    out: pd.DataFrame = (hours / days + 0.5).apply(np.floor).astype("int64")
    return out


def day_hour(
    flow: pd.DataFrame, *, tz: str = "UTC", column: str = "received", count_repeats: bool = True
) -> pd.DataFrame:
    """A day × hour table of one traffic column (rows: days, columns: hours 0-23).

    Examples
    --------
    >>> from .lines import FLOW_COLUMNS
    >>> day_hour(pd.DataFrame(columns=FLOW_COLUMNS)).shape
    (0, 24)
    """
    t = _traffic(flow, tz=tz, count_repeats=count_repeats)
    t = t[t["column"] == column]
    table = t.pivot_table(index="day", columns="hour", values="weight", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=range(24), fill_value=0).astype("int64")
    table.columns.name = "hour"
    return table


def usual_day(days: pd.DataFrame) -> pd.DataFrame:
    """Each day beside the log's usual day: the median of each column, and the day's ratio to it.

    Adds ``<column>_vs_median`` (the day's count over the median day's; empty when the
    median is 0).

    Examples
    --------
    >>> d = pd.DataFrame({"received": [10, 10, 40]}, index=["a", "b", "c"])
    >>> usual_day(d)["received_vs_median"].tolist()
    [1.0, 1.0, 4.0]
    """
    out = days.copy()
    for col in days.columns:
        median = float(days[col].median()) if len(days) else 0.0
        out[f"{col}_vs_median"] = (days[col] / median).round(2) if median else float("nan")
    return out
