#!/usr/bin/env python3
"""Benchmark: authentication attempts and findings for a dataset (e.g. the 1M-line generated log).

    python scripts/bench_findings.py DATASET

Prints the time of each stage (load, sessions, attempts, messages, findings), the number of
attempts and findings by kind, and peak RSS of this process.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import maillog_forensics as mf
from maillog_forensics.auth import auth_attempts_from_events
from maillog_forensics.detect import findings


def timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main(dataset: str) -> None:
    events = timed("load", lambda: mf.load_events(dataset))
    sessions = timed("sessions", lambda: mf.sessions_from_events(events))
    attempts = timed("attempts", lambda: auth_attempts_from_events(events, sessions=sessions))
    messages = timed("messages", lambda: mf.messages_from_events(events))
    found = timed(
        "findings", lambda: findings(events, sessions=sessions, attempts=attempts, messages=messages)
    )
    print(f"events {len(events):,}, attempts {len(attempts):,}, findings {len(found):,}")
    print("findings by kind:", found["kind"].value_counts().to_dict())
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
