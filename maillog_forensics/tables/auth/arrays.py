"""Array helpers the attempt builders share: stamps as integers, evidence lists."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["appended_evidence", "line_evidence", "nanoseconds", "object_where"]


def nanoseconds(ts: pd.Series) -> np.ndarray:
    """UTC time stamps as int64 nanoseconds (for bisection)."""
    naive = pd.to_datetime(ts, utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    return np.asarray(naive.to_numpy().view("int64"))


def line_evidence(files: pd.Series, lines: pd.Series) -> list[list[dict[str, Any]]]:
    """One ``[{source_file, line_no}]`` evidence list per line."""
    return [[{"source_file": str(f), "line_no": int(n)}] for f, n in zip(files, lines, strict=True)]


def appended_evidence(evidence: np.ndarray, files: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Each evidence list with one more line appended."""
    out = np.empty(len(evidence), dtype=object)
    out[:] = [
        [*ev, {"source_file": str(f), "line_no": int(n)}]
        for ev, f, n in zip(evidence.tolist(), files.tolist(), lines.tolist(), strict=True)
    ]
    return out


def object_where(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else ``None`` (an object array)."""
    out = np.full(len(keep), None, dtype=object)
    out[keep] = values[keep]
    return out
