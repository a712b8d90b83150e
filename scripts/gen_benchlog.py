#!/usr/bin/env python3
"""Generate realistic, deterministic Postfix + Dovecot syslog logs for benchmarks.

The output looks like ``/var/log/mail.log`` of a Debian 12 host ``mail`` (Postfix 3.7.11
behind postscreen, Dovecot SASL/LMTP/IMAP) that receives and sends ordinary mail while it is
being attacked: a SASL password-guessing campaign from a handful of addresses, a slow
distributed botnet spread over one /24, spam bots stopped by postscreen, rejected relay and
recipient probes, port scanners.

Everything is driven by one ``random.Random(seed)``: the same arguments give byte-identical
output. Lines are produced by short "scenarios" (one SMTP session, one message, one IMAP
login ...) that schedule their lines at future log times on a heap; the heap is drained in
time order, so timestamps are monotonic and concurrent sessions interleave like in a real
log. Memory stays bounded (only lines scheduled in the near future are held) and output is
streamed in batches.

Only documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)
and example.com/.net/.org names are used. example.com is the local domain.

Usage::

    python scripts/gen_benchlog.py --lines 1000000 --seed 1 --format bsd -o /tmp/bench.log
    python scripts/gen_benchlog.py --lines 100000 --seed 7 --format rfc3339 -o x.log.gz
    python scripts/gen_benchlog.py --lines 50 --seed 1 --format bsd --long-queue-ids

Formats: ``bsd`` = ``Mar  1 00:00:07 mail prog[pid]: msg`` (rsyslog traditional);
``rfc3339`` = ``2026-03-01T00:00:07.123456+00:00 mail prog[pid]: msg`` (Debian 12 default).
``--start`` is taken as UTC unless it carries an offset, which is then used for the local
time and the RFC 3339 suffix. With ``--long-queue-ids`` the queue IDs follow Postfix's
``enable_long_queue_ids`` encoding and decode to the enqueue time.

Deliberate format mix (parsers should meet both): SASL LOGIN failures are logged the old way
(``...failed: UGFzc3dvcmQ6``), SASL PLAIN failures the 3.9+/3.7.11 way
(``...failed: (reason unavailable), sasl_username=...``).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import heapq
import itertools
import math
import random
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

HOST = "mail"
SERVER_IP = "192.0.2.25"
SERVER_NAME = "mail.example.com"
DOMAIN = "example.com"
POSTFIX_VERSION = "3.7.11"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LONG_QID_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
PID_MAX = 4194304
heappush = heapq.heappush

TLS13 = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256"
)
TLS12 = "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"
TLS13_OUT = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature ECDSA (P-256) server-digest SHA256"
)
DNSBLS = ("zen.dnsbl.example.org", "bl.spamcop.example.net", "b.barracuda.example.org")
# fmt: off
USERS = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "oscar", "peggy", "rupert", "sybil", "trent", "victor", "walter", "wendy",
    "xavier", "yvonne", "zoe", "info", "sales", "support", "billing",
)
GUESSES = (
    "admin", "administrator", "backup", "billing", "contact", "demo", "guest", "help", "hr",
    "info", "mail", "mailer", "marketing", "news", "noreply", "office", "postmaster", "root",
    "sales", "scanner", "server", "service", "smtp", "spam", "support", "test", "test1", "user",
    "user1", "web", "webmaster", "www", "alice", "bob", "carol", "dave", "denver", "derek",
    "derrick", "frank", "grace", "ivan", "oscar", "peggy", "victor", "walter",
)
REMOTE_LOCALS = (
    "newsletter", "noreply", "info", "billing", "john.doe", "jane", "orders", "alerts", "support",
    "hello", "team", "no-reply", "notifications", "mike", "sarah", "postmaster",
)
# fmt: on
SPAM_HELOS = ("ylmf-pc", "User", "localhost", "example.net", "WIN-5N8GBBS0R5I", "WIN-6A0KEE6QVP5")
UNKNOWN_RCPT = "Recipient address rejected: User unknown in virtual mailbox table"
HTTP_PROBES = ("GET / HTTP/1.1", "GET /favicon.ico HTTP/1.1", "CONNECT example.net:443 HTTP/1.1")


def _fmt_delay(x: float) -> str:
    """Postfix-style delay: 2 significant digits below 10 s, whole seconds above."""
    if x >= 10:
        return str(int(x))
    s = f"{x:.1f}" if x >= 1 else f"{x:.2f}"
    return s.rstrip("0").rstrip(".") or "0"


DELAY_TABLE = tuple(_fmt_delay(i / 100) for i in range(1000))


def fd(x: float) -> str:
    """Format a delay value quickly (table lookup below 10 s)."""
    return DELAY_TABLE[int(x * 100)] if x < 10 else str(int(x))


_STATS_CACHE: dict[tuple[tuple[str, int, int], ...], str] = {}


def cmd_stats(cmds: Sequence[tuple[str, int, int]]) -> str:
    """Postfix 3.x disconnect statistics, e.g. ``ehlo=1 auth=0/1 commands=1/2``."""
    key = tuple(cmds)
    cached = _STATS_CACHE.get(key)
    if cached is not None:
        return cached
    parts = []
    ok = total = 0
    for name, good, n in cmds:
        parts.append(f"{name}={good}" if good == n else f"{name}={good}/{n}")
        ok += good
        total += n
    parts.append(f"commands={ok}" if ok == total and total else f"commands={ok}/{total}")
    _STATS_CACHE[key] = text = " ".join(parts)
    return text


def encode_base(value: int, base: int, pad: int) -> str:
    """safe_ultostr() as used by Postfix for long queue IDs (most significant digit first)."""
    digits = []
    while value:
        value, rem = divmod(value, base)
        digits.append(LONG_QID_ALPHABET[rem])
    return "".join(reversed(digits)).rjust(pad, "0")


class SmallPool:
    """A few long-lived daemon processes (cleanup, lmtp, smtp ...) that exit after max_use."""

    def __init__(self, gen: LogGenerator, size: int, max_use: int = 100) -> None:
        self.gen = gen
        self.max_use = max_use
        self.pids = [gen.new_pid() for _ in range(size)]
        self.uses = [gen.rng.randrange(max_use) for _ in range(size)]

    def get(self) -> str:
        i = int(self.gen.r() * len(self.pids))
        self.uses[i] += 1
        if self.uses[i] > self.max_use:
            self.pids[i] = self.gen.new_pid()
            self.uses[i] = 1
        return self.pids[i]


class SessionPool:
    """smtpd processes: one session at a time each, reused back to back (PID reuse)."""

    def __init__(self, gen: LogGenerator, max_use: int = 100, max_idle: float = 100.0) -> None:
        self.gen = gen
        self.max_use = max_use
        self.max_idle = max_idle
        self.busy: list[tuple[float, str, int]] = []  # heap of (free_at, pid, uses)
        self.idle: list[tuple[float, str, int]] = []  # stack of (free_since, pid, uses)

    def acquire(self, start: float, end: float) -> str:
        busy, idle = self.busy, self.idle
        while busy and busy[0][0] <= start:
            idle.append(heapq.heappop(busy))
        pid, uses = "", 0
        while idle:
            since, cand, n = idle.pop()
            if since > start:  # freed "later" than this (slightly out of order) session
                idle.append((since, cand, n))
                break
            if start - since <= self.max_idle and n < self.max_use:
                pid, uses = cand, n
                break
        if not pid:
            pid = self.gen.new_pid()
        heapq.heappush(busy, (end, pid, uses + 1))
        return pid


class LogGenerator:
    """Scenario-driven log generator; call :meth:`batches` to get formatted lines."""

    def __init__(
        self,
        seed: int,
        start: datetime,
        fmt: str = "bsd",
        long_queue_ids: bool = False,
    ) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.rng = rng = random.Random(seed)
        self.r = rng.random
        self.fmt = fmt
        self.long_qids = long_queue_ids
        off = start.utcoffset()
        self.tz_offset = int(off.total_seconds()) if off else 0
        sign = "-" if self.tz_offset < 0 else "+"
        mins = abs(self.tz_offset) // 60
        self.tz_suffix = f"{sign}{mins // 60:02d}:{mins % 60:02d}"
        self.t0 = start.timestamp()
        self.heap: list[tuple[float, int, str]] = []
        self.seq = itertools.count()
        self.pid = rng.randrange(960000, 995000)
        self.reserved_pids: set[str] = set()  # long-lived daemons, never handed out again

        # Long-lived daemons.
        self.master_pid = str(rng.randrange(1100, 2900))
        self.qmgr_pid = str(int(self.master_pid) + rng.randrange(2, 9))
        self.postscreen_pid = self.new_pid()
        self.anvil_pid = self.new_pid()
        self.reserved_pids = {self.master_pid, self.qmgr_pid, self.postscreen_pid, self.anvil_pid}
        self.cleanup = SmallPool(self, 3)
        self.lmtp = SmallPool(self, 2)
        self.dovecot_lmtp = SmallPool(self, 2)
        self.virtual = SmallPool(self, 1)
        self.local = SmallPool(self, 1)
        self.smtp = SmallPool(self, 4)
        self.bounce = SmallPool(self, 1)
        self.dnsblog = SmallPool(self, 2)
        self.pickup = SmallPool(self, 1, max_use=1000)
        self.imap_procs = SmallPool(self, 1, max_use=1)  # one imap process per login
        self.smtpd = SessionPool(self)
        self.submission = SessionPool(self)
        self.smtps = SessionPool(self)

        # Address books (deterministic per seed).
        self.users = [f"{u}@{DOMAIN}" for u in USERS]
        self.user_set = set(self.users)
        self.user_hosts = []
        for i, _ in enumerate(self.users):
            if rng.random() < 0.2:
                ip = f"2001:db8:100:{rng.randrange(1, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"
                self.user_hosts.append(("unknown", ip))
            else:
                ip = f"198.51.100.{i + 1}"
                name = f"host-198-51-100-{i + 1}.dyn.example.net" if i % 3 else "unknown"
                self.user_hosts.append((name, ip))
        self.mtas: list[tuple[str, str, str]] = []  # (client name, ip, sender domain)
        for i in range(1, 100):
            if i == 25:
                continue
            dom = rng.choice(
                (
                    "example.net",
                    "example.org",
                    "lists.example.org",
                    "mail.example.net",
                    "news.example.org",
                    "shop.example.net",
                )
            )
            name = rng.choice(
                (
                    f"mail-{i}.{dom}",
                    f"mx{i}.{dom}",
                    f"o{i}.outbound.example.net",
                    f"smtp{i}.example.org",
                )
            )
            self.mtas.append((name, f"192.0.2.{i}", dom))
        for i in range(12):
            ip = f"2001:db8:4860:{rng.randrange(0x4000, 0x4FFF):x}::{rng.randrange(1, 0xFFF):x}"
            self.mtas.append((f"mail-v6-{i}.example.net", ip, "example.net"))
        self.guesses = sorted(set(GUESSES) | {f"{g}@{DOMAIN}" for g in GUESSES})
        self.attackers = [
            ("192.0.2.201", "LOGIN"),
            ("192.0.2.202", "PLAIN"),
            ("192.0.2.213", "LOGIN"),
            ("192.0.2.240", "PLAIN"),
            ("2001:db8:dead:beef::5", "LOGIN"),
        ]
        self.attacker_pos = [rng.randrange(len(self.guesses)) for _ in self.attackers]
        self.botnet_pos = 0

        # Scheduling state.
        self.next_bg = self.t0 + 0.5 + rng.random() * 2
        self.next_attack = self.t0 + rng.random() * 1800  # first campaign early
        self.attack_on = False
        self.attack_until = 0.0
        self.attack_gap = 1.5
        self.attacker = 0
        self.next_anvil = self.t0 + 600 - (self.t0 % 600) + rng.random() * 5
        self.anvil_conn: dict[tuple[str, str], list[float]] = {}
        self.anvil_auth: dict[tuple[str, str], list[float]] = {}

        self.emit(
            self.t0 + 0.2,
            f"postfix/master[{self.master_pid}]: daemon started -- "
            f"version {POSTFIX_VERSION}, configuration /etc/postfix",
        )
        self.emit(
            self.t0 + 0.05,
            "dovecot: master: Dovecot v2.3.19.1 (9b53102964) starting up "
            "for imap, lmtp (core dumps disabled)",
        )

    # ----------------------------------------------------------------- helpers
    def new_pid(self) -> str:
        """Next PID: other system processes take some in between; wraps at pid_max."""
        self.pid += 1 + int(self.r() * 40)
        if self.pid >= PID_MAX:
            self.pid = 300 + int(self.r() * 1000)
        pid = str(self.pid)
        return self.new_pid() if pid in self.reserved_pids else pid

    def emit(self, t: float, body: str) -> None:
        heappush(self.heap, (t, next(self.seq), body))

    def pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.r() * len(seq))]

    def qid(self, t: float) -> str:
        r = self.r()
        if self.long_qids:
            ino = int(r * 0x7FFFFF) + 0x1000
            sec = int(t)
            usec = int((t - sec) * 1e6)
            head = encode_base(sec, 52, 6) + encode_base(usec, 52, 4)
            return f"{head}z{encode_base(ino, 51, 1)}"
        ino = int(r * 0xEFFFFF) + 0x10000 if r < 0.9 else int(r * 0xFFFFFFF)
        return f"{int((t % 1) * 1e6):05X}{ino:X}"

    def session_id(self, nbytes: int = 12) -> str:
        raw = self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        return base64.b64encode(raw).decode().rstrip("=")

    def port(self) -> int:
        return 1024 + int(self.r() * 64000)

    def anvil_note(
        self,
        table: dict[tuple[str, str], list[float]],
        svc: str,
        ip: str,
        t: float,
    ) -> None:
        """Track the per-minute peak rate of one (service, client) for anvil statistics."""
        minute = t // 60
        e = table.get((svc, ip))
        if e is None:
            table[(svc, ip)] = [minute, 1, 1, t]
        elif e[0] == minute:
            e[1] += 1
            if e[1] > e[2]:
                e[2], e[3] = e[1], t
        else:
            e[0], e[1] = minute, 1

    def ctime(self, t: float) -> str:
        tm = time.gmtime(int(t) + self.tz_offset)
        day = f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d}"
        return f"{day} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"

    # --------------------------------------------------------------- scenarios
    def postscreen_pass(self, t: float, ip: str, old: bool) -> tuple[float, int]:
        """postscreen CONNECT + PASS NEW/OLD; returns the time smtpd takes over."""
        ps = f"postfix/postscreen[{self.postscreen_pid}]: "
        port = self.port()
        self.emit(t, f"{ps}CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25")
        if old:
            t += 0.01 + self.r() * 0.05
            self.emit(t, f"{ps}PASS OLD [{ip}]:{port}")
        else:
            if self.r() < 0.3:
                self.emit(t + 0.2, f"{ps}DNSBL rank 1 for [{ip}]:{port}")
            t += 6 + self.r() * 1.5
            self.emit(t, f"{ps}PASS NEW [{ip}]:{port}")
        return t + 0.002, port

    def inbound(self, t: float) -> None:
        """Inbound mail from a remote MTA: postscreen, smtpd, cleanup, qmgr, delivery."""
        r = self.r
        name, ip, dom = self.mtas[int(r() * len(self.mtas))]
        t, _ = self.postscreen_pass(t, ip, r() < 0.85)
        warn = ""
        if r() < 0.03:
            warn = f"warning: hostname {name} does not resolve to address {ip}"
            if r() < 0.5:
                warn += ": Name or service not known"
            name = "unknown"
        client = f"{name}[{ip}]"
        tls = r() < 0.85
        nrcpt = 1 if r() < 0.8 else (2 if r() < 0.75 else 3)
        t_tls = t + 0.05 + r() * 0.3
        t_cli = t_tls + 0.1 + r() * 0.6
        t_cln = t_cli + 0.01 + r() * 0.2
        t_qm = t_cln + 0.005 + r() * 0.1
        t_disc = t_qm + 0.01 + r() * 0.4
        pid = self.smtpd.acquire(t, t_disc)
        self.anvil_note(self.anvil_conn, "smtp", ip, t)
        pre = f"postfix/smtpd[{pid}]: "
        if warn:
            self.emit(t - 0.001, pre + warn)
        self.emit(t, f"{pre}connect from {client}")
        if tls:
            cipher = TLS13 if r() < 0.8 else TLS12
            self.emit(t_tls, f"{pre}Anonymous TLS connection established from {client}: {cipher}")
        q = self.qid(t_cli)
        self.emit(t_cli, f"{pre}{q}: client={client}")
        self.emit(
            t_cln,
            f"postfix/cleanup[{self.cleanup.get()}]: {q}: message-id="
            f"<{self.rng.getrandbits(64):016x}.{int(r() * 99999)}@{dom}>",
        )
        sender = f"{self.pick(REMOTE_LOCALS)}@{dom}"
        size = int(1500 + r() * r() * 250000)
        qm = f"postfix/qmgr[{self.qmgr_pid}]: "
        self.emit(t_qm, f"{qm}{q}: from=<{sender}>, size={size}, nrcpt={nrcpt} (queue active)")
        stats = [("ehlo", 2, 2), ("starttls", 1, 1)] if tls else [("ehlo", 1, 1)]
        stats += [("mail", 1, 1), ("rcpt", nrcpt, nrcpt), ("data", 1, 1), ("quit", 1, 1)]
        self.emit(t_disc, f"{pre}disconnect from {client} {cmd_stats(stats)}")
        td = t_qm
        for _ in range(nrcpt):
            td = self.deliver_local(q, td, t_cli, self.pick(self.users))
        self.emit(td + 0.001 + r() * 0.005, f"{qm}{q}: removed")

    def deliver_local(self, q: str, t: float, t_arrival: float, rcpt: str) -> float:
        """One local delivery (lmtp to Dovecot, virtual or local); returns its log time."""
        r = self.r
        b = r() * 0.02
        c = r() * 0.02
        d = 0.01 + r() * 0.15
        t += b + c + d
        a = max(t - t_arrival - b - c - d, 0.0)
        delays = f"delay={fd(t - t_arrival)}, delays={fd(a)}/{fd(b)}/{fd(c)}/{fd(d)}, dsn=2.0.0"
        x = r()
        if x < 0.65:
            self.emit(
                t - d / 2,
                f"dovecot: lmtp({rcpt})<{self.dovecot_lmtp.get()}><{self.session_id()}"
                f">: msgid=<{self.rng.getrandbits(48):x}@example.net>: saved mail to INBOX",
            )
            self.emit(
                t,
                f"postfix/lmtp[{self.lmtp.get()}]: {q}: to=<{rcpt}>, relay={SERVER_NAME}"
                f"[private/dovecot-lmtp], {delays}, status=sent (250 2.0.0 <{rcpt}> "
                f"{self.session_id(16)} Saved)",
            )
        elif x < 0.95:
            self.emit(
                t,
                f"postfix/virtual[{self.virtual.get()}]: {q}: to=<{rcpt}>, "
                f"relay=virtual, {delays}, status=sent (delivered to maildir)",
            )
        else:
            self.emit(
                t,
                f"postfix/local[{self.local.get()}]: {q}: to=<{rcpt}>, "
                f"orig_to=<postmaster@{DOMAIN}>, relay=local, {delays}, "
                f"status=sent (delivered to mailbox)",
            )
        return t

    def postscreen_reject(self, t: float) -> None:
        """Spam bot stopped by postscreen: DNSBL reject, PREGREET or HANGUP."""
        r = self.r
        if r() < 0.7:
            ip = f"192.0.2.{150 + int(r() * 50)}"
        else:
            ip = f"2001:db8:bad:{int(r() * 0xFFFF):x}::{int(r() * 0xFFFF):x}"
        ps = f"postfix/postscreen[{self.postscreen_pid}]: "
        port = self.port()
        self.emit(t, f"{ps}CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25")
        x = r()
        if x < 0.5:
            bl = DNSBLS[0] if r() < 0.7 else self.pick(DNSBLS)
            self.emit(
                t + 0.05 + r() * 0.2,
                f"postfix/dnsblog[{self.dnsblog.get()}]: addr {ip} "
                f"listed by domain {bl} as 127.0.0.{2 + int(r() * 10)}",
            )
            t += 0.3 + r() * 0.5
            self.emit(t, f"{ps}DNSBL rank {3 + int(r() * 4)} for [{ip}]:{port}")
            t += 1 + r() * 5
            helo = self.pick(SPAM_HELOS)
            self.emit(
                t,
                f"{ps}NOQUEUE: reject: RCPT from [{ip}]:{port}: 550 5.7.1 Service "
                f"unavailable; client [{ip}] blocked using {bl}; from=<"
                f"{self.pick(REMOTE_LOCALS)}@example.net>, to=<{self.pick(self.users)}>, "
                f"proto=ESMTP, helo=<{helo}>",
            )
        elif x < 0.75:
            t += 0.05 + r() * 0.3
            self.emit(
                t,
                f"{ps}PREGREET 11 after {fd(t % 1 + 0.01)} from [{ip}]:{port}: EHLO ylmf-pc\\r\\n",
            )
        else:
            t += 0.5 + r() * 6
            when = "before" if r() < 0.6 else "after"
            hangup = f"HANGUP after {fd(r() * 6 + 0.1)} from [{ip}]:{port}"
            self.emit(t, f"{ps}{hangup} in tests {when} SMTP handshake")
        self.emit(t + 0.001 + r() * 0.5, f"{ps}DISCONNECT [{ip}]:{port}")

    def noqueue_reject(self, t: float) -> None:
        """smtpd NOQUEUE rejects: relay access, unknown users, HELO and RBL checks."""
        r = self.r
        x = r()
        if x < 0.65 and r() < 0.5:  # relay/recipient probes also come from real MTAs
            name, ip, dom = self.mtas[int(r() * len(self.mtas))]
        else:
            ip, name, dom = f"192.0.2.{150 + int(r() * 50)}", "unknown", "example.net"
        t, _ = self.postscreen_pass(t, ip, r() < 0.7)
        client = f"{name}[{ip}]"
        helo = name if name != "unknown" else self.pick(SPAM_HELOS)
        sender = f"{self.pick(REMOTE_LOCALS)}@{dom}"
        n = 1
        if x < 0.3:
            rcpts = [f"{self.pick(REMOTE_LOCALS)}@example.org"]
            why = "554 5.7.1 <{0}>: Relay access denied"
        elif x < 0.65:
            n = 1 + int(r() * r() * 6)
            rcpts = [f"{self.pick(GUESSES)}{int(r() * 99)}@{DOMAIN}" for _ in range(n)]
            why = "550 5.1.1 <{0}>: " + UNKNOWN_RCPT
        elif x < 0.85:
            helo = f"WIN-{self.rng.getrandbits(40):010X}"
            rcpts = [self.pick(self.users)]
            why = f"504 5.5.2 <{helo}>: Helo command rejected: need fully-qualified hostname"
        else:
            bl = self.pick(DNSBLS)
            rcpts = [self.pick(self.users)]
            why = (
                f"554 5.7.1 Service unavailable; Client host [{ip}] blocked using {bl}; "
                f"https://www.example.org/query/ip/{ip}"
            )
        t_end = t + 0.5 + n * 0.3 + r()
        pid = self.smtpd.acquire(t, t_end)
        self.anvil_note(self.anvil_conn, "smtp", ip, t)
        pre = f"postfix/smtpd[{pid}]: "
        self.emit(t, f"{pre}connect from {client}")
        tt = t + 0.2 + r() * 0.3
        proto = "ESMTP" if r() < 0.9 else "SMTP"
        for rc in rcpts:
            self.emit(
                tt,
                f"{pre}NOQUEUE: reject: RCPT from {client}: {why.format(rc)}; "
                f"from=<{sender}> to=<{rc}> proto={proto} helo=<{helo}>",
            )
            tt += 0.05 + r() * 0.2
        greet = "ehlo" if proto == "ESMTP" else "helo"
        stats = [(greet, 1, 1), ("mail", 1, 1), ("rcpt", 0, n)]
        if r() < 0.7:
            stats.append(("quit", 1, 1))
        else:
            self.emit(t_end - 0.001, f"{pre}lost connection after RCPT from {client}")
        self.emit(t_end, f"{pre}disconnect from {client} {cmd_stats(stats)}")

    def submission_mail(self, t: float) -> None:
        """Authenticated user sends mail: submission/smtps, smtp delivery, defer, bounce."""
        r = self.r
        ui = int(r() * len(self.users))
        user = self.users[ui]
        name, ip = self.user_hosts[ui]
        client = f"{name}[{ip}]"
        smtps = r() < 0.2
        nrcpt = 1 if r() < 0.7 else 1 + int(r() * 4)
        t_tls = t + 0.05 + r() * 0.2
        t_cli = t_tls + 0.3 + r() * 1.5
        t_cln = t_cli + 0.02 + r() * 0.2
        t_qm = t_cln + 0.005 + r() * 0.1
        t_disc = t_qm + 0.05 + r() * 0.5
        pool, prog, svc = (
            (self.smtps, "postfix/smtps/smtpd", "smtps")
            if smtps
            else (self.submission, "postfix/submission/smtpd", "submission")
        )
        pid = pool.acquire(t, t_disc)
        self.anvil_note(self.anvil_conn, svc, ip, t)
        pre = f"{prog}[{pid}]: "
        self.emit(t, f"{pre}connect from {client}")
        self.emit(t_tls, f"{pre}Anonymous TLS connection established from {client}: {TLS13}")
        q = self.qid(t_cli)
        mech = "PLAIN" if r() < 0.8 else "LOGIN"
        self.emit(t_cli, f"{pre}{q}: client={client}, sasl_method={mech}, sasl_username={user}")
        self.emit(
            t_cln,
            f"postfix/cleanup[{self.cleanup.get()}]: {q}: message-id=<"
            f"{self.rng.getrandbits(128):032x}@{DOMAIN}>",
        )
        qm = f"postfix/qmgr[{self.qmgr_pid}]: "
        size = int(800 + r() * r() * 900000)
        self.emit(t_qm, f"{qm}{q}: from=<{user}>, size={size}, nrcpt={nrcpt} (queue active)")
        stats = [("ehlo", 1, 1)] if smtps else [("ehlo", 2, 2), ("starttls", 1, 1)]
        stats += [
            ("auth", 1, 1),
            ("mail", 1, 1),
            ("rcpt", nrcpt, nrcpt),
            ("data", 1, 1),
            ("quit", 1, 1),
        ]
        self.emit(t_disc, f"{pre}disconnect from {client} {cmd_stats(stats)}")

        td = t_qm
        deferred: list[str] = []
        bounced: list[str] = []
        for _ in range(nrcpt):
            if r() < 0.2:
                td = self.deliver_local(q, td, t_cli, self.pick(self.users))
                continue
            mx_name, mx_ip, dom = self.mtas[int(r() * len(self.mtas))]
            rcpt = f"{self.pick(REMOTE_LOCALS)}@{dom}"
            outcome = r()
            td = self.deliver_remote(q, td, t_cli, rcpt, mx_name, mx_ip, outcome)
            if outcome < 0.06:
                deferred.append(rcpt)
            elif outcome < 0.09:
                bounced.append(rcpt)
        if bounced:
            td = self.bounce_notice(q, td + 0.01, user)
        if not deferred:
            self.emit(td + 0.001 + r() * 0.005, f"{qm}{q}: removed")
            return
        # Retry from the deferred queue later; the retry succeeds.
        tr = td + 300 + r() * 1500
        size = int(800 + r() * 50000)
        self.emit(tr, f"{qm}{q}: from=<{user}>, size={size}, nrcpt={len(deferred)} (queue active)")
        for rcpt in deferred:
            mx_name, mx_ip, _ = self.mtas[int(r() * len(self.mtas))]
            tr = self.deliver_remote(q, tr, t_cli, rcpt, mx_name, mx_ip, 1.0)
        self.emit(tr + 0.001 + r() * 0.005, f"{qm}{q}: removed")

    def deliver_remote(
        self,
        q: str,
        t: float,
        t_arrival: float,
        rcpt: str,
        mx_name: str,
        mx_ip: str,
        outcome: float,
    ) -> float:
        """One smtp delivery attempt; outcome < .06 deferred, < .09 bounced, else sent."""
        r = self.r
        spid = self.smtp.get()
        pre = f"postfix/smtp[{spid}]: {q}: to=<{rcpt}>, "
        b = r() * 0.05
        if outcome < 0.03:  # connection timeout
            c = 30.0
            t += b + c
            a = max(t - t_arrival - b - c, 0.0)
            self.emit(
                t,
                f"{pre}relay=none, delay={fd(t - t_arrival)}, delays={fd(a)}/{fd(b)}/"
                f"{fd(c)}/0, dsn=4.4.1, status=deferred (connect to {mx_name}[{mx_ip}]:25:"
                f" Connection timed out)",
            )
            return t
        c = 0.05 + r() * 0.8
        d = 0.05 + r() * 1.2
        t += b + c
        if r() < 0.7:
            trust = "Trusted" if r() < 0.6 else ("Verified" if r() < 0.5 else "Untrusted")
            self.emit(
                t,
                f"postfix/smtp[{spid}]: {trust} TLS connection established to "
                f"{mx_name}[{mx_ip}]:25: {TLS13_OUT}",
            )
        t += d
        a = max(t - t_arrival - b - c - d, 0.0)
        delays = f"delay={fd(t - t_arrival)}, delays={fd(a)}/{fd(b)}/{fd(c)}/{fd(d)}"
        relay = f"relay={mx_name}[{mx_ip}]:25, {delays}"
        if outcome < 0.06:
            self.emit(
                t,
                f"{pre}{relay}, dsn=4.7.1, status=deferred (host {mx_name}[{mx_ip}] "
                f"said: 450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see "
                f"https://www.example.org/greylist (in reply to RCPT TO command))",
            )
        elif outcome < 0.09:
            self.emit(
                t,
                f"{pre}{relay}, dsn=5.1.1, status=bounced (host {mx_name}[{mx_ip}] "
                f"said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in "
                f"local recipient table (in reply to RCPT TO command))",
            )
        else:
            self.emit(
                t,
                f"{pre}{relay}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as "
                f"{self.rng.getrandbits(40):010X})",
            )
        return t

    def bounce_notice(self, q: str, t: float, sender: str) -> float:
        """Non-delivery notification back to the local sender (new queue ID)."""
        r = self.r
        q2 = self.qid(t)
        tm = time.gmtime(int(t) + self.tz_offset)
        stamp = time.strftime("%Y%m%d%H%M%S", tm)
        self.emit(
            t,
            f"postfix/cleanup[{self.cleanup.get()}]: {q2}: message-id=<{stamp}.{q2}@{SERVER_NAME}>",
        )
        t += 0.001 + r() * 0.01
        bounce = f"postfix/bounce[{self.bounce.get()}]: "
        self.emit(t, f"{bounce}{q}: sender non-delivery notification: {q2}")
        t += 0.001 + r() * 0.01
        qm = f"postfix/qmgr[{self.qmgr_pid}]: "
        self.emit(t, f"{qm}{q2}: from=<>, size={int(2500 + r() * 5000)}, nrcpt=1 (queue active)")
        t = self.deliver_local(q2, t, t - 0.02, sender)
        self.emit(t + 0.001 + r() * 0.005, f"{qm}{q2}: removed")
        return t

    def brute(self, t: float, ip: str, mech: str, users: list[str]) -> None:
        """One password-guessing session: connect, 1-3 failed AUTHs, hang-up."""
        r = self.r
        x = r()
        if x < 0.6:
            pool, prog, svc, tls = (
                self.submission,
                "postfix/submission/smtpd",
                "submission",
                r() < 0.7,
            )
        elif x < 0.75:
            pool, prog, svc, tls = self.smtps, "postfix/smtps/smtpd", "smtps", True
        else:
            pool, prog, svc, tls = self.smtpd, "postfix/smtpd", "smtp", r() < 0.5
            t, _ = self.postscreen_pass(t, ip, True)
        client = f"unknown[{ip}]"
        n = len(users)
        t_auth = t + (0.3 if tls else 0.1) + r() * 0.5
        # each guess takes 2.0-2.4 s (Dovecot's failure delay) + 0.05-0.15 s: end after the last
        t_end = t_auth + n * 2.6 + 0.05 + r() * 0.2
        end = r()
        if end < 0.02:
            t_end += 300
        pid = pool.acquire(t, t_end)
        self.anvil_note(self.anvil_conn, svc, ip, t)
        pre = f"{prog}[{pid}]: "
        self.emit(t, f"{pre}connect from {client}")
        if tls and svc != "smtps":
            self.emit(
                t + 0.1 + r() * 0.1,
                f"{pre}Anonymous TLS connection established from {client}: {TLS13}",
            )
        elif tls:
            self.emit(t + 0.05, f"{pre}Anonymous TLS connection established from {client}: {TLS13}")
        ta = t_auth
        for user in users:
            self.anvil_note(self.anvil_auth, svc, ip, ta)
            verdict = "Password mismatch" if user in self.user_set else "unknown user"
            self.emit(ta + 0.01 + r() * 0.05, f"dovecot: auth: passwd-file({user},{ip}): {verdict}")
            ta += 2.0 + r() * 0.4
            failed = f"{pre}warning: {client}: SASL {mech} authentication failed: "
            if mech == "LOGIN":  # pre-3.9 style: the last LOGIN challenge, no username
                self.emit(ta, failed + "UGFzc3dvcmQ6")
            else:
                self.emit(ta, f"{failed}(reason unavailable), sasl_username={user}")
            ta += 0.05 + r() * 0.1
        greet = [("ehlo", 2, 2), ("starttls", 1, 1)] if tls and svc != "smtps" else [("ehlo", 1, 1)]
        if end < 0.02:
            self.emit(t_end - 0.001, f"{pre}timeout after AUTH from {client}")
            stats = [*greet, ("auth", 0, n)]
        elif end < 0.5:
            self.emit(t_end - 0.001, f"{pre}lost connection after AUTH from {client}")
            stats = [*greet, ("auth", 0, n)]
        elif end < 0.9:
            stats = [*greet, ("auth", 0, n), ("quit", 1, 1)]
        else:
            stats = [*greet, ("auth", 0, n), ("rset", 1, 1), ("quit", 1, 1)]
        self.emit(t_end, f"{pre}disconnect from {client} {cmd_stats(stats)}")

    def attack_step(self, t: float) -> None:
        """Heavy brute force: on/off campaigns, one attacker per campaign, username walk."""
        rng = self.rng
        if not self.attack_on:
            self.attack_on = True
            self.attacker = int(self.r() * len(self.attackers))
            self.attack_until = t + rng.expovariate(1 / 5400)
            self.attack_gap = 0.6 + self.r() * 2.0
        else:
            ip, mech = self.attackers[self.attacker]
            k = 1 if self.r() < 0.85 else (2 if self.r() < 0.7 else 3)
            users = []
            for _ in range(k):
                pos = self.attacker_pos[self.attacker]
                users.append(self.guesses[pos % len(self.guesses)])
                self.attacker_pos[self.attacker] = pos + 1
            self.brute(t, ip, mech, users)
        nxt = t + rng.expovariate(1 / self.attack_gap)
        if nxt > self.attack_until:
            self.attack_on = False
            nxt = self.attack_until + rng.expovariate(1 / 7200)
        self.next_attack = nxt

    def botnet(self, t: float) -> None:
        """Distributed low-rate guessing: a random host of 203.0.113.0/24 per attempt."""
        ip = f"203.0.113.{1 + int(self.r() * 254)}"
        user = self.guesses[self.botnet_pos % len(self.guesses)]
        self.botnet_pos += 1
        self.brute(t, ip, "PLAIN" if self.r() < 0.7 else "LOGIN", [user])

    def scanner(self, t: float) -> None:
        """Scanners and broken clients: lost connection, timeouts, non-SMTP commands."""
        r = self.r
        if r() < 0.8:
            ip = f"198.51.100.{100 + int(r() * 155)}"
        else:
            ip = f"2001:db8:5ca:{int(r() * 0xFFFF):x}::{int(r() * 0xFF):x}"
        client = f"unknown[{ip}]"
        x = r()
        if x < 0.6:
            pool, prog, svc = self.submission, "postfix/submission/smtpd", "submission"
        else:
            pool, prog, svc = self.smtpd, "postfix/smtpd", "smtp"
            t, _ = self.postscreen_pass(t, ip, r() < 0.5)
        y = r()
        dur = 300.5 if y < 0.1 else 0.3 + r() * 3
        pid = pool.acquire(t, t + dur)
        self.anvil_note(self.anvil_conn, svc, ip, t)
        pre = f"{prog}[{pid}]: "
        self.emit(t, f"{pre}connect from {client}")
        te = t + dur
        if y < 0.1:
            self.emit(te - 0.001, f"{pre}timeout after CONNECT from {client}")
            stats = "commands=0/0"
        elif y < 0.4:
            self.emit(te - 0.001, f"{pre}lost connection after CONNECT from {client}")
            stats = "commands=0/0"
        elif y < 0.6:
            self.emit(te - 0.001, f"{pre}lost connection after EHLO from {client}")
            stats = "ehlo=1 commands=1"
        elif y < 0.7:
            self.emit(te - 0.001, f"{pre}lost connection after AUTH from {client}")
            stats = "ehlo=1 auth=0/1 commands=1/2"
        elif y < 0.85:
            probe = self.pick(HTTP_PROBES)
            self.emit(t + 0.1, f"{pre}warning: non-SMTP command from {client}: {probe}")
            stats = "unknown=0/1 commands=0/1"
        else:
            t_tls = t + 0.1 + r() * 0.2
            cipher = TLS12 if r() < 0.5 else TLS13
            self.emit(t_tls, f"{pre}Anonymous TLS connection established from {client}: {cipher}")
            stats = "ehlo=2 starttls=1 quit=1 commands=4"
        self.emit(te, f"{pre}disconnect from {client} {stats}")

    def imap(self, t: float) -> None:
        """Dovecot imap-login: successful logins (+ logout later) and failed logins."""
        r = self.r
        lip = SERVER_IP
        if r() < 0.75:
            ui = int(r() * len(self.users))
            user = self.users[ui]
            ip = self.user_hosts[ui][1]
            mpid = self.imap_procs.get()
            sid = self.session_id()
            self.emit(
                t,
                f"dovecot: imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, "
                f"lip={lip}, mpid={mpid}, TLS, session=<{sid}>",
            )
            t += 5 + r() * 3600
            self.emit(
                t,
                f"dovecot: imap({user})<{mpid}><{sid}>: Disconnected: Logged out "
                f"in={int(50 + r() * 5000)} out={int(500 + r() * r() * 2000000)} "
                "deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 "
                "body_bytes=0",
            )
            return
        if r() < 0.3:  # a real user with a stale password
            ui = int(r() * len(self.users))
            user, ip = self.users[ui], self.user_hosts[ui][1]
        else:
            ip = f"203.0.113.{1 + int(r() * 254)}" if r() < 0.6 else f"192.0.2.{201 + int(r() * 3)}"
            user = self.pick(self.guesses)
        n = 1 if r() < 0.7 else 2 + int(r() * 2)
        for _ in range(n):
            verdict = "Password mismatch" if user in self.user_set else "unknown user"
            self.emit(t, f"dovecot: auth: passwd-file({user},{ip}): {verdict}")
            t += 2.0 + r() * 0.5
        self.emit(
            t + 0.01,
            f"dovecot: imap-login: Disconnected (auth failed, {n} attempts in "
            f"{int(n * 2.2)} secs): user=<{user}>, method=PLAIN, rip={ip}, lip={lip}, TLS, "
            f"session=<{self.session_id()}>",
        )

    def local_pickup(self, t: float) -> None:
        """A cron/system mail via pickup, delivered locally to root's mailbox."""
        r = self.r
        q = self.qid(t)
        self.emit(t, f"postfix/pickup[{self.pickup.get()}]: {q}: uid=0 from=<root>")
        t1 = t + 0.01 + r() * 0.05
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(int(t) + self.tz_offset))
        self.emit(
            t1,
            f"postfix/cleanup[{self.cleanup.get()}]: {q}: message-id=<{stamp}.{q}@{SERVER_NAME}>",
        )
        t2 = t1 + 0.005 + r() * 0.05
        qm = f"postfix/qmgr[{self.qmgr_pid}]: "
        size = int(400 + r() * 3000)
        self.emit(t2, f"{qm}{q}: from=<root@{SERVER_NAME}>, size={size}, nrcpt=1 (queue active)")
        b, d = r() * 0.01, 0.005 + r() * 0.05
        t3 = t2 + b + d
        self.emit(
            t3,
            f"postfix/local[{self.local.get()}]: {q}: to=<root@{SERVER_NAME}>, "
            f"orig_to=<root>, relay=local, delay={fd(t3 - t)}, delays={fd(t2 - t)}/{fd(b)}"
            f"/0/{fd(d)}, dsn=2.0.0, status=sent (delivered to mailbox)",
        )
        self.emit(t3 + 0.001, f"{qm}{q}: removed")

    def anvil_report(self, t: float) -> None:
        """anvil statistics, every 10 minutes of log time (like anvil_status_update_time)."""
        pre = f"postfix/anvil[{self.anvil_pid}]: statistics: "
        conn, auth = self.anvil_conn, self.anvil_auth
        if conn:
            (svc, ip), e = max(conn.items(), key=lambda kv: kv[1][2])
            at = self.ctime(e[3])
            self.emit(t, f"{pre}max connection rate {int(e[2])}/60s for ({svc}:{ip}) at {at}")
            count = max(1, int(e[2]) // 4)  # concurrency is not tracked; a plausible value
            self.emit(t, f"{pre}max connection count {count} for ({svc}:{ip}) at {at}")
        if auth:
            (svc, ip), e = max(auth.items(), key=lambda kv: kv[1][2])
            at = self.ctime(e[3])
            self.emit(t, f"{pre}max auth rate {int(e[2])}/60s for ({svc}:{ip}) at {at}")
        if conn:
            last = max(e[3] for e in conn.values())
            self.emit(t, f"{pre}max cache size {len(conn)} at {self.ctime(last)}")
        self.anvil_conn = {}
        self.anvil_auth = {}

    BACKGROUND = (
        (0.30, "inbound"),
        (0.50, "postscreen_reject"),
        (0.60, "noqueue_reject"),
        (0.68, "submission_mail"),
        (0.77, "botnet"),
        (0.87, "scanner"),
        (0.985, "imap"),
        (1.01, "local_pickup"),
    )

    def background(self, t: float) -> None:
        x = self.r()
        for limit, name in self.BACKGROUND:
            if x < limit:
                getattr(self, name)(t)
                break
        # Diurnal load: busier in the (local) afternoon, quiet at night.
        hour = ((t + self.tz_offset) % 86400) / 3600
        rate = 0.9 * (1.0 + 0.45 * math.sin((hour - 9) * math.pi / 12))
        self.next_bg = t + self.rng.expovariate(rate)

    # ------------------------------------------------------------------ output
    def batches(self, n: int, size: int = 8192) -> Iterator[list[str]]:
        """Yield lists of formatted log lines (with newline), n lines in total."""
        heap = self.heap
        pop = heapq.heappop
        bsd = self.fmt == "bsd"
        tz_off, tz_sfx = self.tz_offset, self.tz_suffix
        host = f" {HOST} "
        out: list[str] = []
        append = out.append
        written = 0
        last_sec = -1
        prefix = ""
        while written < n:
            if self.next_anvil <= min(self.next_bg, self.next_attack):
                t_next = self.next_anvil
                self.next_anvil += 600
                kind = 0
            elif self.next_attack < self.next_bg:
                t_next, kind = self.next_attack, 1
            else:
                t_next, kind = self.next_bg, 2
            # Everything scheduled before the next scenario starts can be written now.
            while heap and heap[0][0] <= t_next:
                t, _, body = pop(heap)
                sec = int(t)
                if sec != last_sec:
                    last_sec = sec
                    tm = time.gmtime(sec + tz_off)
                    if bsd:
                        prefix = (
                            f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:"
                            f"{tm.tm_min:02d}:{tm.tm_sec:02d}{host}"
                        )
                    else:
                        prefix = (
                            f"{tm.tm_year:04d}-{tm.tm_mon:02d}-{tm.tm_mday:02d}T"
                            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}."
                        )
                if bsd:
                    append(f"{prefix}{body}\n")
                else:
                    append(f"{prefix}{int((t - sec) * 1e6):06d}{tz_sfx}{host}{body}\n")
            if len(out) >= size or written + len(out) >= n:
                if written + len(out) >= n:
                    yield out[: n - written]
                    return
                written += len(out)
                yield out
                out = []
                append = out.append
            if kind == 0:
                self.anvil_report(t_next)
            elif kind == 1:
                self.attack_step(t_next)
            else:
                self.background(t_next)


def open_output(path: str | None) -> TextIO:
    if not path or path == "-":
        return sys.stdout
    if path.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", buffering=1 << 20)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, required=True, help="number of lines to write")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument(
        "--format",
        choices=("bsd", "rfc3339"),
        default="bsd",
        help="syslog header format (default bsd)",
    )
    ap.add_argument(
        "--start",
        default="2026-03-01T00:00:00",
        help="log start time, ISO 8601; UTC unless an offset is given",
    )
    ap.add_argument(
        "--long-queue-ids",
        action="store_true",
        help="emit long queue IDs (enable_long_queue_ids = yes)",
    )
    ap.add_argument("-o", "--output", help="output file (.gz = gzip); default stdout")
    args = ap.parse_args(argv)
    if args.lines < 0:
        ap.error("--lines must be >= 0")
    start = datetime.fromisoformat(args.start)
    gen = LogGenerator(args.seed, start, args.format, args.long_queue_ids)
    out = open_output(args.output)
    try:
        for batch in gen.batches(args.lines):
            out.writelines(batch)
        out.flush()
    except BrokenPipeError:
        sys.stderr.close()  # e.g. piped into head(1)
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
