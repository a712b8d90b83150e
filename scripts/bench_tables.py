#!/usr/bin/env python3
"""Benchmark: sessions and messages for a dataset (e.g. the 10M-line generated log).

    python scripts/bench_tables.py DATASET

Prints load time (column projection), sessions_from_events, messages_from_events and
peak RSS of this process.
"""

from __future__ import annotations

import resource
import sys
import time

import maillog_forensics as mf
from maillog_forensics.tables.messages import EVENT_COLUMNS as MESSAGE_COLUMNS
from maillog_forensics.tables.messages import messages_from_events
from maillog_forensics.tables.sessions import EVENT_COLUMNS, sessions_from_events


def main() -> int:
    dataset = sys.argv[1]
    t = time.perf_counter()
    ev = mf.load_events(dataset, columns=sorted(set(EVENT_COLUMNS) | set(MESSAGE_COLUMNS)))
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    s = sessions_from_events(ev)
    t_sess = time.perf_counter() - t
    t = time.perf_counter()
    m = messages_from_events(ev)
    t_msg = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"events {len(ev):,}  load {t_load:.1f} s  sessions {len(s):,} in {t_sess:.1f} s  "
        f"messages {len(m):,} in {t_msg:.1f} s  peak RSS {rss:,.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
