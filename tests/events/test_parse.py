"""The parsers: fast path == reference, and expected fields from public corpora."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillog_forensics.events.parse import ParsedBatch, TimeContext, parse_lines, reference_parse
from maillog_forensics.events.syslog import TS_RE
from tests.corpus import REPO, corpus_path, jsonl, read_lines

CORPUS_FILES = [
    ("seed", "mail.log"),
    ("postfix-lab", "mail.syslog-traditional.log"),
    ("postfix-lab", "mail.syslog-rfc3339.log"),
    ("postfix-lab", "mail.postlogd.log"),
    ("postfix-lab", "dovecot.native.log"),
    ("postfix-lab", "dovecot.syslog.log"),
    ("postfix-logsums-helga", "mail.log.gz"),
]


def both(
    lines: list[str], *, tz: str = "UTC", year: int = 2026
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fast = parse_lines(
        pl.Series(lines, dtype=pl.String), source_file="t", first_line_no=1, ctx=TimeContext(tz, year)
    )
    ref = reference_parse(lines, source_file="t", first_line_no=1, ctx=TimeContext(tz, year))
    return fast.table.to_pylist(), ref.table.to_pylist()


def assert_same(fast: list[dict[str, Any]], ref: list[dict[str, Any]]) -> None:
    assert len(fast) == len(ref)
    for a, b in zip(fast, ref, strict=True):
        if a != b:
            diff = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
            pytest.fail(f"line {b['line_no']}: fast != reference: {diff}")


def parse_one(line: str, **kw: Any) -> dict[str, Any]:
    fast, ref = both([line], **kw)
    assert_same(fast, ref)
    return fast[0]


@pytest.mark.parametrize(("folder", "name"), CORPUS_FILES)
def test_fast_parser_agrees_with_reference_on_corpus(folder: str, name: str) -> None:
    lines = read_lines(corpus_path(folder, name))
    fast, ref = both(lines)
    assert len(fast) == len(lines)
    assert_same(fast, ref)


def test_seed_excerpt_explained() -> None:
    rows = both(read_lines(corpus_path("seed", "mail.log")))[0]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r)
    (fail,) = by_kind["sasl_failed"]
    assert (fail["client_name"], fail["client_ip"], fail["sasl_method"], fail["reason"]) == (
        "unknown",
        "",
        "PLAIN",
        "",
    )
    assert fail["host"] is None and fail["program"] == "postfix/smtpd" and fail["pid"] == 32451
    reads = [r for r in by_kind["tls_data"] if r["direction"] == "Read"]
    auth = next(r for r in reads if r["payload"].startswith("AUTH"))
    # the credential is cut out of the stored text; its length is kept
    assert auth["payload"] == "AUTH PLAIN <redacted:29>" and auth["secret_length"] == 29
    assert "AGFkbWlu" not in auth["message"] and auth["io_length"] == 45
    writes = [r["payload"] for r in by_kind["tls_data"] if r["direction"] == "Write"]
    assert "435 4.7.8 Error: authentication failed: " in writes
    assert sum(1 for r in rows if r["kind"] == "unparsed") == 6  # the poster's "(some cipher text)" lines
    assert all(r["kind"] == "unparsed" for r in rows if r["message"] == "(some cipher text)")


def test_fast_parser_returns_secrets_for_redacted_lines() -> None:
    lines = read_lines(corpus_path("seed", "mail.log"))
    fast = parse_lines(pl.Series(lines), source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026))
    ref = reference_parse(lines, source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026))
    assert fast.secrets == ref.secrets
    assert fast.secrets[0][1:] == ("tls_data", "AGFkbWluQGZpcGljay5jb20Ad2lsb")


# --- postfix-grok-patterns: expected named captures -------------------------------------

# grok field → our column; expected value must be contained in ours (upstream test.rb semantics)
GROK_FIELDS = {
    "postfix_client_ip": "client_ip",
    "postfix_client_hostname": "client_name",
    "postfix_client_port": "client_port",
    "postfix_queueid": "queue_id",
    "postfix_smtp_stage": "stage",
    "postfix_status": "status",
    "postfix_tls_trustlevel": "tls_trust",
    "postfix_tls_version": "tls_protocol",
    "postfix_tls_cipher": "tls_cipher",
    "postfix_tls_cipher_size": "tls_bits",
    "postfix_message-id": "message_id",
    "postfix_version": "version",
    "postfix_anvil_conn_count": "metric_value",
    "postfix_anvil_conn_rate": "metric_value",
    "postfix_anvil_cache_size": "metric_value",
    "postfix_anvil_conn_period": "metric_window",
    "postfix_postscreen_dnsbl_rank": "dnsbl_rank",
    "postfix_dnsbl_domain": "dnsbl_domain",
    "postfix_server_ip": "server_ip",
    "postfix_server_port": "server_port",
    "postfix_status_code": "smtp_code",
    "postfix_status_code_enhanced": "dsn",
    "postfix_from": "sender",
    "postfix_termination_signal": "reason",
    "postfix_bounce_queueid": "linked_queue_id",
    "postfix_relay_hostname": "relay",
    "postfix_relay_ip": "relay",
    "postfix_relay_port": "relay",
    "postfix_message_level": "severity",
    **{
        f"postfix_cmd_{c}": f"{c}_total"
        for c in ["helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "rset", "quit", "unknown"]
    },
    **{
        f"postfix_cmd_{c}_accepted": f"{c}_ok"
        for c in ["helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "rset", "quit", "unknown"]
    },
    "postfix_cmd_count": "commands_total",
    "postfix_cmd_count_accepted": "commands_ok",
}
GROK_DAEMON = {"POSTFIX_SCRIPT": "postfix-script", "POSTFIX_TRIVIAL_REWRITE": "trivial-rewrite"}
GROK_SUBFIELD_PATTERNS = {"POSTFIX_TLS_FEATURES", "POSTFIX_DELAYS", "POSTFIX_RELAY"}


def grok_cases() -> list[dict[str, Any]]:
    return [
        c
        for c in jsonl(corpus_path("postfix-grok-patterns", "cases.jsonl"))
        if c["grok_name"] not in GROK_SUBFIELD_PATTERNS
    ]


def grok_line(case: dict[str, Any]) -> str:
    name = case["grok_name"]
    # the YAML turned postscreen's literal "\\r\\n" into control characters; put them back
    data = case["data"].replace("\r", "\\r").replace("\n", "\\n")
    if name == "POSTFIX_COMMAND_COUNTER_DATA":
        return f"Oct 26 18:13:50 mail postfix/smtpd[1234]: disconnect from unknown[192.0.2.1] {data}"
    daemon = GROK_DAEMON.get(name, name.removeprefix("POSTFIX_").lower())
    return f"Oct 26 18:13:50 mail postfix/{daemon}[1234]: {data}"


def test_grok_cases_fields() -> None:
    cases = grok_cases()
    lines = [grok_line(c) for c in cases]
    fast, ref = both(lines)
    assert_same(fast, ref)
    problems = []
    for case, row in zip(cases, fast, strict=True):
        for field, expected in case["results"].items():
            col = GROK_FIELDS.get(field)
            if col is None:
                continue
            got = row[col]
            if field.startswith("postfix_relay_") and got is None:
                # outbound lines that are not deliveries name the relay as the peer
                got = row[{"hostname": "client_name", "ip": "client_ip", "port": "client_port"}[field[14:]]]
            if field == "postfix_message_level" and got is None:
                got = row["action"]  # header_checks "info:"/"warning:" are actions
            if field == "postfix_tls_cipher_size":
                expected = str(expected).split("/")[0]
            if got is None or str(expected) not in str(got):
                problems.append(
                    f"{case['file']}: {field}={expected!r} but {col}={got!r} (kind {row['kind']})"
                )
    assert not problems, "\n".join(problems)


def test_grok_cases_kinds_known() -> None:
    """Every grok case gets a kind; the few without one are listed here, so a change shows."""
    cases = grok_cases()
    rows = both([grok_line(c) for c in cases])[0]
    unparsed = sorted(c["file"] for c, r in zip(cases, rows, strict=True) if r["kind"] == "unparsed")
    expected = (REPO / "tests" / "fixtures" / "grok_unparsed.txt").read_text().split()
    assert unparsed == expected


# --- sshguard / wazuh: the attacker address of attack lines ----------------------------


def test_sshguard_postfix_dovecot_attack_addresses() -> None:
    cases = [
        c
        for c in jsonl(corpus_path("sshguard", "mail_cases.jsonl"))
        if c["section"] in ("postfix", "dovecot")
    ]
    assert cases
    lines = []
    for c in cases:
        line = c["line"]
        if not TS_RE.match(line):  # message-only cases get a header
            prog = "postfix/smtpd[1]" if c["section"] == "postfix" else "dovecot"
            line = f"Jan  1 00:00:00 host {prog}: {line}"
        lines.append(line)
    fast, ref = both(lines)
    assert_same(fast, ref)
    checked = 0
    for c, row in zip(cases, fast, strict=True):
        if c["attack"] is None:
            continue
        if "greylist" in c["line"]:
            continue  # a postgrey line, not Postfix's: we do not claim it
        assert row["client_ip"] == c["attack"]["addr"], (c["line"], row["kind"])
        checked += 1
    assert checked >= 15


def test_wazuh_sasl_failure_lines() -> None:
    text = corpus_path("wazuh-ruleset", "0030-postfix.ini").read_text()
    lines = [
        ln.split("=", 1)[1].strip() for ln in text.splitlines() if ln.startswith("log ") and " pass = " in ln
    ]
    lines = [ln for ln in lines if ln]
    rows = both(lines)[0]
    sasl = [
        r for r, ln in zip(rows, lines, strict=True) if "authentication failed" in ln and "SASL LOGIN" in ln
    ]
    assert sasl and {(r["kind"], r["client_ip"]) for r in sasl} == {("sasl_failed", "89.176.96.114")}
    # (two upstream lines are edited by hand: "<censored>" client, "9999 text ..." reply)
    rejects = [
        r for r, ln in zip(rows, lines, strict=True) if "NOQUEUE: reject:" in ln and "censored" not in ln
    ]
    assert len(rejects) >= 10 and {(r["kind"], r["action"]) for r in rejects} == {("reject", "reject")}
    assert all(
        r["smtp_code"] in (450, 452, 503, 504, 550, 554) for r in rejects if "9999" not in r["message"]
    )


# --- the real production log -----------------------------------------------------------


def test_helga_unparsed_rate_and_leftovers() -> None:
    lines = read_lines(corpus_path("postfix-logsums-helga", "mail.log.gz"))
    fast = parse_lines(pl.Series(lines), source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2023)).table
    df = pl.from_arrow(fast.select(["kind", "message"])).with_columns(pl.col("kind").cast(pl.String))
    unparsed = df.filter(pl.col("kind") == "unparsed")
    assert unparsed.height / len(lines) < 0.005
    leftovers = sorted(set(unparsed.get_column("message").to_list()))
    expected = (REPO / "tests" / "fixtures" / "helga_unparsed.txt").read_text().splitlines()
    assert leftovers == expected
    counts = df.get_column("kind").value_counts().to_dict(as_series=False)
    got = dict(zip(counts["kind"], counts["count"], strict=True))
    # sanity totals from the corpus' SOURCES.md
    assert got["connect"] == got["disconnect"] == 5341
    assert got["client"] == 357 and got["message_id"] == 365 and got["queue_active"] == 365
    assert got["postscreen_connect"] >= 9700 and got["dnsbl_listed"] == 13926


def test_helga_timestamps_are_utc_from_offsets() -> None:
    lines = read_lines(corpus_path("postfix-logsums-helga", "mail.log.gz"))[:3]
    row = both(lines, tz="America/New_York")[0][0]  # the zone is ignored: the stamp has +01:00
    assert row["ts"].isoformat() == "2023-03-13T23:00:31.185246+00:00"


# --- Dovecot LMTP / LDA / Sieve deliveries ---------------------------------------------

SYSLOG = "Nov 27 10:00:01 mx dovecot: "
NATIVE = "2026-11-27 10:00:05 "  # Dovecot's own log_path with log_timestamp
FIELDS = ("username", "message_id", "mailbox", "reason", "client_ip")

DELIVERY_CASES = [
    # (process prefix and body, kind, expected fields; the rest of FIELDS must be null)
    (
        "lmtp(alice@example.com)<12345><Xk3bB7aHZ2V5MAAAp3+1Bw>: msgid=<20261127.1234@example.org>: "
        "saved mail to INBOX",
        "dovecot_saved",
        {"username": "alice@example.com", "message_id": "<20261127.1234@example.org>", "mailbox": "INBOX"},
    ),
    (
        "lmtp(bob)<12346><aBcDeF>: msgid=unspecified: saved mail to INBOX",
        "dovecot_saved",
        {"username": "bob", "mailbox": "INBOX"},  # no Message-ID header: left null
    ),
    (
        "lmtp(carol@example.com): msgid=<x@y>: saved mail to Junk",
        "dovecot_saved",
        {"username": "carol@example.com", "message_id": "<x@y>", "mailbox": "Junk"},
    ),
    (  # Dovecot 2.2: pid and user in the prefix, the session id in front of the text
        "lmtp(22587, email1@example.com): 5GjrDafYTFE7WAAABf1gKA: msgid=<D4@linode.com>: saved mail to INBOX",
        "dovecot_saved",
        {"username": "email1@example.com", "message_id": "<D4@linode.com>", "mailbox": "INBOX"},
    ),
    (  # Sieve (Dovecot 2.4 / Pigeonhole)
        "lmtp(frank@example.com)<12350><sess>: sieve: msgid=<e@f>: stored mail into mailbox 'INBOX'",
        "dovecot_saved",
        {"username": "frank@example.com", "message_id": "<e@f>", "mailbox": "INBOX"},
    ),
    (
        "lda(delta)<218><sbuvCr1ufmnaAAAA8Bi3+g>: sieve: msgid=<697e@d77.jp>: fileinto action: "
        "stored mail into mailbox 'Bob's, stuff' (Bob&APY-s)",
        "dovecot_saved",
        {"username": "delta", "message_id": "<697e@d77.jp>", "mailbox": "Bob's, stuff"},
    ),
    (
        "lmtp(dave@example.com)<12348><sess>: Error: msgid=<a@b>: save failed to INBOX: "
        "Quota exceeded (mailbox for user is full)",
        "dovecot_save_failed",
        {
            "username": "dave@example.com",
            "message_id": "<a@b>",
            "mailbox": "INBOX",
            "reason": "Quota exceeded (mailbox for user is full)",
        },
    ),
    (
        "lmtp(gina@example.com)<1><s>: Error: sieve: msgid=<g@h>: failed to store into mailbox 'Archive': "
        "Mailbox doesn't exist: Archive",
        "dovecot_save_failed",
        {
            "username": "gina@example.com",
            "message_id": "<g@h>",
            "mailbox": "Archive",
            "reason": "Mailbox doesn't exist: Archive",
        },
    ),
    (
        "lmtp(dave@example.com)<12348><sess>: msgid=<a@b>: rejected: "
        "Quota exceeded (mailbox for user is full)",
        "dovecot_rejected",
        {
            "username": "dave@example.com",
            "message_id": "<a@b>",
            "reason": "Quota exceeded (mailbox for user is full)",
        },
    ),
    (
        "lmtp(ah@example.com)<1170861><Kye7IfrDa2St3REA8GMZgg>: sieve: msgid=<3c@example.net>: "
        "sent vacation response to <test2@example.net>",
        "dovecot_sieve_action",
        {
            "username": "ah@example.com",
            "message_id": "<3c@example.net>",
            "reason": "sent vacation response to <test2@example.net>",
        },
    ),
    ("lmtp(12347): Connect from local", "dovecot_lmtp_connect", {}),
    ("lmtp(12347): Connect from 2001:db8::25", "dovecot_lmtp_connect", {"client_ip": "2001:db8::25"}),
    (
        "lmtp(12347): Disconnect from local: Successful quit",
        "dovecot_lmtp_disconnect",
        {"reason": "Successful quit"},
    ),
    (
        "lmtp(4711): Disconnect from 192.0.2.25: Client quit (in reset)",
        "dovecot_lmtp_disconnect",
        {"client_ip": "192.0.2.25", "reason": "Client quit (in reset)"},
    ),
]


def _native(text: str) -> str:
    """The same line as Dovecot writes it to its own log_path: the severity after the prefix."""
    prefix, body = text.split(": ", 1)
    return f"{NATIVE}{prefix}: {body if body.startswith('Error: ') else 'Info: ' + body}"


@pytest.mark.parametrize(("text", "kind", "expected"), DELIVERY_CASES, ids=[c[1] for c in DELIVERY_CASES])
def test_dovecot_delivery_kinds_syslog_and_native(text: str, kind: str, expected: dict[str, str]) -> None:
    for line in (SYSLOG + text, _native(text)):
        row = parse_one(line)  # fast == reference
        assert row["kind"] == kind, line
        assert {f: row[f] for f in FIELDS} == {f: expected.get(f) for f in FIELDS}, line
        assert row["daemon"] == text.split("(", 1)[0] and row["program"] in ("dovecot", row["daemon"])
        if line.startswith(NATIVE):
            assert row["severity"] in ("info", "error") and row["host"] is None


def test_dovecot_22_native_tag_with_a_space() -> None:
    """Dovecot 2.2's own log: "lmtp(22587, user)" is the tag, not host "lmtp(22587," + tag."""
    for stamp in ("2026-11-27 10:00:05 ", "Nov 27 10:00:05 "):
        row = parse_one(
            f"{stamp}lmtp(22587, e@example.com): Info: 5GjrDafYTFE7WAAABf1gKA: msgid=<m@x>: "
            "saved mail to INBOX"
        )
        assert (row["kind"], row["host"], row["program"], row["daemon"]) == (
            "dovecot_saved",
            None,
            "lmtp",
            "lmtp",
        )
        assert (row["username"], row["severity"]) == ("e@example.com", "info")
    # the same with a host (forwarded native line), and a non-Dovecot tag stays unparsed
    assert parse_one("Nov 27 10:00:05 mx lmtp(22587, e@example.com): Connect from local")["host"] == "mx"
    assert parse_one("Nov 27 10:00:05 mx foo(1, 2): text")["kind"] == "unparsed"


# --- Dovecot IMAP / POP3 session ends -----------------------------------------------------

MAIL_SESSION_CASES = [
    # (process prefix and body, user, reason): Dovecot 2.3/2.4 with <pid><session>, 2.2 without
    (
        "imap(niaj@example.com)<969314><KvTHgoHuR2yIOZEQ>: Disconnected: Logged out in=1300 out=59501 "
        "deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
        "niaj@example.com",
        "Disconnected: Logged out in=1300 out=59501 deleted=0 expunged=0 trashed=0 hdr_count=0 "
        "hdr_bytes=0 body_count=0 body_bytes=0",
    ),
    (
        "imap(user@example.org)<1489><yoGSh19DDresEgAB>: Disconnected: Connection closed "
        "(LIST finished 2.250 secs ago) in=46 out=801 deleted=0 expunged=0 trashed=0",
        "user@example.org",
        "Disconnected: Connection closed (LIST finished 2.250 secs ago) in=46 out=801 deleted=0 "
        "expunged=0 trashed=0",
    ),
    (
        "imap(laal@mail.io)<28358><CO3htpid9tRXDNo5>: Connection closed (IDLE running for 0.001 + "
        "waiting input for 28.914 secs, 2 B in + 10 B out, state=wait-input) in=703 out=12338",
        "laal@mail.io",
        "Connection closed (IDLE running for 0.001 + waiting input for 28.914 secs, 2 B in + 10 B out, "
        "state=wait-input) in=703 out=12338",
    ),
    (
        "imap(administrator): Disconnected: Logged out in=613 out=471",
        "administrator",
        "Disconnected: Logged out in=613 out=471",
    ),
    (
        "imap(username): Connection closed in=4573 out=47788",
        "username",
        "Connection closed in=4573 out=47788",
    ),
    (
        "imap(jmazouri@example.com): Disconnected for inactivity in=1435 out=391",
        "jmazouri@example.com",
        "Disconnected for inactivity in=1435 out=391",
    ),
    (
        "imap(bob): Connection closed: read(size=7902) failed: Connection reset by peer "
        "(UID FETCH finished 0.1 secs ago) in=9 out=99",
        "bob",
        "Connection closed: read(size=7902) failed: Connection reset by peer "
        "(UID FETCH finished 0.1 secs ago) in=9 out=99",
    ),
    (
        "imap(carol)<7><s>: Disconnected: Too many invalid IMAP commands. in=12 out=34",
        "carol",
        "Disconnected: Too many invalid IMAP commands. in=12 out=34",
    ),
    (
        "pop3(coretest@some.com): Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0",
        "coretest@some.com",
        "Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0",
    ),
    (
        "pop3(test@domain.com)<84247><J2CX0h9GyKdNdjUV>: Connection closed "
        "top=0/0, retr=0/0, del=0/7, size=18271",
        "test@domain.com",
        "Connection closed top=0/0, retr=0/0, del=0/7, size=18271",
    ),
]


@pytest.mark.parametrize(("text", "user", "reason"), MAIL_SESSION_CASES)
def test_dovecot_mail_session_end_syslog_and_native(text: str, user: str, reason: str) -> None:
    bsd_native = "Dec  1 21:31:54 " + _native(text)[len(NATIVE) :]  # log_timestamp "%b %d %H:%M:%S "
    for line in (SYSLOG + text, _native(text), bsd_native):
        row = parse_one(line)  # fast == reference
        assert row["kind"] == "dovecot_mail_session_end", line
        assert (row["username"], row["reason"]) == (user, reason), line
        assert row["daemon"] == text.split("(", 1)[0] and row["program"] in ("dovecot", row["daemon"])
        assert {f: row[f] for f in FIELDS if f not in ("username", "reason")} == dict.fromkeys(
            ("message_id", "mailbox", "client_ip")
        )
        if line != SYSLOG + text:
            assert (row["severity"], row["host"]) == ("info", None)


def test_other_imap_lines_are_not_session_ends() -> None:
    lines = [
        SYSLOG + "imap(bob)<1><s>: Error: Mailbox INBOX: UID=5: read() failed",  # an error: warning
        SYSLOG + "imap(bob)<1><s>: Warning: Maildir filename has wrong S value",
        SYSLOG + "imap(bob)<1><s>: Debug: Effective uid=5000",  # debug noise: its own kind
        SYSLOG
        + "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=192.0.2.1, lip=192.0.2.2",
        SYSLOG + "imap: Disconnected: Logged out in=1 out=2",  # no user in the prefix: not a session end
    ]
    fast, ref = both(lines)
    assert_same(fast, ref)
    assert [r["kind"] for r in fast] == ["warning", "warning", "dovecot_debug", "dovecot_login", "unparsed"]


def test_dovecot_delivery_lines_in_a_postfix_log() -> None:
    """One LMTP delivery as Postfix and Dovecot log it: both parsers agree on every line."""
    lines = [
        "Nov 27 10:00:03 mx dovecot: lmtp(12347): Connect from local",
        "Nov 27 10:00:03 mx dovecot: lmtp(alice@example.com)<12347><Xk3bB7aHZ2V5MAAAp3+1Bw>: "
        "msgid=<m1@example.org>: saved mail to INBOX",
        "Nov 27 10:00:03 mx postfix/lmtp[4712]: 4104E3D: to=<alice@example.com>, "
        "relay=mx[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
        "status=sent (250 2.0.0 <alice@example.com> Xk3bB7aHZ2V5MAAAp3+1Bw Saved)",
        "Nov 27 10:00:03 mx dovecot: lmtp(12347): Disconnect from local: Successful quit",
        "Nov 27 10:00:04 mx dovecot: lmtp(bob)<1><s>: Error: lmtp-server: conn unix:pid=1: broken",
    ]
    fast, ref = both(lines)
    assert_same(fast, ref)
    assert [r["kind"] for r in fast] == [
        "dovecot_lmtp_connect",
        "dovecot_saved",
        "delivery",  # Postfix's own lmtp client is untouched
        "dovecot_lmtp_disconnect",
        "warning",  # an error without a msgid stays a warning
    ]
    assert fast[2]["username"] is None and fast[2]["recipient"] == "alice@example.com"


# --- properties ------------------------------------------------------------------------

LINE_ALPHABET = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")
HEADERS = st.sampled_from(
    [
        "Feb  3 11:57:42 mail postfix/smtpd[123]: ",
        "Dec 31 23:59:59 mail postfix/submission/smtpd[9]: ",
        "2026-11-27T19:08:29.412698+00:00 mail dovecot: auth: ",
        "Nov 27 19:10:46 auth: Info: ",
        "Nov 27 10:00:01 mx dovecot: lmtp(alice@example.com)<12345><Xk3b+B7/aHZ>: ",
        "Mar 22 18:18:15 host dovecot: lmtp(22587, e@example.com): ",
        "2026-11-27 10:00:05 lmtp(erin@example.com)<12349><sess>: Info: ",
        "Nov 27 10:00:03 mx dovecot: lmtp(12347): ",
        "2026-11-27 10:00:05 lmtp(22587, e@example.com): Info: ",
        "Mar  1 00:02:29 mail dovecot: imap(niaj@example.com)<969314><KvTHgoHuR2yIOZEQ>: ",
        "2026-11-27 10:00:05 pop3(p@example.com): Info: ",
        "Dec  1 21:31:54 imap(joe): ",
        "Nov 27 10:00:01 mx dovecot: auth: Debug: ",
        "Nov 27 10:00:01 mx dovecot: imap-login: ",
        "Nov 27 10:00:01 mx dovecot: IMAP(alice): ",
        "Nov 27 10:00:01 mx dovecot: auth(default): ",
        "2026-11-27 10:00:05 auth-worker(4711): Info: conn unix:auth-worker (pid=1,uid=2): auth-worker<3>: ",
        "2026-11-27 10:00:05 imap-login: Debug: ",
        "<22>1 2024-06-05T10:11:12Z mail postfix/smtpd 1 - - ",
        "Feb 3 11:57:42 mail postfix/smtpd[123]: ",  # one space before the day
        "@4000000065a1b2c31d2e3f40 postfix/smtpd[1]: ",  # multilog TAI64N
        "@4000000065a1b2c31d2e3f40 imap-login: Info: ",
        "2026-11-27 10:00:05.123456 auth: Info: ",  # Dovecot log_timestamp with %{usecs}
        "2026-09-02T10:00:00.123456789Z postfix/smtpd[1]: ",  # docker stamp, bare tag
        "",
    ]
)
#: what containers and log services put in front of a line (syslog.unwrap)
WRAPPERS = st.sampled_from(
    [
        "",
        "",
        "mailserver  | ",
        "\x1b[36mmailserver-1  | \x1b[0m",
        "\x1b[33;1mmail_1  |\x1b[0m ",
        "2026-09-02T10:00:00.123456789Z ",
        "mailserver-1  | 2026-09-02T10:00:00.000000001+02:00 ",
        "@4000000065a1b2c31d2e3f40 ",
        "\x00\x00\x00",
        "a | ",
    ]
)
BODIES = st.sampled_from(
    [
        "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: ",
        "connect from ",
        "disconnect from x[192.0.2.1] ehlo=",
        "NOQUEUE: reject: RCPT from a[192.0.2.9]: 554 5.7.1 ",
        "passwd-file(",
        "Read 45 chars: AUTH PLAIN ",
        "< unknown[192.0.2.4]: ",
        "to=<a@example.com>, relay=",
        "message repeated 2 times: [ ",
        "msgid=<a@b>: saved mail to ",
        "sieve: msgid=unspecified: stored mail into mailbox '",
        "Error: msgid=<a@b>: save failed to ",
        "5GjrDafYTFE7WAAABf1gKA: msgid=",
        "Disconnect from local",
        "Disconnected: Logged out in=",
        "Connection closed (IDLE running for 0.001 + waiting input for 28.914 secs) in=",
        "Disconnected for inactivity",
        "Logged out top=0/0, ",
        "passwd-file(alice,192.0.2.7,<kX9d>): ",
        "pam(carol,192.0.2.9): lookup ",
        "SSHA(",
        "Disconnected: Connection closed: read(size=1) failed (auth failed, 1 attempts in 2 secs): user=<",
        "Login aborted: Inactivity (tried to use disallowed cleartext auth, 1 attempts in 0 secs) (x): ",
        "Login: user=<",
        "rip=192.0.2.7, lip=",
        "",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(WRAPPERS, HEADERS, BODIES, st.text(LINE_ALPHABET, max_size=60)), min_size=1, max_size=20
    )
)
def test_fast_equals_reference_on_generated_lines(parts: list[tuple[str, str, str, str]]) -> None:
    lines = [w + h + b + t for w, h, b, t in parts]
    fast, ref = both(lines)
    assert len(fast) == len(lines)
    assert_same(fast, ref)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(LINE_ALPHABET, max_size=80), min_size=1, max_size=30))
def test_arbitrary_text_never_crashes(lines: list[str]) -> None:
    fast, ref = both(lines)
    assert len(fast) == len(lines)
    assert_same(fast, ref)


def test_parsed_batch_type() -> None:
    batch = parse_lines(pl.Series(["x"]), source_file="t", first_line_no=7, ctx=TimeContext("UTC", 2026))
    assert isinstance(batch, ParsedBatch)
    (row,) = batch.table.to_pylist()
    assert (row["kind"], row["line_no"], row["message"], row["ts"]) == ("unparsed", 7, "x", None)


@pytest.mark.parametrize(
    ("stamp", "year", "utc"),
    [
        ("Feb 28 23:59:59", 2026, "2026-02-28T23:59:59+00:00"),
        ("Feb 29 10:00:00", 2024, "2024-02-29T10:00:00+00:00"),  # leap year
        ("Feb 29 10:00:00", 2026, None),  # no such day
        ("Feb 30 10:00:00", 2024, None),
        ("Apr 31 10:00:00", 2026, None),
        ("Dec 31 24:00:00", 2026, None),
        ("Dec 31 23:59:60", 2026, None),  # a leap second is not representable: no time, line kept
        ("2100-02-29T10:00:00Z", 2026, None),  # 2100 is not a leap year
        ("2000-02-29T10:00:00.123456+01:00", 2026, "2000-02-29T09:00:00.123456+00:00"),
        ("Feb 9 24:00:00", 2026, None),  # one space before the day
        ("Feb 9 23:59:59.5", 2026, "2026-02-09T23:59:59.500000+00:00"),
        ("2026-02-30 10:00:00.5", 2026, None),  # Dovecot log_timestamp
        ("2026-02-28 10:00:00.000001", 2026, "2026-02-28T10:00:00.000001+00:00"),
        ("2026-02-28T10:00:00.999999999Z", 2026, "2026-02-28T10:00:00.999999+00:00"),  # cut, not rounded
        ("@400000000000000a3b9aca00", 2026, None),  # 10^9 nanoseconds
        ("@3fffffff7c55818900000000", 2026, None),  # 1899-12-31T23:59:59: before 1900
        ("@3fffffff7c55818a00000000", 2026, "1900-01-01T00:00:00+00:00"),
        ("@4000000000000000000003e8", 2026, "1969-12-31T23:59:50.000001+00:00"),
    ],
)
def test_impossible_dates_give_no_time_in_both_parsers(stamp: str, year: int, utc: str | None) -> None:
    row = parse_one(f"{stamp} mx postfix/smtpd[1]: connect from unknown[192.0.2.1]", year=year)
    got = row["ts"].isoformat() if row["ts"] is not None else None
    assert got == utc
    assert row["line_no"] == 1
