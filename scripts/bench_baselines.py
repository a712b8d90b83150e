#!/usr/bin/env python3
"""Time the classic baselines (pflogsumm, fail2ban-regex) on one mail log file.

For each tool found on PATH this runs one child process on the file and reports wall time,
throughput and peak resident memory, read from that child's own ``rusage`` (``os.wait4``,
i.e. the per-child version of ``getrusage(RUSAGE_CHILDREN)``). Tool output goes to a
temporary file and is only scanned for a one-line sanity summary.

Commands (Debian 12 packages ``pflogsumm`` 1.1.5-8 and ``fail2ban`` 1.0.2-2)::

    pflogsumm FILE                      # no -d: reads every line
    fail2ban-regex --print-no-missed --print-no-ignored FILE 'postfix[mode=auth]'
    fail2ban-regex --print-no-missed --print-no-ignored FILE /etc/fail2ban/filter.d/dovecot.conf

Both read plain text only (no .gz). Usage::

    python scripts/bench_baselines.py /tmp/bench/bench-1M.log [--lines N] [--dovecot] [--json]

Import :func:`run_baselines` from a bigger benchmark script to get the rows as dicts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

F2B_OPTS = ("--print-no-missed", "--print-no-ignored")
POSTFIX_AUTH = "postfix[mode=auth]"
DOVECOT_FILTER = "/etc/fail2ban/filter.d/dovecot.conf"


def count_lines(path: Path) -> int:
    """Count newline characters (fast, binary, 1 MiB chunks)."""
    n = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def _output(cmd: Sequence[str]) -> str:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (res.stdout + res.stderr).strip()


def tool_version(tool: str) -> str:
    """Upstream version from the tool itself, plus the Debian package version if known."""
    if tool == "pflogsumm":
        text = _output(["pflogsumm", "--version"])  # "pflogsumm 1.1.5"
        package = "pflogsumm"
    else:
        text = _output(["fail2ban-regex", "-V"])  # "1.0.2"
        package = "fail2ban"
    m = re.search(r"\d+(?:\.\d+)+", text)
    version = m.group(0) if m else "?"
    if shutil.which("dpkg-query"):
        deb = _output(["dpkg-query", "-W", "-f", "${Version}", package])
        if deb and "no packages" not in deb:
            version += f" (deb {deb})"
    return version


def _summary(tool: str, text: str) -> str:
    """A short sanity line from the tool's report."""
    if tool == "pflogsumm":
        found = {
            key: re.search(rf"^\s*(\d+)\s+{key}\b", text, re.M)
            for key in ("received", "delivered", "rejected", "bounced")
        }
        return " ".join(f"{k}={m.group(1)}" for k, m in found.items() if m)
    m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", text, re.M)
    return f"matched={m.group(3)} missed={m.group(4)}" if m else "no 'Lines:' summary"


def _kill_tool(pid: int) -> None:
    """Kill the tool under time(1) (time then reports and exits), else the process group."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)
    if not children:
        os.killpg(pid, signal.SIGKILL)


def run_measured(cmd: Sequence[str], timeout: float | None = None) -> dict[str, Any]:
    """Run one command; return wall seconds, CPU seconds, peak RSS (MiB), rc and output.

    Peak RSS comes from GNU ``/usr/bin/time`` when present: a child forked straight from
    this Python process inherits Python's own high-water mark (Linux keeps ``maxrss``
    across exec), which would inflate small tools like pflogsumm by ~10 MiB. Without GNU
    time the ``os.wait4`` rusage of the child is used (``rss_source`` says which).
    """
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    with tempfile.TemporaryFile(mode="w+b") as out, tempfile.NamedTemporaryFile("r") as stats:
        argv = [gnu_time, "-o", stats.name, "-f", "%M %U %S", *cmd] if gnu_time else list(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group, for _kill_tool
        )
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                _kill_tool(proc.pid)
                deadline = None
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        res: dict[str, Any] = {
            "seconds": wall,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
            "rss_source": "wait4",
            "returncode": proc.returncode,
            "output": text,
        }
        fields = stats.read().strip().splitlines()[-1:]  # last line: "%M %U %S"
        if gnu_time and fields and len(parts := fields[0].split()) == 3:
            res["peak_rss_mib"] = int(parts[0]) / 1024
            res["cpu_seconds"] = float(parts[1]) + float(parts[2])
            res["rss_source"] = "time"
    return res


def baseline_commands(path: Path, dovecot: bool = False) -> list[tuple[str, str, list[str]]]:
    """(label, executable, argv) for each baseline run."""
    p = str(path)
    runs = [
        ("pflogsumm", "pflogsumm", ["pflogsumm", p]),
        (
            f"fail2ban-regex {POSTFIX_AUTH}",
            "fail2ban-regex",
            ["fail2ban-regex", *F2B_OPTS, p, POSTFIX_AUTH],
        ),
    ]
    if dovecot:
        runs.append(
            (
                "fail2ban-regex dovecot",
                "fail2ban-regex",
                ["fail2ban-regex", *F2B_OPTS, p, DOVECOT_FILTER],
            )
        )
    return runs


def run_baselines(
    path: Path, lines: int, dovecot: bool = False, timeout: float | None = None
) -> list[dict[str, Any]]:
    """Run every installed baseline on ``path`` (``lines`` lines); one dict per run.

    Keys: tool, version, command, lines, status ("ok", "failed", "skipped"), seconds,
    cpu_seconds, lines_per_s, peak_rss_mib, rss_source ("time" or "wait4"), summary.
    Skipped tools have None measurements.
    """
    path = Path(path)
    if path.suffix == ".gz":
        raise ValueError(f"{path}: the baselines read plain text only; decompress it first")
    rows: list[dict[str, Any]] = []
    for label, exe, cmd in baseline_commands(path, dovecot):
        row: dict[str, Any] = {
            "tool": label,
            "version": None,
            "command": shlex.join(cmd),
            "lines": lines,
            "status": "skipped",
            "seconds": None,
            "cpu_seconds": None,
            "lines_per_s": None,
            "peak_rss_mib": None,
            "rss_source": None,
            "summary": "",
        }
        if shutil.which(exe) is None:
            msg = f"{exe} not installed (Debian: apt-get install {exe.split('-')[0]})"
            print(f"skipping {label}: {msg}", file=sys.stderr)
            row["summary"] = msg
            rows.append(row)
            continue
        row["version"] = tool_version(exe)
        res = run_measured(cmd, timeout)
        row.update(
            status="ok" if res["returncode"] == 0 else "failed",
            seconds=round(res["seconds"], 3),
            cpu_seconds=round(res["cpu_seconds"], 3),
            lines_per_s=round(lines / res["seconds"]) if res["seconds"] > 0 else None,
            peak_rss_mib=round(res["peak_rss_mib"], 1),
            rss_source=res["rss_source"],
            summary=_summary(exe, res["output"]),
        )
        if res["returncode"] != 0:
            tail = res["output"].strip().splitlines()[-3:]
            row["summary"] = f"exit {res['returncode']}: " + " | ".join(tail)
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Plain-text table: tool, version, lines, seconds, lines/s, peak RSS MiB, summary."""
    header = ("tool", "version", "lines", "seconds", "lines/s", "peak RSS MiB", "summary")
    body = []
    for r in rows:
        ok = r["seconds"] is not None
        body.append(
            (
                r["tool"],
                r["version"] or "-",
                f"{r['lines']:,}",
                f"{r['seconds']:.2f}" if ok else "-",
                f"{r['lines_per_s']:,}" if ok and r["lines_per_s"] else "-",
                f"{r['peak_rss_mib']:.1f}" if ok else "-",
                r["summary"],
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    right = {2, 3, 4, 5}
    out = []
    for i, row in enumerate([header, *body]):
        cells = [
            str(c).rjust(w) if j in right else str(c).ljust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", type=Path, help="plain-text mail log")
    ap.add_argument("--lines", type=int, help="line count (default: count the file)")
    ap.add_argument("--dovecot", action="store_true", help="also run the dovecot filter")
    ap.add_argument("--timeout", type=float, help="kill a tool after this many seconds")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    if not args.log.is_file():
        ap.error(f"{args.log}: no such file")
    lines = args.lines if args.lines is not None else count_lines(args.log)
    rows = run_baselines(args.log, lines, dovecot=args.dovecot, timeout=args.timeout)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{args.log}: {lines:,} lines")
        print(format_table(rows))
    return 0 if all(r["status"] != "failed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
