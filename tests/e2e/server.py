"""A real Postfix + Dovecot or Cyrus SASL server on loopback, for the end-to-end tests.

Everything lives under one root folder: a private Postfix instance (``postfix -c ROOT/etc``,
its own queue, no chroot, listeners on 127.0.0.1 only), a private Dovecot instance used only
for SASL, and, when asked, a private rsyslogd that writes the mail facility in the classic
and the RFC 3339 file formats. Nothing is delivered anywhere: the hosted domain's mailboxes
and every other destination are Postfix's ``discard`` transport.

Each daemon is stopped by the PID it wrote (never ``pkill``); :meth:`MailServer.stop` runs
from a ``finally`` so a failing test leaves nothing running. Needs root and the Debian
packages in :data:`PACKAGES` (``ensure_packages`` installs what is missing).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

PACKAGES = {  # Debian package → a file it installs
    "postfix": "/usr/sbin/postfix",
    "dovecot-core": "/usr/sbin/dovecot",
    "rsyslog": "/usr/sbin/rsyslogd",
    "sasl2-bin": "/usr/sbin/saslpasswd2",
    "libsasl2-modules": "/usr/lib/x86_64-linux-gnu/sasl2/libplain.so",
    "openssl": "/usr/bin/openssl",
}

HOSTNAME = "mail.e2e.example"
DOMAIN = "e2e.example"
PORTS = {"smtp": 2525, "submission": 2587, "smtps": 2465}
RELAY_DOMAIN = "relay.example"  # relay_client: Postfix's smtp client relays it to our submission
RELAY_CLIENT_IP = "127.0.0.30"  # ... from this address (smtp_bind_address)
RELAY_ACCOUNT = "bob@e2e.example"  # ... logging in with bob's credentials
USERS = {  # the hosted accounts and their real passwords
    "alice@e2e.example": "Autumn2026!",
    "bob@e2e.example": "b0b-Correct-Horse",
    "carol@e2e.example": "carol+Battery9",
}


class HarnessError(RuntimeError):
    """The test server could not be set up; the message says what to do."""


def ensure_packages() -> None:
    """Install the Debian packages the server needs (idempotent, quiet; never starts services)."""
    missing = [pkg for pkg, probe in PACKAGES.items() if not _installed(probe)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise HarnessError(f"the e2e tests need root to install {' '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:  # keep the packages' stock services from starting while installing
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        seed = "postfix postfix/main_mailer_type select No configuration\n"
        subprocess.run(["debconf-set-selections"], input=seed, text=True, check=False)
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        ):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
            if res.returncode != 0:
                raise HarnessError(
                    f"`{' '.join(cmd)}` failed ({res.returncode}): {res.stderr.strip()[-800:]}"
                )
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
    still = [pkg for pkg, probe in PACKAGES.items() if not _installed(probe)]
    if still:
        raise HarnessError(f"installed but not found: {' '.join(still)}")


def _installed(probe: str) -> bool:
    if probe.endswith("libplain.so"):  # multiarch path differs between architectures
        return any(Path("/usr/lib").glob("*/sasl2/libplain.so"))
    return Path(probe).exists()


@dataclass
class ServerConfig:
    """One configuration of the server under test.

    Attributes
    ----------
    name:
        Short label, used in file names and test ids.
    sasl:
        ``"dovecot"``, ``"cyrus"`` (sasldb) or ``"saslauthd"`` (Cyrus SASL asking saslauthd,
        which asks PAM: the accounts are system users of the chroot; chroots only).
    postfix_log:
        ``"syslog"`` (through the private rsyslogd: classic and RFC 3339 files) or
        ``"maillog_file"`` (Postfix's own postlogd writes ``postfix.log``).
    dovecot_log:
        ``"syslog"`` or ``"file"`` (Dovecot's native ``log_path`` format); ignored for Cyrus.
    long_queue_ids:
        ``enable_long_queue_ids`` (queue IDs that encode their enqueue time).
    auth_rate_limit:
        ``smtpd_client_auth_rate_limit`` per minute and client (0: none, Postfix's default).
    passdb:
        Dovecot's password database: ``"passwd-file"``, ``"sql"`` (SQLite) or ``"pam"`` (the
        accounts are system users of the chroot; chroots only).
    auth_debug:
        Dovecot's ``auth_debug``, ``auth_debug_passwords`` and ``auth_verbose_passwords``
        (what an admin chasing a login problem turns on: the logs then carry passwords).
    smtpd_verbose:
        ``smtpd -v`` on the smtps service (master.cf): every smtps session's dialogue is
        logged, AUTH included (the attack marks those connections ``verbose = "smtpd_v"``).
    relay_client:
        Postfix's smtp client, under ``smtp -v``, relays mail for :data:`RELAY_DOMAIN` to this
        server's own submission port with SASL credentials (``smtp_sasl_password_maps``):
        the client side of SMTP AUTH, password lookup and dialogue, in the same log.
    """

    name: str
    sasl: str
    postfix_log: str
    dovecot_log: str = "syslog"
    long_queue_ids: bool = False
    auth_rate_limit: int = 0
    passdb: str = "passwd-file"
    auth_debug: bool = False
    smtpd_verbose: bool = False
    relay_client: bool = False


@dataclass
class MailServer:
    """A running (or stopped) server under ``root``; see the module docstring.

    With ``chroot`` (a Debian release's tree, :mod:`tests.e2e.chroot`), ``root`` lies inside
    it and every program is that release's, run with ``chroot``; the config files name the
    paths as the chrooted programs see them (:meth:`inner`). The chroot's own ``/dev/log`` is
    served by its own rsyslogd: the host's syslog is never touched.
    """

    root: Path
    config: ServerConfig
    chroot: Path | None = None
    port_offset: int = 0  # added to PORTS: servers of several generations side by side
    pids: dict[str, int] = field(default_factory=dict)
    _saved_devlog: Path | None = None
    _versions: dict[str, str] = field(default_factory=dict)

    # ---- running programs (on the host or in the chroot) ---------------------------------
    def inner(self, path: Path) -> Path:
        """``path`` (on the host) as the server's programs see it."""
        return Path("/") / path.relative_to(self.chroot) if self.chroot else path

    def cmd(self, argv: list[str]) -> list[str]:
        return ["chroot", str(self.chroot), *argv] if self.chroot else argv

    def chown(self, path: Path, user: str, group: str) -> None:
        """``chown user:group``, by the names of the chroot's (or the host's) user database."""
        etc = (self.chroot or Path("/")) / "etc"
        uid = _id_of(etc / "passwd", user)
        gid = _id_of(etc / "group", group)
        os.chown(path, uid, gid)

    def versions(self) -> dict[str, str]:
        """The Postfix and Dovecot (or Cyrus saslauthd) versions of this server's programs."""
        if not self._versions:
            self._versions["postfix"] = _run(self.cmd(["postconf", "-dh", "mail_version"])).stdout.strip()
            if self.config.sasl == "dovecot":
                self._versions["dovecot"] = _run(self.cmd(["dovecot", "--version"])).stdout.strip()
            elif self.config.sasl == "saslauthd":
                res = subprocess.run(
                    self.cmd(["saslauthd", "-v"]), capture_output=True, text=True, check=False
                )
                self._versions["saslauthd"] = (res.stdout + res.stderr).splitlines()[0].split()[-1]
        return self._versions

    def _dovecot24(self) -> bool:
        return tuple(int(x) for x in self.versions()["dovecot"].split(".")[:2]) >= (2, 4)

    def _postfix_version(self) -> tuple[int, int]:
        major, minor = self.versions()["postfix"].split(".")[:2]
        return int(major), int(minor)

    @property
    def ports(self) -> dict[str, int]:
        return {service: port + self.port_offset for service, port in PORTS.items()}

    # ---- paths -------------------------------------------------------------------------
    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def logs(self) -> Path:
        return self.root / "log"

    def log_files(self) -> list[Path]:
        """The log files this configuration writes, for ingest."""
        if self.config.postfix_log == "syslog":
            return [self.logs / "mail.log"]
        files = [self.logs / "postfix.log"]
        if self.config.sasl == "dovecot":
            files.append(self.logs / "dovecot.log")
        return files

    # ---- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        """Write every config file and start rsyslogd (if used), Dovecot (if used), Postfix."""
        if os.geteuid() != 0:
            raise HarnessError("the e2e tests need root (Postfix binds ports and drops privileges)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # postfix and dovecot users must reach their files
        for d in (self.etc, self.logs, self.root / "state", self.root / "run"):
            d.mkdir(exist_ok=True)
        # Postfix's own folders: postfix-script refuses to start the master otherwise
        for d in (self.root / "data", self.spool / "private"):
            d.mkdir(parents=True, exist_ok=True)
            self.chown(d, "postfix", "root")
            d.chmod(0o700)
        self._write_tls()
        self._write_postfix()
        if self.config.postfix_log == "syslog" or (
            self.config.sasl == "dovecot" and self.config.dovecot_log == "syslog"
        ):
            self._start_rsyslog()
        if self.config.sasl == "dovecot":
            self._start_dovecot()
        elif self.config.sasl == "saslauthd":
            self._start_saslauthd()
        else:
            self._write_sasldb()
        self._postfix("check")
        self._postfix("start")
        self.pids["postfix"] = _wait_pidfile(self.spool / "pid" / "master.pid")
        for port in self.ports.values():
            _wait_port(port)
        if self.config.sasl == "dovecot":
            _wait_path(self.spool / "private" / "auth")

    def stop(self) -> None:
        """Stop every daemon started here, by PID; restore a /dev/log that was moved aside."""
        if "postfix" in self.pids or (self.spool / "pid" / "master.pid").exists():
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):  # then by PID below
                subprocess.run(
                    self.cmd(["postfix", "-c", str(self.inner(self.etc)), "stop"]),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        for rel in _PIDFILES:  # a daemon whose start timed out has a pid file, not a recorded pid
            pid = _our_pid(self.root, rel, inner=self.inner(self.root))
            if pid is not None and pid not in self.pids.values():
                _terminate(pid)
        for name in ("postfix", "dovecot", "saslauthd", "rsyslog"):
            pid = self.pids.pop(name, None)
            if pid is not None:
                _terminate(pid)
        if self._saved_devlog is not None:
            with contextlib.suppress(FileNotFoundError):
                Path("/dev/log").unlink()
            self._saved_devlog.rename("/dev/log")
            self._saved_devlog = None

    def postconf(self, **settings: str) -> None:
        """Change main.cf settings and reload Postfix (``postconf -e`` + ``postfix reload``)."""
        args = [f"{k}={v}" for k, v in settings.items()]
        _run(self.cmd(["postconf", "-c", str(self.inner(self.etc)), "-e", *args]))
        self._postfix("reload")
        time.sleep(1.5)  # new smtpd processes pick the settings up; old ones finish first

    def wait_for_queue_empty(self, *, timeout: float = 60) -> None:
        """Wait until Postfix delivered (discarded) everything it accepted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            etc = str(self.inner(self.etc))
            out = _run(self.cmd(["postqueue", "-c", etc, "-j"])).stdout
            if not out.strip():
                return
            _run(self.cmd(["postqueue", "-c", etc, "-f"]))
            time.sleep(0.5)
        raise HarnessError(f"Postfix queue not empty after {timeout:.0f} s")

    def flush_logs(self) -> None:
        """Give the log writers time to write the last lines (postlogd and rsyslog buffer)."""
        time.sleep(1.5)

    # ---- configuration -----------------------------------------------------------------
    def _write_tls(self) -> None:
        key, crt = self.etc / "tls.key", self.etc / "tls.crt"
        if not crt.exists():
            _run(self.cmd(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={HOSTNAME}", "-keyout", str(self.inner(key)), "-out", str(self.inner(crt)),
                ]
            ))  # fmt: skip
            key.chmod(0o600)

    def _write_postfix(self) -> None:
        cfg = self.config
        i = self.inner
        sasl_path = "private/auth" if cfg.sasl == "dovecot" else "smtpd"
        maillog = str(i(self.logs / "postfix.log")) if cfg.postfix_log == "maillog_file" else ""
        # Postfix < 3.6 knows compatibility levels 0-2 only (3.6 numbered them by release)
        compat = "3.6" if self._postfix_version() >= (3, 6) else "2"
        main = f"""\
# maillog-forensics e2e server (tests/e2e/server.py); loopback only, nothing leaves
compatibility_level = {compat}
queue_directory = {i(self.spool)}
data_directory = {i(self.root / "data")}
mail_owner = postfix
setgid_group = postdrop
myhostname = {HOSTNAME}
mydomain = {DOMAIN}
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
biff = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
default_transport = discard:nothing-leaves-this-host
relay_transport = discard:nothing-leaves-this-host
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{i(self.etc / "vmailbox")}
virtual_transport = discard:delivered-to-mailbox
smtpd_tls_cert_file = {i(self.etc / "tls.crt")}
smtpd_tls_key_file = {i(self.etc / "tls.key")}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = {"dovecot" if cfg.sasl == "dovecot" else "cyrus"}
smtpd_sasl_path = {sasl_path}
cyrus_sasl_config_path = {i(self.etc / "sasl")}
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
smtpd_error_sleep_time = 0
debug_peer_level = 2
debug_peer_list =
soft_bounce = no
maillog_file = {maillog}
maillog_file_prefixes = {i(self.logs)}
enable_long_queue_ids = {"yes" if cfg.long_queue_ids else "no"}
smtpd_client_auth_rate_limit = {cfg.auth_rate_limit}
anvil_rate_time_unit = 60s
"""
        if cfg.relay_client:
            nexthop = f"[127.0.0.1]:{self.ports['submission']}"
            (self.etc / "transport").write_text(f"{RELAY_DOMAIN} smtp:{nexthop}\n")
            (self.etc / "sasl_passwd").write_text(f"{nexthop} {RELAY_ACCOUNT}:{USERS[RELAY_ACCOUNT]}\n")
            (self.etc / "sasl_passwd").chmod(0o600)
            main += f"""\
transport_maps = texthash:{i(self.etc / "transport")}
smtp_bind_address = {RELAY_CLIENT_IP}
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:{i(self.etc / "sasl_passwd")}
smtp_sasl_security_options = noanonymous
smtp_sasl_mechanism_filter = plain
smtp_tls_security_level = encrypt
"""
        (self.etc / "main.cf").write_text(main)
        auth_only = (  # submission and smtps: AUTH, and relaying only for those who logged in
            "  -o smtpd_sasl_auth_enable=yes\n"
            "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
        )
        ports = self.ports
        # relay_client: what comes in on submission is discarded there, so the copy Postfix
        # relays back in ends (no loop); carol's original goes in through smtps
        ends_here = "  -o content_filter=discard:relayed\n" if cfg.relay_client else ""
        master = f"""\
127.0.0.1:{ports["smtp"]} inet n - n - - smtpd
127.0.0.1:{ports["submission"]} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
{ends_here}{auth_only}127.0.0.1:{ports["smtps"]} inet n - n - - smtpd{" -v" if cfg.smtpd_verbose else ""}
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
{auth_only}pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp{" -v" if cfg.relay_client else ""}
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""
        (self.etc / "master.cf").write_text(master)
        (self.etc / "vmailbox").write_text("".join(f"{u} {u}/\n" for u in USERS))

    def _write_sasldb(self) -> None:
        sasl = self.etc / "sasl"
        sasl.mkdir(exist_ok=True)
        db = self.etc / "sasldb2"
        (sasl / "smtpd.conf").write_text(
            "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
            f"sasldb_path: {self.inner(db)}\nmech_list: PLAIN LOGIN\n"
        )
        for user, password in USERS.items():
            local, realm = user.split("@")
            argv = ["saslpasswd2", "-f", str(self.inner(db)), "-p", "-c", "-u", realm, local]
            _run(self.cmd(argv), input=password)
        self.chown(db, "root", "postfix")
        db.chmod(0o640)

    def _add_system_users(self) -> None:
        """The hosted accounts as system users of the chroot, for PAM (pam_unix)."""
        if self.chroot is None:
            raise HarnessError("PAM configurations add system users: chroot generations only")
        etc = self.chroot / "etc"
        hashes = {
            u: _run(self.cmd(["openssl", "passwd", "-6", "-stdin"]), input=p).stdout.strip()
            for u, p in USERS.items()
        }
        for name, line in (
            ("passwd", lambda n, u, h: f"{u}:x:{2000 + n}:65534::/nonexistent:/usr/sbin/nologin"),
            ("shadow", lambda n, u, h: f"{u}:{h}:20000:0:99999:7:::"),
        ):
            path = etc / name
            kept = [ln for ln in path.read_text().splitlines() if ln.split(":")[0] not in USERS]
            added = [line(n, u, h) for n, (u, h) in enumerate(hashes.items())]
            path.write_text("\n".join([*kept, *added]) + "\n")

    def _start_saslauthd(self) -> None:
        """saslauthd -a pam: the hosted accounts as system users of the chroot (pam_unix)."""
        self._add_system_users()
        mux = self.root / "run" / "saslauthd"
        mux.mkdir(exist_ok=True)
        mux.chmod(0o755)
        sasl = self.etc / "sasl"
        sasl.mkdir(exist_ok=True)
        (sasl / "smtpd.conf").write_text(
            f"pwcheck_method: saslauthd\nsaslauthd_path: {self.inner(mux / 'mux')}\nmech_list: PLAIN LOGIN\n"
        )
        # -r: the user name with its realm (alice@e2e.example), as the accounts are named
        argv = ["saslauthd", "-a", "pam", "-r", "-n", "2", "-m", str(self.inner(mux))]
        _run_daemon(self.cmd(argv), output=self.root / "run" / "saslauthd.out")
        self.pids["saslauthd"] = _wait_pidfile(mux / "saslauthd.pid")
        _wait_path(mux / "mux")

    def _start_dovecot(self) -> None:
        i = self.inner
        hashes = {u: self._dovecot_hash(p) for u, p in USERS.items()}
        secret: Path | None = None
        if self.config.passdb == "pam":
            self._add_system_users()
        elif self.config.passdb == "sql":
            db = self.etc / "users.sqlite"
            db.unlink(missing_ok=True)
            with contextlib.closing(sqlite3.connect(db)) as con, con:
                con.execute("CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT NOT NULL)")
                con.executemany("INSERT INTO users VALUES (?, ?)", hashes.items())
            secret = db
        else:
            secret = self.etc / "dovecot-users"
            secret.write_text("".join(f"{u}:{h}::::::\n" for u, h in hashes.items()))
        if secret is not None:
            self.chown(secret, "root", "dovecot")
            secret.chmod(0o640)
        log_path = "syslog" if self.config.dovecot_log == "syslog" else str(i(self.logs / "dovecot.log"))
        base = self.root / "run" / "dovecot"
        conf = self.etc / "dovecot.conf"
        common = f"""\
protocols =
base_dir = {i(base)}
state_dir = {i(self.root / "state" / "dovecot")}
instance_name = dovecot
ssl = no
log_path = {log_path}
syslog_facility = mail
auth_mechanisms = plain login
auth_verbose = yes
"""
        if self.config.auth_debug:  # every debug knob that writes secrets (issue 17)
            common += "auth_debug = yes\nauth_debug_passwords = yes\nauth_verbose_passwords = plain\n"
        listener = f"""\
service auth-worker {{
  user = root
}}
service auth {{
  unix_listener {i(self.spool / "private" / "auth")} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""
        query = "SELECT username AS user, password FROM users WHERE username = "
        if self._dovecot24():  # 2.4 changed the syntax: named filters, %{...} variables
            version = re.findall(r"\d+\.\d+\.\d+", self.versions()["dovecot"])[0]  # "2.4.1-4 (…)"
            if self.config.passdb == "pam":  # PAM service "dovecot" (/etc/pam.d/dovecot)
                passdb = "passdb pam {\n}\n"
            elif self.config.passdb == "sql":
                passdb = f"""\
sql_driver = sqlite
sqlite_path = {i(secret)}
passdb sql {{
  passdb_sql_query = {query}'%{{user}}'
}}
"""
            else:
                passdb = f"passdb passwd-file {{\n  passwd_file_path = {i(secret)}\n}}\n"
            text = f"""\
dovecot_config_version = {version}
dovecot_storage_version = {version}
{common}auth_allow_cleartext = yes
auth_username_format = %{{user | lower}}
{passdb}userdb static {{
  fields {{
    uid = nobody
    gid = nogroup
    home = /nonexistent
  }}
}}
{listener}"""
        else:
            if self.config.passdb == "pam":
                passdb = "passdb {\n  driver = pam\n  args = dovecot\n}\n"
            elif self.config.passdb == "sql":
                sql_conf = self.etc / "dovecot-sql.conf.ext"
                sql_conf.write_text(f"driver = sqlite\nconnect = {i(secret)}\npassword_query = {query}'%u'\n")
                passdb = f"passdb {{\n  driver = sql\n  args = {i(sql_conf)}\n}}\n"
            else:
                passdb = f"passdb {{\n  driver = passwd-file\n  args = {i(secret)}\n}}\n"
            text = f"""\
{common}disable_plaintext_auth = no
auth_username_format = %Lu
{passdb}userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
{listener}"""
        conf.write_text(text)
        _run_daemon(self.cmd(["dovecot", "-c", str(i(conf))]), output=self.root / "run" / "dovecot.out")
        self.pids["dovecot"] = _wait_pidfile(base / "master.pid")

    def _dovecot_hash(self, password: str) -> str:
        return _run(self.cmd(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password])).stdout.strip()

    def _start_rsyslog(self) -> None:
        i = self.inner
        if self.chroot:  # the chroot's own /dev/log: a stale socket of an earlier run goes
            devlog = self.chroot / "dev" / "log"
            with contextlib.suppress(FileNotFoundError):
                devlog.unlink()
        else:
            devlog = Path("/dev/log")
            if devlog.exists() or devlog.is_symlink():
                # another syslog daemon owns /dev/log: move its socket aside, restore it in stop()
                saved = Path("/dev/log.maillog-e2e-saved")
                devlog.rename(saved)
                self._saved_devlog = saved
        conf = self.etc / "rsyslog.conf"
        work = self.root / "state" / "rsyslog"
        work.mkdir(parents=True, exist_ok=True)
        classic, rfc3339 = i(self.logs / "mail.log"), i(self.logs / "mail.rfc3339.log")
        # saslauthd and PAM log to the auth facilities
        pam = self.config.sasl == "saslauthd" or self.config.passdb == "pam"
        which = "mail.*;auth,authpriv.*" if pam else "mail.*"
        conf.write_text(
            f"""\
global(workDirectory="{i(work)}" localHostname="mail")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
{which} action(type="omfile" file="{classic}" template="RSYSLOG_TraditionalFileFormat")
{which} action(type="omfile" file="{rfc3339}" template="RSYSLOG_FileFormat")
"""
        )
        pidfile = self.root / "run" / "rsyslogd.pid"
        _run_daemon(
            self.cmd(["rsyslogd", "-f", str(i(conf)), "-i", str(i(pidfile))]),
            output=self.root / "run" / "rsyslogd.out",
        )
        self.pids["rsyslog"] = _wait_pidfile(pidfile)
        _wait_path(devlog)

    def _postfix(self, command: str) -> None:
        try:
            _run_daemon(
                self.cmd(["postfix", "-c", str(self.inner(self.etc)), command]),
                output=self.root / "run" / "postfix.out",
            )
        except HarnessError as e:  # Postfix says why in its log, not on stderr
            logs = [p for p in (self.logs / "postfix.log", self.logs / "mail.log") if p.exists()]
            tail = "\n".join(ln for p in logs for ln in p.read_text(errors="replace").splitlines()[-8:])
            raise HarnessError(f"{e}\n{tail}") from None


@contextlib.contextmanager
def running(
    root: Path, config: ServerConfig, *, chroot: Path | None = None, port_offset: int = 0
) -> Iterator[MailServer]:
    """Start a server, yield it, and stop every daemon whatever happens.

    SIGTERM (a CI timeout) unwinds through ``stop`` like an exception (in the main thread:
    a server run in a worker thread finishes its scenario first); for a run killed harder,
    :func:`stop_leftovers` cleans up before the next one.
    """
    server = MailServer(root, config, chroot=chroot, port_offset=port_offset)

    def on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(f"terminated by signal {signum}")

    main = threading.current_thread() is threading.main_thread()  # handlers: main thread only
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main else None
    # one server per chroot at a time (any process): they would share its /dev/log and users
    lock = open(chroot / "tmp" / ".maillog-e2e.lock", "w") if chroot else None  # noqa: SIM115
    try:
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        server.start()
        yield server
    finally:
        server.stop()
        if lock is not None:
            lock.close()
        if main:
            signal.signal(signal.SIGTERM, previous)


#: pid files of the daemons a server starts, relative to its root, and their program names
_PIDFILES = {
    "spool/pid/master.pid": "master",
    "run/dovecot/master.pid": "dovecot",
    "run/rsyslogd.pid": "rsyslogd",
    "run/saslauthd/saslauthd.pid": "saslauthd",
}


def stop_leftovers(base: Path, *, chroot: Path | None = None) -> list[int]:
    """Stop daemons of earlier e2e servers under ``base`` (``maillog-e2e-*``) by their PIDs.

    Only a PID whose process still runs from that server's folders is signalled (pid files
    outlive their processes, and PIDs are reused). ``base`` inside ``chroot``: the servers
    ran there (their command lines name the paths as seen inside). Returns the PIDs stopped.
    """
    stopped = []
    roots = {
        p.parent for pattern in ("maillog-e2e-*/*/etc", "maillog-e2e-*/*/*/etc") for p in base.glob(pattern)
    }
    for root in sorted(roots):
        inner = Path("/") / root.relative_to(chroot) if chroot else root
        for rel in _PIDFILES:
            pid = _our_pid(root, rel, inner=inner)
            if pid is not None:
                _terminate(pid)
                stopped.append(pid)
    devlog_saved = Path("/dev/log.maillog-e2e-saved")
    if devlog_saved.exists():  # an interrupted syslog run had moved the real one aside
        with contextlib.suppress(FileNotFoundError):
            Path("/dev/log").unlink()
        devlog_saved.rename("/dev/log")
    return stopped


def _our_pid(root: Path, rel: str, *, inner: Path | None = None) -> int | None:
    """The PID in ``root/rel`` if that process is still the daemon this server started.

    Its program name must match, and its command line or working folder must point into
    ``root`` (Postfix's master runs in its queue folder; Dovecot and rsyslogd got our config
    path; ``inner``: the root as a chrooted server saw it): a reused PID of the machine's
    own daemon is never signalled.
    """
    try:
        pid = int((root / rel).read_text().split()[0])
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (FileNotFoundError, ValueError, IndexError, PermissionError, ProcessLookupError):
        return None
    program = _PIDFILES[rel]
    if not (comm == program or comm.startswith(program[:15])):
        return None
    marks = {str(root), str(inner or root)}
    return pid if any(m in cmdline or cwd.startswith(m) for m in marks) else None


def _id_of(db: Path, name: str) -> int:
    """The numeric id of ``name`` in a passwd or group file."""
    for line in db.read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise HarnessError(f"no {name!r} in {db}")


def _run(cmd: list[str], *, input: str | None = None) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120, check=False)
    if res.returncode != 0:
        said = (res.stderr or res.stdout).strip()[-800:]
        raise HarnessError(f"`{' '.join(cmd)}` failed ({res.returncode}): {said}")
    return res


def _run_daemon(cmd: list[str], *, output: Path) -> None:
    # a daemon's forked child keeps inherited pipes open, so capture into a file, not a pipe
    with open(output, "ab") as out:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=120, check=False)
    if res.returncode != 0:
        said = output.read_text(errors="replace").strip()[-800:]
        raise HarnessError(f"`{' '.join(cmd)}` failed ({res.returncode}): {said}")


def _wait_for(check: Callable[[], T | None], what: str, *, timeout: float = 20) -> T:
    """Poll ``check`` until it returns a value (not None); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.1)
    raise HarnessError(f"{what} after {timeout:.0f} s")


def _wait_pidfile(path: Path) -> int:
    def live_pid() -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(path.read_text().split()[0])
            os.kill(pid, 0)
            return pid
        return None

    return _wait_for(live_pid, f"no live process in {path}")


def _wait_port(port: int) -> None:
    # read the kernel's socket table rather than connecting: a probe connection would be a
    # session in the very logs under test
    want = f":{port:04X} "

    def listening() -> bool | None:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
        return any(want in r.split()[1] + " " and r.split()[3] == "0A" for r in rows) or None

    _wait_for(listening, f"nothing listens on 127.0.0.1:{port}")


def _wait_path(path: Path) -> None:
    _wait_for(lambda: path.exists() or None, f"{path} did not appear")


def _terminate(pid: int, *, timeout: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
