"""summary.json: the key figures of a report, strict JSON (no passwords)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..detection.actors import actors_from_findings
from ..detection.remediate import blocklist
from ..tables.login_counts import login_counts
from .case import Case
from .conclusion import answer, coverage
from .mail_flow import flow_summary

__all__ = ["json_safe", "summary", "write_summary"]


def summary(case: Case) -> dict[str, Any]:
    """Key figures for ``summary.json`` (no passwords)."""
    a = case.attempts
    f = case.findings
    cov = coverage(case)
    counts = login_counts(a)
    return {
        "dataset": case.dataset,
        # the report's answer in its own words (its first line) and the failed logins in words
        "verdict": answer(case).split("\n", 1)[0],
        "failed_logins_sentence": counts.failed_sentence(),
        # whether an answer can be given at all (``problem`` says why not)
        "answerable": cov.answerable,
        "problem": cov.problem,
        "unknown_share": round(cov.unknown_share, 4),
        "events": case.event_count,
        "sessions": len(case.sessions),
        "messages": len(case.messages),
        "attempts": len(a),
        "attempts_by_outcome": {k: int(v) for k, v in a["outcome"].value_counts().items()},
        # the same counts as the report's verdict and the summary command (one definition)
        "failed_logins": counts.failed,
        "refused_logins": counts.refused,
        "server_errors": counts.server_errors,
        "attacking_addresses": counts.failing_addresses,
        # one per actor of the attackers table (an address, or a network)
        "attackers": len(actors_from_findings(f, a)),
        "compromised_accounts": sorted(
            f.loc[f["kind"] == "account_compromised", "subject_username"].dropna().unique()
        ),
        "findings_by_kind": {k: int(v) for k, v in f["kind"].value_counts().items()},
        "findings": [{k: v for k, v in r.items() if k != "evidence"} for r in f.to_dict("records")],
        "blocklist": blocklist(f, a).entries,
        # pflogsumm's Grand Totals under its names, then the rest of the mail flow
        "mail_flow": flow_summary(case),
    }


def write_summary(case: Case, output_dir: str) -> Path:
    """Write ``summary.json`` into ``output_dir`` (strict JSON: no ``NaN``, times in ISO 8601)."""
    path = Path(output_dir) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(summary(case)), indent=2, allow_nan=False))
    return path


def json_safe(value: Any) -> Any:
    """``value`` with what JSON cannot hold made plain: missing values → ``None``, times → ISO text.

    Examples
    --------
    >>> json_safe({"a": float("nan"), "b": [pd.NaT, pd.Timestamp("2026-11-27 10:00", tz="UTC")]})
    {'a': None, 'b': [None, '2026-11-27T10:00:00+00:00']}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)
