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
import time
from concurrent.futures import Future, ThreadPoolExecutor
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
from tests.e2e.chroot import ensure_chroot, suites_from_env
from tests.e2e.server import ServerConfig, ensure_packages, running, stop_leftovers

#: the server generations to run (MAILLOG_E2E_SUITES): Debian suites, each in its chroot
#: (tests/e2e/chroot.py), or "host" for the machine's own packages
GENERATIONS = suites_from_env()
CONFIGS = {
    c.name: c
    for c in (
        ServerConfig("dovecot-syslog", sasl="dovecot", postfix_log="syslog"),
        ServerConfig("dovecot-maillog", sasl="dovecot", postfix_log="maillog_file", dovecot_log="file"),
        ServerConfig(
            "cyrus-maillog", sasl="cyrus", postfix_log="maillog_file", long_queue_ids=True, auth_rate_limit=6
        ),
        # Cyrus SASL through saslauthd and PAM (pam_unix): the classic Debian set-up
        ServerConfig("saslauthd-pam", sasl="saslauthd", postfix_log="syslog"),
        # Dovecot asking PAM (system users): pam_unix's lines beside Dovecot's
        ServerConfig("dovecot-pam", sasl="dovecot", postfix_log="syslog", passdb="pam"),
        # an admin chasing a login problem: every Dovecot auth debug knob on, passdb in SQLite
        ServerConfig(
            "dovecot-debug-sql",
            sasl="dovecot",
            postfix_log="maillog_file",
            dovecot_log="file",
            passdb="sql",
            auth_debug=True,
            smtpd_verbose=True,
            relay_client=True,
        ),
    )
}
# (configuration, which of its log files we read): the syslog run is read in both formats
VIEWS = {
    "dovecot-syslog-classic": ("dovecot-syslog", ["mail.log"]),
    "dovecot-syslog-rfc3339": ("dovecot-syslog", ["mail.rfc3339.log"]),
    "dovecot-maillog": ("dovecot-maillog", ["postfix.log", "dovecot.log"]),
    "cyrus-maillog": ("cyrus-maillog", ["postfix.log"]),
    "dovecot-debug-sql": ("dovecot-debug-sql", ["postfix.log", "dovecot.log"]),
    "saslauthd-pam": ("saslauthd-pam", ["mail.log"]),
    "dovecot-pam": ("dovecot-pam", ["mail.log"]),
}


def _adds_users(config: ServerConfig) -> bool:
    """PAM configurations add system users: they run in the chroots only, never on the host."""
    return config.sasl == "saslauthd" or config.passdb == "pam"


#: test ids: generation-view
CASES = {
    f"{gen}-{view}": (gen, view)
    for gen in GENERATIONS
    for view, (name, _) in VIEWS.items()
    if gen != "host" or not _adds_users(CONFIGS[name])
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Which runs the selected tests need (``-k`` may select a few): only those are made."""
    for item in session.items:
        case = getattr(item, "callspec", None) and item.callspec.params.get("observed")
        if case in CASES:
            gen, view = CASES[case]
            _WANTED.add((gen, VIEWS[view][0]))


@dataclass
class Observed:
    """One configuration's ground truth and everything we made of its logs."""

    view: str
    generation: str
    config: ServerConfig
    truth: list[dict[str, Any]]
    log_lines: list[str]
    events: pd.DataFrame
    sessions: pd.DataFrame
    attempts: pd.DataFrame
    messages: pd.DataFrame
    findings: pd.DataFrame
    blocklist: list[str]
    dataset: Path

    def lines_about(self, ip: str) -> str:
        """The raw log lines that mention ``ip``: what a mismatch message shows."""
        marks = (f"[{ip}]", f",{ip})", f"rip={ip}", f"({ip})", f",{ip},")
        hits = [ln for ln in self.log_lines if any(m in ln for m in marks)]
        return "\n".join(hits[:60]) + ("\n…" if len(hits) > 60 else "")


SCENARIOS = {"brute-force", "campaign", "spray", "takeover", "users", "inbound", "seed-tls", "seed-debug"}

Run = tuple[Path, list[dict[str, Any]]]
_RUNS: dict[tuple[str, str], Future[Run]] = {}
_POOL: list[ThreadPoolExecutor] = []
_WANTED: set[tuple[str, str]] = set()  # (generation, configuration) the selected tests read
#: what the terminal summary prints: per generation its build, and per run its versions and time
_REPORT: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def e2e_root() -> Path:
    if "host" in GENERATIONS:
        ensure_packages()
    stopped = stop_leftovers(Path(tempfile.gettempdir()))  # of a killed earlier run
    if stopped:
        print(f"\nstopped daemons left by an earlier e2e run: {stopped}")
    # not pytest's tmp_path: its parents are private (0700) and the postfix user must reach
    # its queue, so a fresh world-traversable folder in /tmp (inside each generation's
    # chroot: its /tmp); kept for inspection afterwards
    root = Path(tempfile.mkdtemp(prefix="maillog-e2e-"))
    root.chmod(0o755)
    print(f"\ne2e logs and ground truth under {root}")
    return root


def _generation(root: Path, gen: str, index: int, *, skip: set[str]) -> dict[str, Future[Run]]:
    """Run every configuration of one generation (but ``skip``), one after the other, in a thread."""
    runs = [n for n in CONFIGS if n not in skip and (gen, n) in _WANTED]
    futures: dict[str, Future[Run]] = {name: Future() for name in runs}
    if not futures:
        return futures

    def work() -> None:
        lines = _REPORT.setdefault(gen, [])
        try:
            chroot: Path | None = None
            top = root
            if gen != "host":
                built = ensure_chroot(gen)
                chroot = built.path
                how = "cached" if built.build_seconds is None else f"built in {built.build_seconds:.0f} s"
                lines.append(f"chroot {chroot} ({how})")
                stopped = stop_leftovers(chroot / "tmp", chroot=chroot)
                if stopped:
                    lines.append(f"stopped daemons left by an earlier run: {stopped}")
                top = chroot / "tmp" / root.name
                top.mkdir(mode=0o755, exist_ok=True)
                top.chmod(0o755)
        except BaseException as e:  # every configuration of the generation reports it
            for f in futures.values():
                f.set_exception(e)
            return
        for name in runs:
            config = CONFIGS[name]
            where = top / name
            started = time.monotonic()
            try:
                with running(where, config, chroot=chroot, port_offset=100 * index) as server:
                    v = server.versions()
                    said = ", ".join(f"{k} {v[k]}" for k in ("postfix", "dovecot", "saslauthd") if k in v)
                    Driver(server, where / "ground-truth.jsonl").run_all()
                lines.append(f"{name}: {said}; ran in {time.monotonic() - started:.0f} s; logs in {where}")
                futures[name].set_result((where, list(read_truth(where / "ground-truth.jsonl"))))
            except BaseException as e:  # once per configuration, not once per test
                lines.append(f"{name}: failed after {time.monotonic() - started:.0f} s: {e}")
                futures[name].set_exception(e)

    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=len(GENERATIONS), thread_name_prefix="e2e"))
    _POOL[0].submit(work)
    return futures


def _run_server(root: Path, gen: str, name: str) -> Run:
    """The configuration's run: its logs and ground truth (the servers are stopped by then).

    On the first call every generation starts in its own thread (its own chroot, its own
    ports), so the generations run side by side; the configurations of one generation run
    one after the other.
    """
    if not _RUNS:
        for index, g in enumerate(GENERATIONS):
            reused = set()
            for n in CONFIGS:
                where = _reused(g, n)
                if where is not None:
                    done: Future[Run] = Future()
                    done.set_result((where, list(read_truth(where / "ground-truth.jsonl"))))
                    _RUNS[(g, n)] = done
                    reused.add(n)
            _RUNS.update({(g, n): f for n, f in _generation(root, g, index, skip=reused).items()})
    return _RUNS[(gen, name)].result()


def _reused(gen: str, name: str) -> Path | None:
    """``MAILLOG_E2E_REUSE=maillog-e2e-XXXX``: that earlier run's logs, re-read, not re-made.

    The run's folder is in /tmp ("host") or in the generation's chroot's /tmp.
    """
    reuse = os.environ.get("MAILLOG_E2E_REUSE")
    if not reuse:
        return None
    base = Path(tempfile.gettempdir()) if gen == "host" else ensure_chroot(gen).path / "tmp"
    where = base / Path(reuse).name / name
    return where if (where / "ground-truth.jsonl").exists() else None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORT:
        return
    terminalreporter.section("e2e server generations")
    for gen, lines in _REPORT.items():
        for line in lines:
            terminalreporter.write_line(f"{gen}: {line}")


def pytest_unconfigure(config: pytest.Config) -> None:
    for pool in _POOL:  # a failing session waits for its servers to stop (their finally)
        pool.shutdown(wait=True)


@pytest.fixture(scope="session", params=sorted(CASES))
def observed(request: pytest.FixtureRequest, e2e_root: Path) -> Observed:
    gen, view = CASES[request.param]
    name, files = VIEWS[view]
    where, truth = _run_server(e2e_root, gen, name)
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
        view, gen, CONFIGS[name], truth, log_lines, events, sessions, attempts, messages, found, entries, ds
    )
