"""Every read command works on a read-only dataset (evidence on read-only media) and
creates nothing in it.

As root, permissions are no obstacle: the dataset is then bind-mounted read-only in a
private mount namespace (``unshare -m``), the way evidence media are mounted. Otherwise
(no root) ``chmod -R a-w`` makes it read-only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import maillog_forensics as mf
from maillog_forensics.cli import TABLES

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "mail.log"


def _as_root_with_namespaces() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


ROOT = _as_root_with_namespaces()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("ro")
    ds = tmp / "ds"
    mf.ingest([str(SAMPLE)], ds, tz="UTC", year=2026)
    if not ROOT:
        subprocess.run(["chmod", "-R", "a-w", str(ds)], check=True)
    yield ds
    subprocess.run(["chmod", "-R", "u+w", str(ds)], check=True)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under a folder with its size and modification time."""
    out = {}
    for p in [folder, *folder.rglob("*")]:
        st = p.lstat()
        out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


def run_read_only(dataset: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line with ``dataset`` read-only."""
    cli = [sys.executable, "-m", "maillog_forensics.cli", *args]
    if ROOT:
        script = 'mount --bind -o ro "$0" "$0" && touch "$0/probe" 2>/dev/null && exit 99; exec "$@"'
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(dataset), *cli]
    else:
        cmd = cli
    env = {**os.environ, "MPLBACKEND": "Agg", "XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


COMMANDS = [
    ["summary", "{ds}"],
    ["findings", "{ds}"],
    ["findings", "{ds}", "--format", "json"],
    ["blocklist", "{ds}"],
    *[["export", table, "{ds}", "-o", "{out}/t.csv"] for table in TABLES],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_read_command_on_a_read_only_dataset(dataset: Path, tmp_path: Path, command: list[str]) -> None:
    before = snapshot(dataset)
    args = [a.format(ds=dataset, out=tmp_path) for a in command]
    res = run_read_only(dataset, *args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Read-only" not in res.stderr and "Permission denied" not in res.stderr
    assert snapshot(dataset) == before  # nothing created, nothing touched
    if command[0] == "export":
        assert (tmp_path / "t.csv").stat().st_size > 0


def test_report_of_a_read_only_dataset_into_another_folder(dataset: Path, tmp_path: Path) -> None:
    before = snapshot(dataset)
    res = run_read_only(dataset, "report", str(dataset), "-o", str(tmp_path / "reports"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert snapshot(dataset) == before
    assert (tmp_path / "reports" / "index.html").exists()
    # the pages are self-contained: no script, stylesheet or image from the network
    import re

    pages = sorted((tmp_path / "reports").glob("*.html"))
    assert len(pages) >= 4
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)
    assert {p.name: remote.findall(p.read_text()) for p in pages} == {p.name: [] for p in pages}


@pytest.fixture(scope="module")
def old_dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A dataset written before ingest made its HMAC key: readers must not make it there."""
    ds = tmp_path_factory.mktemp("old") / "ds"
    mf.ingest([str(SAMPLE)], ds, tz="UTC", year=2026)
    (ds / "secrets" / "hmac.key").unlink()
    if not ROOT:
        subprocess.run(["chmod", "-R", "a-w", str(ds)], check=True)
    yield ds
    subprocess.run(["chmod", "-R", "u+w", str(ds)], check=True)


def test_a_dataset_without_key_gets_a_private_one_outside_it(old_dataset: Path, tmp_path: Path) -> None:
    before = snapshot(old_dataset)
    out = []
    for _ in range(2):
        res = run_read_only(old_dataset, "export", "attempts", str(old_dataset), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        out.append(res.stdout)
    assert snapshot(old_dataset) == before
    assert "password_hmac" in out[0] and out[0] == out[1]  # the same fingerprints each run
    (key,) = (tmp_path / "cache" / "maillog-forensics" / "keys").iterdir()
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700


def test_ingest_gives_the_dataset_its_key(tmp_path: Path) -> None:
    mf.ingest([str(SAMPLE)], tmp_path / "ds", tz="UTC", year=2026)
    key = tmp_path / "ds" / "secrets" / "hmac.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(bytes.fromhex(key.read_text())) == 32
    assert mf.load_or_create_key(tmp_path / "ds") == bytes.fromhex(key.read_text())
