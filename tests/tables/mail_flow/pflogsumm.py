"""Run pflogsumm 1.1.5 on a log and read its report (tests only), and the corpus logs to run it on."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.tables import mail_flow

from ...corpus import CORPUS

PFLOGSUMM = shutil.which("pflogsumm") or "/usr/sbin/pflogsumm"

#: pflogsumm's Grand Totals labels → our keys
LABELS = {
    "received": "received",
    "delivered": "delivered",
    "forwarded": "forwarded",
    "deferred": "deferred",
    "bounced": "bounced",
    "rejected": "rejected",
    "reject warnings": "reject_warnings",
    "held": "held",
    "discarded": "discarded",
    "bytes received": "bytes_received",
    "bytes delivered": "bytes_delivered",
    "senders": "senders",
    "sending hosts/domains": "sending_hosts",
    "recipients": "recipients",
    "recipient hosts/domains": "recipient_hosts",
}


def run_pflogsumm(log: Path, *args: str) -> str:
    """pflogsumm's report of ``log`` (skipped when pflogsumm is not installed; a failure in CI)."""
    if not Path(PFLOGSUMM).exists():
        message = "pflogsumm is not installed (Debian: apt-get install pflogsumm; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run([PFLOGSUMM, *args, str(log)], capture_output=True, text=True, check=True)
    return done.stdout


def grand_totals_of(report: str) -> dict[str, str]:
    """The Grand Totals block of a pflogsumm report: key → value as printed (``27825k``)."""
    block = report.split("Grand Totals", 1)[1].split("\n\n\n", 1)[0]
    out = {}
    for line in block.splitlines():
        m = re.match(r"^ +([0-9]+[km ]?) +(.+?)(?: \([0-9]+%\)|  \([0-9]+[km ]? *deferrals\))?$", line)
        if m and m.group(2) in LABELS:
            out[LABELS[m.group(2)]] = m.group(1).strip()
    assert len(out) == len(LABELS), block
    return out


def pflogsumm_units(value: int) -> str:
    """A count as pflogsumm prints it: ``k`` above 512k, ``m`` above 512m, truncated.

    >>> pflogsumm_units(28493271), pflogsumm_units(524288), pflogsumm_units(524289)
    ('27825k', '524288', '512k')
    """
    if value > 536870912:
        return f"{int(value / 1048576)}m"
    if value > 524288:
        return f"{int(value / 1024)}k"
    return str(value)


def our_flow(log: Path, dataset: Path, *, year: int = 2026, tz: str = "UTC") -> pd.DataFrame:
    """The flow lines of ``log`` after an ingest into ``dataset``."""
    mf.ingest([str(log)], dataset, year=year, tz=tz, quiet=True)
    events = mf.load_events(dataset, columns=mail_flow.EVENT_COLUMNS, rows=mail_flow.EVENT_ROWS)
    return mail_flow.flow_lines(events)


# --- the logs ----------------------------------------------------------------------------


def helga_log(folder: Path) -> Path:
    """The 3-day production log, decompressed (pflogsumm reads plain text)."""
    out = folder / "helga.log"
    if not out.exists():
        out.write_bytes(gzip.decompress((CORPUS / "postfix-logsums-helga" / "mail.log.gz").read_bytes()))
    return out


def wazuh_log(folder: Path) -> Path:
    """The Postfix lines of the Wazuh rule tests (users' real lines), one after another."""
    text = (CORPUS / "wazuh-ruleset" / "0030-postfix.ini").read_text()
    lines = [m.group(1) for m in re.finditer(r"^log [0-9]+ [a-z]+ = (.+)$", text, re.MULTILINE)]
    out = folder / "wazuh-postfix.log"
    out.write_text("".join(line + "\n" for line in lines))
    return out


def sshguard_log(folder: Path) -> Path:
    """The full syslog lines of SSHGuard's postfix test cases."""
    cases = [json.loads(x) for x in (CORPUS / "sshguard" / "mail_cases.jsonl").read_text().splitlines() if x]
    stamp = re.compile(r"^(?:[A-Z][a-z]{2} [ 0-9][0-9] |[0-9]{4}-[0-9]{2}-[0-9]{2}T)")
    lines = [c["line"] for c in cases if c["section"].startswith("postfix") and stamp.match(c["line"])]
    out = folder / "sshguard-postfix.log"
    out.write_text("".join(line + "\n" for line in lines))
    return out


def grok_log(folder: Path) -> Path:
    """The message parts of the grok pattern tests, each behind a syslog header of its daemon."""
    out_lines = []
    for raw in (CORPUS / "postfix-grok-patterns" / "cases.jsonl").read_text().splitlines():
        case = json.loads(raw)
        daemon = case["grok_name"].removeprefix("POSTFIX_").lower().replace("_", "-")
        if daemon in ("tls-features", "command-counter-data", "delays") or "\n" in case["data"]:
            continue
        out_lines.append(f"Oct 26 18:13:50 mail postfix/{daemon}[4242]: {case['data']}\n")
    out = folder / "grok-postfix.log"
    out.write_text("".join(out_lines))
    return out
