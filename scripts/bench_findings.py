#!/usr/bin/env python3
"""Benchmark: authentication attempts and findings for a dataset (e.g. the 1M-line generated log).

    python scripts/bench_findings.py DATASET [--repeat N] [--stages]

Prints the wall and CPU time of each stage (load, sessions, attempts, messages, findings),
the number of attempts and findings by kind, and peak RSS of this process. ``--repeat N``
times attempts and findings N times (the machine may be shared: report the range);
``--stages`` also times the parts of findings one by one (fingerprint and each detector,
through the module's private functions: a breakdown, not an API).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

import maillog_forensics as mf
from maillog_forensics.detection import detect
from maillog_forensics.detection.detect import findings
from maillog_forensics.tables.auth import auth_attempts_from_events
from maillog_forensics.tables.fingerprint import fingerprint


def timed(label: str, work: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label}: {time.perf_counter() - wall:.2f} s (CPU {time.process_time() - cpu:.2f} s)", flush=True)
    return result


def stages(
    events: pd.DataFrame, sessions: pd.DataFrame, attempts: pd.DataFrame, messages: pd.DataFrame
) -> None:
    """Time the parts of ``findings`` in the order it runs them."""
    cfg = detect.DetectConfig()
    server = timed("  fingerprint", lambda: fingerprint(events))
    guesses = timed("  guesses", lambda: detect._guesses(attempts))
    timed("  compromises", lambda: detect._compromises(attempts, messages, guesses, cfg))
    legit = timed("  legit addresses", lambda: detect._legit_ips(attempts))
    timed("  brute force (+ networks, campaigns)", lambda: detect._brute_force(guesses, legit, cfg))
    timed("  spray and enumeration", lambda: detect._spray_and_enumeration(attempts, cfg))
    timed("  credentials in logs", lambda: detect._credentials_in_logs(attempts, sessions))
    timed("  Dovecot passwords in logs", lambda: detect._dovecot_passwords_in_logs(events))
    timed("  outages", lambda: detect._outages(attempts))
    timed("  outbound", lambda: detect._outbound(messages, cfg))
    timed("  config", lambda: detect._config(server, attempts))


def main(dataset: str, repeat: int, breakdown: bool) -> None:
    events = timed("load", lambda: mf.load_events(dataset))
    sessions = timed("sessions", lambda: mf.sessions_from_events(events))
    for _ in range(repeat):
        attempts = timed("attempts", lambda: auth_attempts_from_events(events, sessions=sessions))
    messages = timed("messages", lambda: mf.messages_from_events(events))
    for _ in range(repeat):
        found = timed(
            "findings",
            lambda: findings(events, sessions=sessions, attempts=attempts, messages=messages),
        )
    if breakdown:
        stages(events, sessions, attempts, messages)
    print(f"events {len(events):,}, attempts {len(attempts):,}, findings {len(found):,}")
    print("findings by kind:", found["kind"].value_counts().to_dict())
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset")
    parser.add_argument("--repeat", type=int, default=1, help="time attempts and findings N times")
    parser.add_argument("--stages", action="store_true", help="also time the parts of findings")
    args = parser.parse_args()
    main(args.dataset, max(1, args.repeat), args.stages)
