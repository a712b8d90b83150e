#!/usr/bin/env python3
"""Benchmark: CPU cost of each ingest stage, against the 1M lines/s budget.

1,000,000 lines/s on 2 cores leaves 2 CPU-seconds per 1M lines for everything: reading,
parsing and writing. This script measures, on one file, the CPU time (user + system, all
threads of the process) of each stage of the production code, one after the other:

- ``read``: ``sources.iter_batches`` (read, SHA-256 of the file and of its content, split
  into lines);
- ``parse``: ``parse.parse_lines`` on every batch;
- ``write``: ``store.write_part`` (Arrow conversion, dictionaries, Parquet with zstd) of
  the parsed batches, exactly as ingest writes them;
- ``write, kind fields all null``: the same with every kind-specific field emptied, and
  ``write, the 15 core columns only``: a table of just the provenance / envelope columns,
  to show what the typed kind columns cost.

Each stage runs ``--repeat`` times; the smallest CPU time is reported, per 1M lines.

    python scripts/bench_floor.py --log bench-1M.log
"""

from __future__ import annotations

import argparse
import os

# one polars thread: CPU time is what is measured, and idle pool threads spinning on a
# 2-core machine would add noise to it
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from maillog_forensics.events import parse, sources, store
from maillog_forensics.events.parse import TimeContext

#: columns every row has whatever its kind (provenance and syslog envelope)
CORE_COLUMNS = [
    "ts",
    "source_file",
    "line_no",
    "flags",
    "repeat",
    "host",
    "program",
    "pid",
    "instance",
    "service",
    "daemon",
    "kind",
    "severity",
    "queue_id",
    "message",
]


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Smallest (CPU seconds, wall seconds) of ``repeat`` runs of ``fn``."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        best = min(best, (time.process_time() - c0, time.perf_counter() - t0))
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log", type=Path, required=True, help="the log to measure (e.g. bench-1M.log)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    inp = sources.expand_inputs([str(args.log)])[0]
    batches = list(sources.iter_batches(inp))
    lines = sum(len(b.lines) for b in batches)
    frames: list[pl.DataFrame] = []

    def read() -> None:
        for _ in sources.iter_batches(sources.expand_inputs([str(args.log)])[0]):
            pass

    def parse_all() -> None:
        frames.clear()
        ctx = TimeContext("UTC", 2026, None)
        for b in batches:
            parsed = parse.parse_lines(
                b.lines, source_file=str(args.log), first_line_no=b.first_line_no, ctx=ctx, flags=b.flags
            )
            frames.append(parsed.frame)

    staging = Path(tempfile.mkdtemp(prefix="mlf-floor-"))

    def write(columns: list[str] | None) -> Callable[[], None]:
        def run() -> None:
            shutil.rmtree(staging, ignore_errors=True)
            for seq, frame in enumerate(frames):
                if columns is not None:
                    keep = set(columns)
                    frame = frame.with_columns(
                        pl.lit(None, dtype=dtype).alias(name)
                        for name, dtype in frame.schema.items()
                        if name not in keep
                    )
                store.write_part(staging, "floor", seq, frame)

        return run

    def write_narrow() -> None:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for seq, frame in enumerate(frames):
            table = store._event_table(frame).select(CORE_COLUMNS)
            pq.write_table(
                table,
                staging / f"{seq}.parquet",
                compression="zstd",
                compression_level=1,
                row_group_size=256 * 1024,
                use_dictionary=[c for c in store._CATEGORICAL if c in CORE_COLUMNS],
                write_statistics=[c for c in store._FILTERED if c in CORE_COLUMNS],
            )

    rows = [
        ("read (read, hash, split lines)", measure(read, args.repeat)),
        ("parse (parse_lines)", measure(parse_all, args.repeat)),
        ("write (write_part, every column)", measure(write(None), args.repeat)),
        ("write, kind fields all null (102 columns)", measure(write(CORE_COLUMNS), args.repeat)),
        ("write, the 15 core columns only", measure(write_narrow, args.repeat)),
    ]
    shutil.rmtree(staging, ignore_errors=True)
    scale = 1_000_000 / lines
    print(f"{args.log}: {lines:,} lines; CPU seconds per 1M lines (best of {args.repeat}); budget 2.00\n")
    print("| stage | CPU s / 1M lines | wall s / 1M lines |")
    print("|---|---:|---:|")
    for name, (cpu, wall) in rows:
        print(f"| {name} | {cpu * scale:.2f} | {wall * scale:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
