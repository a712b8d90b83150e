"""CrowdSec's Postfix brute-force scenarios as a baseline: every address they would ban, we name.

CrowdSec (hub parser ``crowdsecurity/postfix-logs``) turns two smtpd lines into a
``spam-attempt`` event per client address: ``warning: host[ip]: SASL <mech> authentication
failed:`` and ``lost connection after <command> from host[ip]``. Its scenarios are leaky
buckets over those events, per address:

===================================  ========  =========  ==========================
scenario                             capacity  leakspeed  bans at
===================================  ========  =========  ==========================
crowdsecurity/postfix-spam           5         10 s       6 events (plus rejects)
melite/postfix-slow-bf               7         900 s      8 events
melite/postfix-very-slow-bf          5         4 h        6 events
===================================  ========  =========  ==========================

This module re-implements that reading independently of our parser (a regular expression
on the raw line, as the grok does) and the leaky-bucket arithmetic, and checks on real and
generated logs that every address a scenario would ban over authentication failures
(``SASL ... authentication failed`` and ``lost connection after AUTH``) is named by one of
our attack findings and covered by our blocklist. Their ``lost connection after CONNECT``
etc. events are scanners, not credential attacks; they are left out of the comparison.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.detection.detect import findings
from maillog_forensics.detection.remediate import blocklist
from maillog_forensics.report import ATTACK_KINDS
from maillog_forensics.tables.auth import auth_attempts_from_events
from tests.corpus import REPO, corpus_path

#: (name, capacity, leak seconds): a bucket overflows when an event lifts it above capacity
SCENARIOS = [
    ("crowdsecurity/postfix-spam", 5, 10.0),
    ("melite/postfix-slow-bf", 7, 900.0),
    ("melite/postfix-very-slow-bf", 5, 4 * 3600.0),
]
_SMTPD = re.compile(r"^(?P<ts>\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ \S*/smtpd\[\d+\]: (?P<msg>.*)$")
_SASL = re.compile(
    r"warning: [^\s\[]+\[(?P<ip>[0-9A-Fa-f.:]+)\]: SASL (?i:LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) "
    r"authentication failed:"
)
_LOST_AUTH = re.compile(r"lost connection after AUTH from [^\s\[]+\[(?P<ip>[0-9A-Fa-f.:]+)\]")


def auth_events(log: Path, *, year: int) -> dict[str, list[float]]:
    """Per address, the times of CrowdSec's authentication ``spam-attempt`` events."""
    out: dict[str, list[float]] = defaultdict(list)
    for line in log.read_text(errors="replace").splitlines():
        m = _SMTPD.match(line)
        if not m:
            continue
        hit = _SASL.search(m["msg"]) or _LOST_AUTH.search(m["msg"])
        if hit:
            ts = datetime.strptime(f"{year} {m['ts']}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
            out[hit["ip"]].append(ts.timestamp())
    return out


def overflows(times: list[float], *, capacity: int, leak: float) -> bool:
    """Does a leaky bucket (one unit leaks every ``leak`` seconds) overflow on these events?"""
    level, last = 0.0, None
    for t in sorted(times):
        if last is not None:
            level = max(0.0, level - (t - last) / leak)
        level, last = level + 1, t
        if level > capacity:
            return True
    return False


def banned(log: Path, *, year: int) -> dict[str, set[str]]:
    """Scenario name → the addresses it would ban."""
    events = auth_events(log, year=year)
    return {
        name: {ip for ip, ts in events.items() if overflows(ts, capacity=cap, leak=leak)}
        for name, cap, leak in SCENARIOS
    }


def test_leaky_bucket_arithmetic() -> None:
    minute = 60.0
    # slow-bf (capacity 7, one unit leaks per 15 min): 8 failures a minute apart overflow...
    assert overflows([k * minute for k in range(8)], capacity=7, leak=900)
    # ... 7 do not, and 8 failures 3 minutes apart leak 1.4 units away: no overflow yet
    assert not overflows([k * minute for k in range(7)], capacity=7, leak=900)
    assert not overflows([k * 3 * minute for k in range(8)], capacity=7, leak=900)
    assert overflows([k * 3 * minute for k in range(10)], capacity=7, leak=900)
    # very-slow-bf (capacity 5, 4 h): 6 failures 45 minutes apart overflow (the hub's own
    # example), an hour apart they do not
    assert overflows([k * 45 * minute for k in range(6)], capacity=5, leak=4 * 3600)
    assert not overflows([k * 60 * minute for k in range(6)], capacity=5, leak=4 * 3600)


def ours(log: Path, tmp_path: Path) -> tuple[pd.DataFrame, list[str]]:
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    events = mf.load_events(ds)
    attempts = auth_attempts_from_events(events)
    found = findings(events, attempts=attempts)
    return found, blocklist(found, attempts).entries


def assert_named_and_blocked(want: dict[str, set[str]], found: pd.DataFrame, entries: list[str]) -> None:
    nets = [ipaddress.ip_network(e, strict=False) for e in entries]
    # any attack finding: a bucket that overflows on backend-outage lines ("Connection lost to
    # authentication server", which we never count as guesses) can name an address that made
    # fewer failed logins than our brute-force threshold; we name it as a failing address
    attack = found[found["kind"].isin(ATTACK_KINDS)]
    named_ips = set(attack["subject_ip"].dropna())
    named_nets = [ipaddress.ip_network(n, strict=False) for n in attack["subject_network"].dropna()]
    for scenario, ips in want.items():
        for ip in sorted(ips):
            addr = ipaddress.ip_address(ip)
            assert ip in named_ips or any(addr in n for n in named_nets), (
                f"{scenario} bans {ip}; we name it not"
            )
            assert any(addr in n for n in nets), f"{scenario} bans {ip}; our blocklist does not"


def test_lab_log(tmp_path: Path) -> None:
    log = corpus_path("postfix-lab", "mail.syslog-traditional.log")
    want = banned(log, year=2026)
    assert want["crowdsecurity/postfix-spam"] and want["melite/postfix-slow-bf"]  # the baseline bites
    found, entries = ours(log, tmp_path)
    assert_named_and_blocked(want, found, entries)


@pytest.mark.slow
def test_generated_log(tmp_path: Path) -> None:
    log = tmp_path / "bench.log"
    gen = [sys.executable, str(REPO / "scripts" / "gen_benchlog.py"), "--lines", "100000", "--seed", "3"]
    subprocess.run([*gen, "-o", str(log)], check=True)
    want = banned(log, year=2026)
    assert sum(map(len, want.values())) >= 3
    found, entries = ours(log, tmp_path)
    assert_named_and_blocked(want, found, entries)
