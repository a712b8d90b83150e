"""Debian release chroots for the end-to-end tests: one server generation each.

``make e2e`` runs the real servers of several Debian releases (``MAILLOG_E2E_SUITES``, default
:data:`DEFAULT_SUITES`): each in a ``debootstrap --variant=minbase`` chroot with
:data:`CHROOT_PACKAGES`, built on first use and cached outside the repository under
``${XDG_CACHE_HOME:-~/.cache}/maillog-forensics/e2e-chroots/<suite>-<key>`` (the key is a
hash of the suite and the package list, so a changed list builds afresh). A build goes to a
``.partial`` folder renamed into place only when complete: an interrupted build is never
taken for a finished one. A ``policy-rc.d`` that refuses every service start is put in place
before the packages are unpacked, so no daemon of the chroot ever starts on its own.

Nothing is mounted: debootstrap creates the device nodes the servers need (``/dev/null``,
``/dev/urandom``) and ``/dev/log`` is the chroot's own socket, served by the chroot's rsyslogd.
A ``rm -rf`` of the cache is always safe.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
DEFAULT_SUITES = ("bullseye", "bookworm", "trixie")
CHROOT_PACKAGES = (
    "postfix",
    "dovecot-core",
    "dovecot-sqlite",
    "sasl2-bin",
    "libsasl2-modules",
    "rsyslog",
    "sqlite3",
    "openssl",
    "libpam-modules",
)
BUILD_TIMEOUT = 1800  # s; a cold build took 215-235 s (the three side by side, 2 cores, deb.debian.org)


class ChrootError(RuntimeError):
    """A chroot could not be built; the message says why."""


@dataclass(frozen=True)
class Chroot:
    suite: str
    path: Path
    build_seconds: float | None  # None: taken from the cache

    def versions(self) -> dict[str, str]:
        """The installed versions of the packages that make the logs (from dpkg's status)."""
        want = {"postfix", "dovecot-core", "sasl2-bin", "rsyslog"}
        found: dict[str, str] = {}
        status = (self.path / "var/lib/dpkg/status").read_text(errors="replace")
        for block in status.split("\n\n"):
            fields = dict(
                ln.split(": ", 1) for ln in block.splitlines() if ": " in ln and not ln.startswith(" ")
            )
            if fields.get("Package") in want and "installed" in fields.get("Status", ""):
                found[fields["Package"]] = fields.get("Version", "?")
        return found


def suites_from_env() -> list[str]:
    """The Debian suites to run (``MAILLOG_E2E_SUITES``: comma- or space-separated)."""
    raw = os.environ.get("MAILLOG_E2E_SUITES")
    if raw is None:
        return list(DEFAULT_SUITES)
    return [s for s in raw.replace(",", " ").split() if s]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "maillog-forensics" / "e2e-chroots"


def chroot_key(suite: str, packages: tuple[str, ...] = CHROOT_PACKAGES) -> str:
    return hashlib.sha256(" ".join([suite, *sorted(packages)]).encode()).hexdigest()[:10]


def ensure_chroot(suite: str, *, packages: tuple[str, ...] = CHROOT_PACKAGES) -> Chroot:
    """The cached chroot of ``suite``, built with debootstrap if missing (needs root)."""
    final = cache_dir() / f"{suite}-{chroot_key(suite, packages)}"
    if (final / ".complete").exists():
        return Chroot(suite, final, None)
    if os.geteuid() != 0:
        raise ChrootError(f"building the {suite} chroot needs root (debootstrap)")
    if shutil.which("debootstrap") is None:
        raise ChrootError("debootstrap is not installed (apt-get install debootstrap)")
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    policy = partial / "usr/sbin/policy-rc.d"
    policy.parent.mkdir(parents=True)
    policy.write_text("#!/bin/sh\n# maillog-forensics e2e chroot: no service ever starts\nexit 101\n")
    policy.chmod(0o755)
    started = time.monotonic()
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(packages)}",
        suite,
        str(partial),
        MIRROR,
    ]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = final.with_name(final.name + ".build.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        res = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=BUILD_TIMEOUT)
    if res.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise ChrootError(f"`{' '.join(cmd)}` failed ({res.returncode}):\n" + "\n".join(tail))
    for deb in (partial / "var/cache/apt/archives").glob("*.deb"):  # not needed once unpacked
        deb.unlink()
    (partial / ".complete").write_text(f"{suite} {' '.join(packages)}\n")
    seconds = time.monotonic() - started
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return Chroot(suite, final, seconds)
