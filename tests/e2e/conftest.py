"""End-to-end fixtures: run the real server once per configuration, then read its logs with us.

``make e2e`` runs these (marker ``e2e``); ``make test`` leaves them out. They need root and
Debian's postfix, dovecot-core, rsyslog and sasl2-bin (installed on demand).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.detection.detect import findings
from maillog_forensics.events.store import load_secrets
from maillog_forensics.tables.auth import auth_attempts_from_events
from maillog_forensics.tables.messages import messages_from_events
from maillog_forensics.tables.sessions import sessions_from_events
from tests.e2e.attack import Driver, read_truth
from tests.e2e.server import ServerConfig, ensure_packages, running, stop_leftovers

CONFIGS = {
    c.name: c
    for c in (
        ServerConfig("dovecot-syslog", sasl="dovecot", postfix_log="syslog"),
        ServerConfig("dovecot-maillog", sasl="dovecot", postfix_log="maillog_file", dovecot_log="file"),
        ServerConfig(
            "cyrus-maillog", sasl="cyrus", postfix_log="maillog_file", long_queue_ids=True, auth_rate_limit=6
        ),
    )
}
# (configuration, which of its log files we read): the syslog run is read in both formats
VIEWS = {
    "dovecot-syslog-classic": ("dovecot-syslog", ["mail.log"]),
    "dovecot-syslog-rfc3339": ("dovecot-syslog", ["mail.rfc3339.log"]),
    "dovecot-maillog": ("dovecot-maillog", ["postfix.log", "dovecot.log"]),
    "cyrus-maillog": ("cyrus-maillog", ["postfix.log"]),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class Observed:
    """One configuration's ground truth and everything we made of its logs."""

    view: str
    config: ServerConfig
    truth: list[dict[str, Any]]
    log_lines: list[str]
    events: pd.DataFrame
    sessions: pd.DataFrame
    attempts: pd.DataFrame
    messages: pd.DataFrame
    findings: pd.DataFrame
    blocklist: list[str]

    def lines_about(self, ip: str) -> str:
        """The raw log lines that mention ``ip``: what a mismatch message shows."""
        marks = (f"[{ip}]", f",{ip})", f"rip={ip}", f"({ip})")
        hits = [ln for ln in self.log_lines if any(m in ln for m in marks)]
        return "\n".join(hits[:60]) + ("\n…" if len(hits) > 60 else "")


SCENARIOS = {"brute-force", "campaign", "spray", "takeover", "users", "inbound", "seed-tls", "seed-debug"}

_RUNS: dict[str, tuple[Path, list[dict[str, Any]]] | Exception] = {}


@pytest.fixture(scope="session")
def e2e_root() -> Path:
    ensure_packages()
    stopped = stop_leftovers(Path(tempfile.gettempdir()))  # of a killed earlier run
    if stopped:
        print(f"\nstopped daemons left by an earlier e2e run: {stopped}")
    # not pytest's tmp_path: its parents are private (0700) and the postfix user must reach
    # its queue, so a fresh world-traversable folder in /tmp; kept for inspection afterwards
    root = Path(tempfile.mkdtemp(prefix="maillog-e2e-"))
    root.chmod(0o755)
    print(f"\ne2e logs and ground truth under {root}")
    return root


def _run_server(root: Path, name: str) -> tuple[Path, list[dict[str, Any]]]:
    """Start the configuration's server, drive every scenario, stop it; logs stay under root."""
    reuse = os.environ.get("MAILLOG_E2E_REUSE")  # re-read the logs of an earlier run
    if reuse and (Path(reuse) / name / "ground-truth.jsonl").exists():
        _RUNS[name] = (Path(reuse) / name, list(read_truth(Path(reuse) / name / "ground-truth.jsonl")))
    if name not in _RUNS:
        where = root / name
        try:
            with running(where, CONFIGS[name]) as server:
                Driver(server, where / "ground-truth.jsonl").run_all()
            _RUNS[name] = (where, list(read_truth(where / "ground-truth.jsonl")))
        except Exception as e:  # once per configuration, not once per test
            _RUNS[name] = e
    run = _RUNS[name]
    if isinstance(run, Exception):
        raise run
    return run


@pytest.fixture(scope="session", params=sorted(VIEWS))
def observed(request: pytest.FixtureRequest, e2e_root: Path) -> Observed:
    view = request.param
    name, files = VIEWS[view]
    where, truth = _run_server(e2e_root, name)
    # every scenario left connections in the ground truth (a reused run could be empty)
    assert {t["scenario"] for t in truth} >= SCENARIOS, sorted({t["scenario"] for t in truth})
    logs = [where / "log" / f for f in files]
    ds = where / f"dataset-{view}"
    shutil.rmtree(ds, ignore_errors=True)
    # as a newcomer would: the CLI, with the machine's own zone and the files' year
    cli = [sys.executable, "-m", "maillog_forensics.cli"]
    res = subprocess.run(
        [*cli, "ingest", *map(str, logs), "-o", str(ds), "-q"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    events = mf.load_events(ds)
    sessions = sessions_from_events(events)
    attempts = auth_attempts_from_events(
        events, sessions=sessions, secrets=load_secrets(ds), hmac_key=mf.load_or_create_key(ds)
    )
    messages = messages_from_events(events)
    found = findings(events, sessions=sessions, attempts=attempts, messages=messages)
    bl = subprocess.run(
        [*cli, "blocklist", str(ds), "--format", "plain"], capture_output=True, text=True, timeout=300
    )
    assert bl.returncode == 0, bl.stderr
    entries = [ln.strip() for ln in bl.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    log_lines = [ln for p in logs for ln in p.read_text(errors="replace").splitlines()]
    return Observed(
        view, CONFIGS[name], truth, log_lines, events, sessions, attempts, messages, found, entries
    )
