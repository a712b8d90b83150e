"""A Timesketch-ready timeline: every dated log line, and every finding, as one event.

Timesketch imports JSON Lines (or CSV) whose rows carry three mandatory fields:
``message``, ``datetime`` (ISO 8601) and ``timestamp_desc``; ``timestamp`` (microseconds
since the epoch) and any other field are optional and become searchable attributes.
The timeline gives each log line its syslog text (host, program[pid], message) and its
parsed fields, and each finding a row at its first and at its last sighting, so an
investigator sees the verdicts among the lines that prove them. ``data_type`` tells them
apart (``maillog:line``, ``maillog:finding``); ``source_file``, ``line_no`` and
``source_sha256`` keep the provenance of every line.

Times are UTC. Lines without a time stamp cannot be placed on a timeline and are left
out (``export events`` has them). Findings about the server's settings have no time of
their own: they are placed at the times of their evidence lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..common.safe_text import cell_text
from ..events.store import shared_source_names, source_names
from .log_lines import syslog_text

__all__ = [
    "EVENT_COLUMNS",
    "LINE_FIELDS",
    "TIMELINE_COLUMNS",
    "file_hashes_from_manifest",
    "timeline_from_events",
    "timeline_from_findings",
    "undated_evidence",
]

#: parsed fields of a line that a timeline row carries as they are
LINE_FIELDS: tuple[str, ...] = (
    "kind",
    "severity",
    "host",
    "program",
    "pid",
    "daemon",
    "queue_id",
    "client_ip",
    "client_name",
    "sasl_method",
    "sasl_username",
    "username",
    "sender",
    "recipient",
    "status",
)

#: the event columns a timeline row of a log line is made of
EVENT_COLUMNS: tuple[str, ...] = ("ts", "source_file", "line_no", *LINE_FIELDS, "message")

#: every timeline row has these columns, in this order (Timesketch's mandatory ones first)
TIMELINE_COLUMNS: tuple[str, ...] = (
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "data_type",
    *LINE_FIELDS,
    "finding_id",
    "confidence",
    "subject_ip",
    "subject_network",
    "subject_username",
    "count",
    "action",
    "evidence",
    "evidence_count",
    "source_file",
    "line_no",
    "source_sha256",
)

_INTEGER_COLUMNS = frozenset({"timestamp", "pid", "count", "evidence_count", "line_no"})

LINE_DESC = "Log Entry Written"
FIRST_SEEN_DESC = "Finding First Seen"
LAST_SEEN_DESC = "Finding Last Seen"


def file_hashes_from_manifest(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The SHA-256 of the file each ``source_file`` name of a dataset's rows was read from.

    A file read more than once (a log that grew, or was rotated and read again under its
    new name) maps to the hash of its latest read, which holds every line read before. A
    name that two different files share (datasets written before names were made unique)
    maps to no hash: it cannot say which file a line came from.
    """
    shared = set(shared_source_names(manifest))
    return {
        name: str(entry["sha256"])
        for entry in manifest.get("inputs", [])
        if entry.get("sha256")
        for name in source_names(entry)
        if name not in shared
    }


def timeline_from_events(
    events: pd.DataFrame, *, file_hashes: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Timeline rows of log lines: one per line that has a time stamp, in the given order.

    Parameters
    ----------
    events
        Event rows with (at least) :data:`EVENT_COLUMNS`, as ``load_events`` gives them.
    file_hashes
        SHA-256 of each ``source_file`` (:func:`file_hashes_from_manifest`).

    Returns
    -------
    pandas.DataFrame
        :data:`TIMELINE_COLUMNS`; ``message`` is the line's syslog text without its time
        stamp (``host program[pid]: message``).

    Examples
    --------
    >>> ev = pd.DataFrame({"ts": pd.to_datetime(["2026-02-03 11:57:42", None], utc=True),
    ...     "source_file": ["mail.log"] * 2, "line_no": [1, 2], "host": ["mx", None],
    ...     "program": ["postfix/smtpd", None], "pid": [42, None], "message": ["connect", "x"]})
    >>> row = timeline_from_events(ev).iloc[0]
    >>> row["message"], row["datetime"], int(row["timestamp"])
    ('mx postfix/smtpd[42]: connect', '2026-02-03T11:57:42.000000+00:00', 1770119862000000)
    """
    dated = events[events["ts"].notna()]
    out = pd.DataFrame(index=dated.index)
    ts = dated["ts"].dt.tz_convert("UTC")
    out["message"] = syslog_text(dated)
    out["datetime"] = _iso(ts)
    out["timestamp"] = _epoch_us(ts)
    out["timestamp_desc"] = LINE_DESC
    out["data_type"] = "maillog:line"
    for col in EVENT_COLUMNS:
        if col in ("ts", "message") or col not in dated.columns:
            continue
        out[col] = dated[col]
    if file_hashes is not None:
        out["source_sha256"] = _text(dated["source_file"]).map(file_hashes)
    return _conform(out)


def undated_evidence(findings: pd.DataFrame) -> set[tuple[str, int]]:
    """``(source_file, line_no)`` of the evidence of findings that have no time of their own.

    Settings findings (``config_*``) describe the server, not an event; the timeline
    places them at the times of these lines (``store.event_times`` reads them).
    """
    lines: set[tuple[str, int]] = set()
    for first, evidence in zip(findings["first_seen"], findings["evidence"], strict=True):
        if pd.isna(first):
            lines.update(k for k in map(_key, evidence or []) if k is not None)
    return lines


def timeline_from_findings(
    findings: pd.DataFrame,
    *,
    evidence_limit: int = 50,
    evidence_times: Mapping[tuple[str, int], pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Timeline rows of findings: one at the first sighting, one at the last when later.

    Parameters
    ----------
    findings
        The findings table (``maillog_forensics.detection``).
    evidence_times
        Times of evidence lines (``store.event_times`` of :func:`undated_evidence`): a
        finding without ``first_seen`` / ``last_seen`` is placed at the earliest and the
        latest of its evidence lines. Without a time either way it is left out.
    evidence_limit
        At most this many evidence lines are listed per row, as ``file:line`` separated by
        ``"; "`` (``evidence_count`` has them all): a brute force has thousands, and
        search engines cap the length of a field.

    Returns
    -------
    pandas.DataFrame
        :data:`TIMELINE_COLUMNS`; ``message`` is ``[severity] summary``.
    """
    if evidence_limit < 0:
        raise ValueError(f"evidence_limit must be at least 0, not {evidence_limit}")
    rows: list[dict[str, Any]] = []
    for f in findings.to_dict("records"):
        evidence = list(f.get("evidence") or [])
        refs = [cell_text(e) for e in evidence[:evidence_limit]]
        if len(evidence) > evidence_limit:
            refs.append(f"… {len(evidence) - evidence_limit} more")
        common = {
            "message": f"[{f['severity']}] {f['summary']}",
            "data_type": "maillog:finding",
            "kind": f["kind"],
            "severity": f["severity"],
            "finding_id": f["finding_id"],
            "confidence": f["confidence"],
            "subject_ip": f["subject_ip"],
            "subject_network": f["subject_network"],
            "subject_username": f["subject_username"],
            "count": f["count"],
            "action": f["action"],
            "evidence": "; ".join(refs),
            "evidence_count": len(evidence),
        }
        first, last = f["first_seen"], f["last_seen"]
        if pd.isna(first) and pd.isna(last) and evidence_times:
            known = [evidence_times[k] for k in map(_key, evidence) if k is not None and k in evidence_times]
            if known:
                first, last = min(known), max(known)
        if pd.isna(first):
            first = last
        if pd.isna(first):
            continue
        rows.append({**common, "ts": pd.Timestamp(first), "timestamp_desc": FIRST_SEEN_DESC})
        if pd.notna(last) and last > first:
            rows.append({**common, "ts": pd.Timestamp(last), "timestamp_desc": LAST_SEEN_DESC})
    if not rows:
        return _conform(pd.DataFrame(columns=list(TIMELINE_COLUMNS)))
    out = pd.DataFrame(rows)
    ts = pd.to_datetime(out.pop("ts"), utc=True)
    out["datetime"] = _iso(ts)
    out["timestamp"] = _epoch_us(ts)
    return _conform(out)


def _text(col: pd.Series) -> pd.Series:
    return col.astype("string")


def _iso(ts: pd.Series) -> pd.Series:
    """ISO 8601 with microseconds and an explicit UTC offset, as Timesketch reads it."""
    text: pd.Series = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00").astype("string")
    return text


def _epoch_us(ts: pd.Series) -> pd.Series:
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    micros: pd.Series = naive.astype("int64").astype("Int64")
    return micros


def _key(evidence: Any) -> tuple[str, int] | None:
    if isinstance(evidence, Mapping) and "source_file" in evidence and "line_no" in evidence:
        return (str(evidence["source_file"]), int(evidence["line_no"]))
    return None


def _conform(df: pd.DataFrame) -> pd.DataFrame:
    """:data:`TIMELINE_COLUMNS` in order, text as ``string``, counts as ``Int64``.

    Fixed dtypes make every piece of a long export share one schema (one CSV header, one
    Parquet schema), whichever columns a piece happened to have empty.
    """
    out = pd.DataFrame(index=df.index)
    for col in TIMELINE_COLUMNS:
        values = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index, dtype="object")
        if col in _INTEGER_COLUMNS:
            out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        else:
            out[col] = values.astype("string")
    return out.reset_index(drop=True)
