"""The findings for reading, and the log lines each rests on (the evidence appendix)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..detection.detect import SEVERITIES
from ..detection.rows import KIND_NAMES
from ..events.store import (
    event_lines,
)
from .case import Case
from .log_lines import LINE_COLUMNS, line_text

__all__ = ["evidence_appendix", "findings_table"]


def findings_table(case: Case, *, min_severity: str = "low") -> pd.DataFrame:
    """Findings at or above a severity, for reading: the kind by its plain name, its code beside."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = case.findings[case.findings["severity"].map(rank) >= rank[min_severity]]
    named = f["kind"].map(lambda k: f"{KIND_NAMES.get(k, k)} ({k})")
    return pd.DataFrame(
        {
            "severity": f["severity"],
            "finding": named,
            "what the logs show": f["summary"],
            "what to do": f["action"],
            "first seen (UTC)": f["first_seen"],
            "last seen (UTC)": f["last_seen"],
            "count": f["count"],
        }
    ).reset_index(drop=True)


def evidence_appendix(
    case: Case, *, per_finding: int = 5, min_severity: str = "low", findings: int | None = None
) -> pd.DataFrame:
    """The log lines each finding rests on, as stored, with their ``file:line``.

    Parameters
    ----------
    case
        The case.
    per_finding
        At most this many lines of each finding (its first ones); the findings export has
        every line a finding quotes.
    min_severity
        Findings below this severity are left out, as in :func:`findings_table`.
    findings
        Only the first this many findings (those a report's findings table shows).

    Returns
    -------
    pandas.DataFrame
        ``finding``, ``line``, ``time (UTC)``, ``file:line`` and ``log line``: the line as the
        dataset stores it (credentials the ingest took out stay out), in the order of the
        findings, then of the lines.
    """
    columns = ["finding", "line", "time (UTC)", "file:line", "log line"]
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = case.findings[case.findings["severity"].map(rank) >= rank[min_severity]]
    f = f if findings is None else f.head(findings)
    cited: list[tuple[str, list[tuple[str, int]]]] = []  # each finding's label and lines
    for kind, ip, net, user, evidence in zip(
        f["kind"], f["subject_ip"], f["subject_network"], f["subject_username"], f["evidence"], strict=True
    ):
        refs = [(str(e["source_file"]), int(e["line_no"])) for e in evidence or [] if "line_no" in e]
        subject = next((str(v) for v in (ip, net, user) if isinstance(v, str) and v), "")
        cited.append((KIND_NAMES.get(kind, kind) + (f": {subject}" if subject else ""), refs))
    wanted = {ref for _, refs in cited for ref in refs}
    if not wanted:
        return pd.DataFrame(columns=columns)
    rows = event_lines(case.dataset, wanted, columns=["ts", *LINE_COLUMNS])
    keys = list(zip(rows["source_file"].astype(object), rows["line_no"], strict=True))
    text = dict(zip(keys, line_text(rows), strict=True))
    when = dict(zip(keys, rows["ts"], strict=True))
    order = {key: i for i, key in enumerate(keys)}  # input order: rotated files oldest first
    out: list[dict[str, Any]] = []
    for label, refs in cited:
        unique = sorted(set(refs), key=lambda r: order.get(r, len(order)))
        for k, (file, line_no) in enumerate(unique[:per_finding], start=1):
            out.append(
                {
                    "finding": label,
                    "line": f"{k} of {len(unique)} quoted",
                    "time (UTC)": when.get((file, line_no), pd.NaT),
                    "file:line": f"{file}:{line_no}",
                    "log line": text.get((file, line_no), "(not in the dataset)"),
                }
            )
    return pd.DataFrame(out, columns=columns)
