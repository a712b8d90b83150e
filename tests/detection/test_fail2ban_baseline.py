"""fail2ban is the baseline: every line its filters match is an attempt of ours, same address.

Runs Debian's ``fail2ban-regex`` (installed by ``.ci/run``) with the ``postfix[mode=auth]``
and ``dovecot`` filters on real and generated logs, and checks that each line it counts
is evidence of one of our authentication attempts from the same client address, and that
we report strictly more attempts than it matches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import maillog_forensics as mf
from maillog_forensics.tables.auth import auth_attempts_from_events
from tests.corpus import REPO, corpus_path

FILTERS = ["postfix[mode=auth]", "dovecot"]


def fail2ban_matches(log: Path, filt: str) -> list[str]:
    exe = shutil.which("fail2ban-regex")
    if exe is None:
        message = "fail2ban-regex is not installed (apt-get install fail2ban; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing baseline there is an error
        pytest.skip(message)
    res = subprocess.run(
        [exe, "--print-all-matched", "--print-no-missed", "--print-no-ignored", str(log), filt],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    out = res.stdout.split("\n")
    start = next(i for i, ln in enumerate(out) if ln.startswith("Lines:"))
    return [ln[3:] for ln in out[start + 1 :] if ln.startswith("|  ")]


def check(log: Path, tmp_path: Path) -> tuple[int, int]:
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    attempts = auth_attempts_from_events(mf.load_events(ds))
    by_line: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for k, (ip, evidence) in enumerate(zip(attempts["client_ip"], attempts["evidence"], strict=True)):
        for e in evidence:
            by_line[int(e["line_no"])].add((k, str(ip)))
    numbers: dict[str, list[int]] = defaultdict(list)
    for n, text in enumerate(log.read_text(errors="replace").split("\n"), start=1):
        numbers[text].append(n)
    # fail2ban's two filters count one SMTP AUTH attempt twice (Postfix's and Dovecot's line):
    # compare the distinct attempts its matches point to
    covered: set[int] = set()
    for filt in FILTERS:
        for text in fail2ban_matches(log, filt):
            n = numbers[text].pop(0)
            hits = [k for k, ip in by_line.get(n, set()) if ip and ip in text]
            assert hits, f"fail2ban {filt} line {n} is not one of our attempts from that address: {text}"
            covered.update(hits)
    return len(covered), len(attempts)


@pytest.mark.parametrize("log", ["mail.syslog-traditional.log", "mail.syslog-rfc3339.log"])
def test_lab_logs(tmp_path: Path, log: str) -> None:
    matched, ours = check(corpus_path("postfix-lab", log), tmp_path)
    assert matched > 100 and ours > matched


def test_generated_log(tmp_path: Path) -> None:
    log = tmp_path / "bench.log"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "gen_benchlog.py"),
            "--lines",
            "100000",
            "--seed",
            "3",
            "-o",
            str(log),
        ],
        check=True,
    )
    matched, ours = check(log, tmp_path)
    assert matched > 1000 and ours > matched
