#!/usr/bin/env python3
"""Benchmark: parse time of debug-rich logs, with the secret detector of one or more checkouts.

Parses the same lines (the helga production log x3 and the lab's debug-rich log x20 from
the shared corpus, or --log files) with ``parse_lines`` of each given checkout in turn,
alternating, and prints the best and median time of each. Run it from the repo root:

    python scripts/bench_secrets.py --repo /tmp/wt-before --repo . --rounds 5 --without

``(off)`` is the last checkout with redaction switched off: the difference to ``(on)`` is
what finding and cutting out secrets costs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import polars as pl
from maillog_forensics.events import parse
inside = [0.0]
if sys.argv[3] == "off":  # no redaction at all: what the secret detector costs is the difference
    parse._redact_fast = lambda out: ([], pl.DataFrame())
else:  # CPU time spent finding and cutting out secrets
    redact = parse._redact_fast
    def timed(out):
        t = time.process_time()
        try:
            return redact(out)
        finally:
            inside[0] += time.process_time() - t
    parse._redact_fast = timed
lines = pl.Series(json.load(open(sys.argv[2])))
ctx = parse.TimeContext("UTC", 2026)
t, c = time.perf_counter(), time.process_time()
for i in range(0, len(lines), 100_000):
    parse.parse_lines(lines[i : i + 100_000], source_file="x", first_line_no=i + 1, ctx=ctx)
print(time.perf_counter() - t, time.process_time() - c, inside[0])
"""


def _read(path: Path) -> list[str]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", "replace").split("\n")[:-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", action="append", required=True, help="a checkout to time (repeat)")
    ap.add_argument("--log", action="append", type=Path, help="lines to parse (default: the corpus mix)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--without", action="store_true", help="also time the last checkout with no redaction")
    args = ap.parse_args()
    if args.log:
        lines = [ln for p in args.log for ln in _read(p)]
    else:
        helga = _read(CORPUS / "postfix-logsums-helga" / "mail.log.gz")
        lab = _read(CORPUS / "postfix-lab" / "mail.syslog-traditional.log")
        lines = helga * 3 + lab * 20
    data = Path("/tmp/bench-secrets-lines.json")
    data.write_text(json.dumps(lines))
    runs = [(r, "on") for r in args.repo] + ([(args.repo[-1], "off")] if args.without else [])
    times: dict[str, list[tuple[float, float, float]]] = {f"{r} ({mode})": [] for r, mode in runs}
    for _ in range(args.rounds):
        for repo, mode in runs:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(repo).resolve()), str(data), mode],
                check=True,
                capture_output=True,
                text=True,
            )
            wall, cpu, redaction = map(float, out.stdout.split())
            times[f"{repo} ({mode})"].append((wall, cpu, redaction))
    print(f"{len(lines):,} lines, {args.rounds} rounds, alternating\n")
    print(
        "| checkout | wall best (s) | wall median (s) | CPU median (s) | redaction CPU median (s) | share |"
    )
    print("|---|---|---|---|---|---|")
    for name, t in times.items():
        wall = [x[0] for x in t]
        cpu = statistics.median(x[1] for x in t)
        red = statistics.median(x[2] for x in t)
        share = f"{red / cpu:.1%}" if red else "-"
        print(
            f"| {name} | {min(wall):.3f} | {statistics.median(wall):.3f} | {cpu:.3f} | {red:.3f} | {share} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
