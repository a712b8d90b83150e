"""What a report rests on: the files, their line kinds, unparsed lines, the time they cover."""

from __future__ import annotations

import pandas as pd

from ..events.bookkeeping import time_inference_text
from ..events.store import (
    load_events,
    source_names,
)
from .case import Case

__all__ = ["inputs_table", "kinds_table", "time_coverage", "unparsed_examples"]


def kinds_table(case: Case) -> pd.DataFrame:
    """Lines read per kind."""
    kc = case.manifest.get("kind_counts", {})
    items: list[tuple[str, int]] = sorted(((str(k), int(v)) for k, v in kc.items()), key=lambda kv: -kv[1])
    return pd.DataFrame(items, columns=["kind", "lines"])


def unparsed_examples(case: Case, *, n: int = 20) -> pd.DataFrame:
    """Lines no pattern knows, with where they are."""
    start, end = case.window
    columns = ["source_file", "line_no", "message"]
    u = load_events(case.dataset, start=start, end=end, kinds=["unparsed"], columns=columns)
    return u[columns].head(n).reset_index(drop=True)


def time_coverage(case: Case) -> pd.DataFrame:
    """First/last time stamp per input, and the longest silence."""
    rows = []
    events = case.timestamps
    for f, grp in events.groupby(events["source_file"].astype(str)):
        ts = pd.to_datetime(grp["ts"].dropna(), utc=True).sort_values()
        gap = ts.diff().max() if len(ts) > 1 else pd.Timedelta(0)
        rows.append(
            {
                "file": f,
                "first (UTC)": ts.min() if len(ts) else None,
                "last (UTC)": ts.max() if len(ts) else None,
                "longest gap": gap,
                "lines without time": int(grp["ts"].isna().sum()),
            }
        )
    return pd.DataFrame(rows)


def inputs_table(case: Case) -> pd.DataFrame:
    """The log files the report rests on, with their hashes and the time inference used."""
    rows = []
    for i in case.manifest.get("inputs", []):
        zone, year = time_inference_text(i)
        rows.append(
            {
                "file": i["path"],
                # what the evidence calls its lines (a path read again after rotation: PATH#2)
                "named in evidence": ", ".join(source_names(i)),
                "lines": i["lines"],
                "sha256": i["sha256"],
                "time zone": zone,
                "year": year,
            }
        )
    return pd.DataFrame(rows)
