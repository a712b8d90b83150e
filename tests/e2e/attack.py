"""The attack driver: scripted SMTP clients on loopback, and the ground truth they write.

Every connection is one JSON object (one line of ``ground-truth.jsonl``) written after the
connection ended, with what the client did and exactly what the server answered::

    {"conn": 7, "scenario": "brute-force", "role": "attacker", "src_ip": "127.0.0.2",
     "service": "smtp", "tls": "starttls", "how": "quit", "verbose": null,
     "attempts": [{"mechanism": "LOGIN", "username": "admin@e2e.example",
                   "correct": false, "reply_code": 535, "outcome": "fail"}],
     "mails": [{"sender": ..., "rcpts": {"x@example.com": 250}, "queue_id": "4Y..."}],
     "commands": [["GARBAGE", 502]], "start": 1795000000.1, "end": 1795000002.5}

Only 127.0.0.0/8 is ever used (source and server), counts are fixed lists, every socket has
a timeout and every scenario a deadline: a run is bounded in traffic and time.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.e2e.server import DOMAIN, RELAY_ACCOUNT, RELAY_CLIENT_IP, RELAY_DOMAIN, USERS, MailServer

SERVER = "127.0.0.1"
TIMEOUT = 40  # s per socket operation: above Postfix's wait on a slow auth server
WRONG = ["123456", "password", "qwerty", "Passw0rd", "letmein", "admin123", "welcome1", "dragon"]
DICTIONARY = [f"{n}@{DOMAIN}" for n in ("admin", "info", "sales", "support", "test", "office")]
SPRAY_PASSWORD = "Winter2026!"
#: the queue ID of a message relayed by Postfix's own smtp client: only that client saw the
#: reply that names it, so the ground truth says how many, not which
UNSEEN_QUEUE_ID = "?"


def _outcome(code: int) -> str:
    if code == 235:
        return "success"
    if code in (535, 435):
        return "fail"
    if code in (454, 421, 450):
        return "tempfail"
    return "rejected"


@dataclass
class Connection:
    """What one scripted client did on one connection, and what the server said."""

    conn: int
    scenario: str
    role: str  # attacker | intruder | user | mta | seed
    src_ip: str
    service: str
    tls: str = "none"
    how: str = "quit"
    verbose: str | None = None  # tls_loglevel_4 | debug_peer_list | smtpd_v
    attempts: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)
    commands: list[list[Any]] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0


class Client:
    """One SMTP connection from ``src_ip``, recording into a :class:`Connection`."""

    def __init__(self, rec: Connection, *, helo: str, port: int) -> None:
        if not ipaddress.ip_address(rec.src_ip).is_loopback:
            raise ValueError(f"refusing a non-loopback source address {rec.src_ip}")
        self.rec = rec
        rec.start = time.time()
        ctx = _tls_context()
        if rec.service == "smtps":
            rec.tls = "wrapper"
            self.smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                SERVER,
                port,
                local_hostname=helo,
                source_address=(rec.src_ip, 0),
                timeout=TIMEOUT,
                context=ctx,
            )
        else:
            self.smtp = smtplib.SMTP(
                SERVER, port, local_hostname=helo, source_address=(rec.src_ip, 0), timeout=TIMEOUT
            )
        self.smtp.ehlo()

    def starttls(self) -> None:
        self.smtp.starttls(context=_tls_context())
        self.smtp.ehlo()
        self.rec.tls = "starttls"

    def auth(self, mechanism: str, username: str, password: str, *, initial_response: bool = True) -> str:
        """One AUTH exchange; returns the outcome (success/fail/tempfail/rejected)."""
        user, pw = username.encode(), password.encode()
        if mechanism == "PLAIN":
            blob = _b64(b"\0" + user + b"\0" + pw)
            if initial_response:
                code, _ = self.smtp.docmd("AUTH", f"PLAIN {blob}")
            else:
                code, _ = self.smtp.docmd("AUTH", "PLAIN")
                if code == 334:
                    code, _ = self.smtp.docmd(blob)
        elif mechanism == "LOGIN":
            code, _ = self.smtp.docmd("AUTH", "LOGIN")
            if code == 334:
                code, _ = self.smtp.docmd(_b64(user))
            if code == 334:
                code, _ = self.smtp.docmd(_b64(pw))
        else:
            raise ValueError(mechanism)
        outcome = _outcome(code)
        self.rec.attempts.append(
            {
                "mechanism": mechanism,
                "username": username,
                "password": password,  # test data only: we check it never shows in our output
                "correct": USERS.get(username) == password,
                "reply_code": code,
                "outcome": outcome,
            }
        )
        return outcome

    def command(self, line: str) -> int:
        code, _ = self.smtp.docmd(line)
        self.rec.commands.append([line.split(" ")[0], code])
        return code

    def mail(self, sender: str, rcpts: list[str], *, subject: str) -> str | None:
        """One mail transaction; returns the queue ID when the server queued it."""
        codes: dict[str, int] = {}
        code, _ = self.smtp.mail(sender)
        record: dict[str, Any] = {"sender": sender, "mail_code": code, "rcpts": codes, "queue_id": None}
        self.rec.mails.append(record)
        if code != 250:
            return None
        for r in rcpts:
            codes[r] = self.smtp.rcpt(r)[0]
        if not any(c == 250 for c in codes.values()):
            self.smtp.rset()
            return None
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(rcpts), subject
        msg["Message-ID"] = f"<e2e.{self.rec.conn}.{len(self.rec.mails)}@{self.rec.src_ip}>"
        msg.set_content("maillog-forensics end-to-end test message; discarded by the server.\n")
        code, reply = self.smtp.data(msg.as_bytes())
        record["data_code"] = code
        queue_id: str | None = None
        if code == 250 and b"queued as " in reply:
            queue_id = reply.rsplit(b"queued as ", 1)[1].decode().strip()
            record["queue_id"], record["message_id"] = queue_id, msg["Message-ID"]
        return queue_id

    def close(self, *, quit: bool = True) -> None:
        if quit:
            try:
                self.smtp.quit()
            except (smtplib.SMTPServerDisconnected, OSError):
                self.rec.how = "server_closed"
        else:
            self.rec.how = "abort"
            self.smtp.close()
        self.rec.end = time.time()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's throwaway self-signed certificate
    return ctx


class Driver:
    """Runs the scenarios against ``server`` and writes the ground truth to ``truth``."""

    def __init__(self, server: MailServer, truth: Path) -> None:
        self.server = server
        self.truth = truth
        self._lock = threading.Lock()
        self._next = 0
        truth.write_text("")

    # ---- plumbing ----------------------------------------------------------------------
    def connection(self, scenario: str, role: str, src_ip: str, service: str, *, helo: str) -> Client:
        with self._lock:
            self._next += 1
            n = self._next
        rec = Connection(n, scenario, role, src_ip, service)
        if service == "smtps" and self.server.config.smtpd_verbose:
            rec.verbose = "smtpd_v"  # master.cf: smtps ... smtpd -v
        return Client(rec, helo=helo, port=self.server.ports[service])

    def record(self, client: Client) -> None:
        with self._lock, open(self.truth, "a") as fh:
            fh.write(json.dumps(asdict(client.rec)) + "\n")

    def session(self, scenario: str, role: str, src_ip: str, service: str, *, helo: str) -> _Session:
        return _Session(self, self.connection(scenario, role, src_ip, service, helo=helo))

    # ---- scenarios ---------------------------------------------------------------------
    def brute_force(self) -> None:
        """One address, many guesses: PLAIN and LOGIN, with and without STARTTLS."""
        ip, victim = "127.0.0.2", f"admin@{DOMAIN}"
        plans = [
            ("smtp", False, "PLAIN", True),
            ("smtp", True, "LOGIN", True),
            ("smtp", False, "LOGIN", False),  # drops the connection without QUIT
            ("submission", True, "PLAIN", True),
            ("smtp", True, "PLAIN", True),
        ]
        guesses = iter(WRONG)
        for service, tls, mech, polite in plans:
            with self.session("brute-force", "attacker", ip, service, helo="WIN-7ABC") as c:
                if tls:
                    c.starttls()
                for _ in range(2):
                    c.auth(mech, victim, next(guesses, "000000"))
                c.close(quit=polite)

    def campaign(self) -> None:
        """Distributed guessing: 10 addresses of one /24, two guesses each, shared user list."""
        for i in range(1, 11):
            ip = f"127.0.1.{i}"
            for k in range(2):
                user = DICTIONARY[(i + k) % len(DICTIONARY)]
                mech = "PLAIN" if (i + k) % 2 else "LOGIN"
                with self.session("campaign", "attacker", ip, "smtp", helo=f"bot{i}") as c:
                    c.auth(mech, user, WRONG[(i * 2 + k) % len(WRONG)])
            time.sleep(0.2)

    def spray(self) -> None:
        """One password against six accounts from one address, one account per connection.

        Paced as sprays are: slower than Dovecot's per-address penalty (2^n s, at most 15 s),
        which would otherwise turn later guesses into auth-server timeouts that name nobody.
        """
        pause = 16.0 if self.server.config.sasl == "dovecot" else 1.0
        for i, user in enumerate([*USERS, *DICTIONARY[:3]]):
            if i:
                time.sleep(pause)
            with self.session("spray", "attacker", "127.0.2.5", "smtp", helo="spray") as c:
                c.auth("PLAIN", user, SPRAY_PASSWORD)

    def intruder(self) -> None:
        """Guesses alice's password, then sends mail through the server; a second address reuses it."""
        ip, victim = "127.0.0.66", "alice@e2e.example"
        with self.session("takeover", "intruder", ip, "submission", helo="kali") as c:
            c.starttls()
            for guess in WRONG[:3]:
                c.auth("LOGIN", victim, guess)
            c.close()
        # bots retry a temporary failure: keep offering the right password (bounded)
        for _ in range(4):
            with self.session("takeover", "intruder", ip, "submission", helo="kali") as c:
                c.starttls()
                if c.auth("LOGIN", victim, USERS[victim]) == "success":
                    c.mail(victim, ["buyer1@example.com", "buyer2@example.net"], subject="invoice")
                    c.mail(victim, ["carol@e2e.example"], subject="please reset your password")
                    break
            time.sleep(3)
        with self.session("takeover", "intruder", "127.0.0.67", "smtps", helo="vps") as c:
            if c.auth("PLAIN", victim, USERS[victim]) == "success":
                c.mail(
                    "security@paypal.example", [f"victim{i}@example.org" for i in range(3)], subject="verify"
                )

    def legitimate(self) -> None:
        """Real users: bob (one typo, then right) and carol send mail; an MTA delivers inbound."""
        with self.session("users", "user", "127.0.0.10", "submission", helo="ws-bob") as c:
            c.starttls()
            c.auth("PLAIN", "bob@e2e.example", "b0b-Correct-Hrose")
            c.auth("PLAIN", "bob@e2e.example", USERS["bob@e2e.example"])
            c.mail("bob@e2e.example", ["carol@e2e.example", "partner@example.org"], subject="minutes")
        with self.session("users", "user", "127.0.0.11", "smtps", helo="ws-carol") as c:
            c.auth("LOGIN", "carol@e2e.example", USERS["carol@e2e.example"])
            c.mail("carol@e2e.example", ["bob@e2e.example"], subject="lunch")
        with self.session("inbound", "mta", "127.0.0.20", "smtp", helo="mx.partner.example") as c:
            c.starttls()
            c.mail("news@partner.example", ["alice@e2e.example", "nobody@e2e.example"], subject="news")
        with self.session("inbound", "mta", "127.0.0.21", "smtp", helo="relay-probe") as c:
            c.mail("probe@example.net", ["someone@example.com"], subject="relay test")

    def seed_tls_loglevel(self) -> None:
        """The mission's seed: smtpd_tls_loglevel = 4 logs the decrypted dialogue, AUTH included."""
        self.server.postconf(smtpd_tls_loglevel="4")
        try:
            with self.session("seed-tls", "seed", "127.0.0.13", "smtp", helo="seed") as c:
                c.rec.verbose = "tls_loglevel_4"
                c.starttls()
                c.auth("PLAIN", f"admin@{DOMAIN}", "wilbur2026")
                c.auth("LOGIN", f"admin@{DOMAIN}", "wilbur2027")
                c.command("GARBAGE")
        finally:
            self.server.postconf(smtpd_tls_loglevel="1")

    def seed_debug_peer(self) -> None:
        """``debug_peer_list`` for one source: the whole dialogue, base64 AUTH included."""
        self.server.postconf(debug_peer_list="127.0.0.9")
        try:
            with self.session("seed-debug", "seed", "127.0.0.9", "smtp", helo="seed") as c:
                c.rec.verbose = "debug_peer_list"
                c.auth("PLAIN", f"info@{DOMAIN}", "summer!")
                c.auth("LOGIN", f"info@{DOMAIN}", "autumn!")
                c.command("GARBAGE")
        finally:
            self.server.postconf(debug_peer_list="")

    def relay_client(self) -> None:
        """Carol sends to relay.example (smtps); Postfix's smtp client relays it to submission, as bob.

        The second connection is Postfix's, not ours: its ground truth is what the
        configuration makes it do (STARTTLS, AUTH PLAIN with bob's password from
        smtp_sasl_password_maps, one message), timed from carol's accepted DATA.
        """
        carol = "carol@e2e.example"
        rcpt = f"partner@{RELAY_DOMAIN}"
        with self.session("relay", "user", "127.0.0.12", "smtps", helo="ws-carol2") as c:
            c.auth("PLAIN", carol, USERS[carol])
            c.mail(carol, [rcpt], subject="relayed")
            queued_at = time.time()
        self.server.wait_for_queue_empty()
        with self._lock:
            self._next += 1
            n = self._next
        rec = Connection(n, "relay", "mta", RELAY_CLIENT_IP, "submission", tls="starttls")
        rec.attempts.append(
            {
                "mechanism": "PLAIN",  # smtp_sasl_mechanism_filter = plain
                "username": RELAY_ACCOUNT,
                "password": USERS[RELAY_ACCOUNT],
                "correct": True,
                "reply_code": 235,
                "outcome": "success",
            }
        )
        rec.mails.append(
            {
                "sender": carol,
                "mail_code": 250,
                "rcpts": {rcpt: 250},
                "queue_id": UNSEEN_QUEUE_ID,
                "data_code": 250,
                "message_id": c.rec.mails[0].get("message_id"),
            }
        )
        rec.start, rec.end = queued_at, time.time()
        with self._lock, open(self.truth, "a") as fh:
            fh.write(json.dumps(asdict(rec)) + "\n")

    def run_all(self, *, deadline_s: float = 300) -> None:
        """The concurrent scenarios, then the seeds one after the other (they reload Postfix)."""
        parallel: list[Callable[[], None]] = [
            self.brute_force,
            self.campaign,
            self.spray,
            self.intruder,
            self.legitimate,
        ]
        _run_threads(parallel, deadline_s=deadline_s)
        self.seed_tls_loglevel()
        self.seed_debug_peer()
        if self.server.config.relay_client:
            self.relay_client()
        self.server.wait_for_queue_empty()
        self.server.flush_logs()


class _Session:
    """``with driver.session(...) as c:``: QUIT at the end unless the client closed already."""

    def __init__(self, driver: Driver, client: Client) -> None:
        self.driver, self.client = driver, client

    def __enter__(self) -> Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        if not self.client.rec.end:
            self.client.close()
        self.driver.record(self.client)


def _run_threads(jobs: list[Callable[[], None]], *, deadline_s: float) -> None:
    errors: list[BaseException] = []

    def guard(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as e:  # reported below, with the scenario's name
            errors.append(RuntimeError(f"scenario {job.__name__} failed: {e!r}"))

    threads = [threading.Thread(target=guard, args=(j,), daemon=True) for j in jobs]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline_s
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"scenarios still running after {deadline_s:.0f} s")
    if errors:
        raise errors[0]


def read_truth(path: Path) -> Iterator[dict[str, Any]]:
    """The ground-truth connections, in the order they ended."""
    with open(path) as fh:
        for line in fh:
            yield json.loads(line)
