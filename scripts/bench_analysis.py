#!/usr/bin/env python3
"""Benchmark: the whole analysis of a dataset as the report runs it (``report.Case``).

    python scripts/bench_analysis.py DATASET

Times each table the way the notebooks get it (load, sessions, attempts, messages,
findings) and prints the peak RSS of this process: the memory an investigator's kernel
needs for that dataset.
"""

from __future__ import annotations

import resource
import sys
import time

from maillog_forensics.report import Case


def main(dataset: str) -> None:
    t0 = time.perf_counter()
    case = Case(dataset)
    print(f"open: {time.perf_counter() - t0:.1f} s", flush=True)
    for name in ("sessions", "attempts", "messages", "findings"):
        t = time.perf_counter()
        table = getattr(case, name)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{name}: {len(table):,} rows in {time.perf_counter() - t:.1f} s; peak RSS so far {rss:,.0f} MiB",
            flush=True,
        )
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
