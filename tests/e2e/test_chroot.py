"""The chroot cache: which suites run, and when a cached chroot is taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chroot import CHROOT_PACKAGES, DEFAULT_SUITES, cache_dir, chroot_key, suites_from_env


def test_suites_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILLOG_E2E_SUITES", raising=False)
    assert suites_from_env() == list(DEFAULT_SUITES) == ["bullseye", "bookworm", "trixie"]
    monkeypatch.setenv("MAILLOG_E2E_SUITES", "bookworm, trixie")
    assert suites_from_env() == ["bookworm", "trixie"]
    monkeypatch.setenv("MAILLOG_E2E_SUITES", "host")
    assert suites_from_env() == ["host"]


def test_the_cache_is_keyed_by_suite_and_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "maillog-forensics" / "e2e-chroots"
    key = chroot_key("trixie")
    assert key == chroot_key("trixie", tuple(reversed(CHROOT_PACKAGES)))  # order does not matter
    assert key != chroot_key("bookworm")
    assert key != chroot_key("trixie", (*CHROOT_PACKAGES, "strace"))
