"""Freed Arrow and C-heap memory goes back to the operating system."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from maillog_forensics.common.memory import _malloc_trim, release_unused_memory


def _rss_mib() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 >> 20


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or _malloc_trim() is None,
    reason="reads /proc/self/statm; returns the C heap with glibc's malloc_trim",
)
def test_memory_of_freed_frames_is_returned() -> None:
    release_unused_memory()
    base = _rss_mib()
    # what a load does: an Arrow table, its pandas frame, strings made along the way
    table = pa.table({"x": pa.array(np.arange(20_000_000))})
    frame = table.to_pandas()
    text = pd.Series(np.arange(2_000_000)).astype(object).map(str)
    assert _rss_mib() > base + 250
    del table, frame, text
    release_unused_memory()
    assert _rss_mib() < base + 100
