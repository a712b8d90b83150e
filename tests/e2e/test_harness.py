"""The harness itself: it never leaves a daemon running."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.e2e.server import MailServer, ServerConfig, ensure_packages, running, stop_leftovers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_daemons_of_a_killed_run_are_stopped_by_pid() -> None:
    ensure_packages()
    base = Path(tempfile.mkdtemp(prefix="maillog-e2e-harness-"))
    base.chmod(0o755)
    top = base / "maillog-e2e-killed"
    top.mkdir(mode=0o755)
    # a run that died without its finally: the server is started and simply forgotten
    server = MailServer(top / "cyrus", ServerConfig("cyrus", sasl="cyrus", postfix_log="maillog_file"))
    try:
        server.start()
        master = server.pids["postfix"]
        assert _alive(master)
        assert stop_leftovers(base) == [master]
        assert not _alive(master)
    finally:
        server.stop()  # whatever happened above, nothing keeps the ports
    # and the ports are free again: a new server starts and stops cleanly
    with running(base / "maillog-e2e-next" / "cyrus", server.config) as again:
        pid = again.pids["postfix"]
    assert not _alive(pid)
