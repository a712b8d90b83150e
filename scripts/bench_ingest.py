#!/usr/bin/env python3
"""Benchmark: maillog-forensics ingest vs pflogsumm and fail2ban-regex on the same file.

Generates a seeded realistic log (scripts/gen_benchlog.py) unless --log is given, runs the
full ingest (all kinds, typed Parquet written) in a child process, and the baselines, each
timed with peak RSS measured by /usr/bin/time (or wait4). Prints a Markdown table for
BENCHMARKS.md.

    python scripts/bench_ingest.py --lines 1000000
    python scripts/bench_ingest.py --log /var/log/mail.log --no-baselines

The ingest runs once per parser path (``--paths``: the native core and the polars path,
chosen with ``MAILLOG_FORENSICS_NATIVE``), in the same run as the baselines.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_baselines import count_lines, run_baselines, run_measured


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default 1M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", default="bsd", choices=["bsd", "rfc3339"])
    ap.add_argument("--log", type=Path, help="benchmark this file instead of generating one")
    ap.add_argument("--workdir", type=Path, help="where to put the generated log and dataset")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument(
        "--paths", default="native,polars", help="parser paths to time, comma-separated (native, polars)"
    )
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="mlf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = args.log
    if log is None:
        log = work / f"bench-{args.lines}-{args.format}-s{args.seed}.log"
        if not log.exists():
            gen = Path(__file__).resolve().parent / "gen_benchlog.py"
            subprocess.run(
                [
                    sys.executable,
                    str(gen),
                    "--lines",
                    str(args.lines),
                    "--seed",
                    str(args.seed),
                    "--format",
                    args.format,
                    "-o",
                    str(log),
                ],
                check=True,
            )
    lines = count_lines(log)
    rows = []
    for path in args.paths.split(","):
        dataset = work / f"dataset-{path}"
        shutil.rmtree(dataset, ignore_errors=True)
        switch = {"native": "1", "polars": "0"}[path]
        cmd = [
            "env",
            f"MAILLOG_FORENSICS_NATIVE={switch}",
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "ingest",
            str(log),
            "-o",
            str(dataset),
            "-q",
            "--tz",
            "UTC",
        ]
        ours = run_measured(cmd)
        if ours.get("rc"):
            print(f"ingest ({path}) failed: rc {ours['rc']}", file=sys.stderr)
        rows.append(
            {
                "tool": f"maillog-forensics ingest ({path} path)",
                "seconds": ours["seconds"],
                "cpu_seconds": ours.get("cpu_seconds"),
                "peak_rss_mib": ours["peak_rss_mib"],
                "lines_per_s": lines / ours["seconds"],
                "command": " ".join(cmd[1:]),
            }
        )
    if not args.no_baselines:
        for r in run_baselines(log, lines):
            if r.get("seconds"):
                rows.append(r)
            else:
                print(f"skipped {r['tool']}: {r.get('status')}", file=sys.stderr)
    print(f"file: {log} ({lines:,} lines, {log.stat().st_size / 1e6:.0f} MB)")
    print("| tool | seconds | CPU seconds | lines/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        cpu = f"{r['cpu_seconds']:.2f}" if r.get("cpu_seconds") else "-"
        rate, rss = f"{r['lines_per_s']:,.0f}", f"{r['peak_rss_mib']:.0f}"
        print(f"| {r['tool']} | {r['seconds']:.2f} | {cpu} | {rate} | {rss} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
