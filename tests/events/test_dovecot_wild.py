"""Dovecot 1.x-2.4 lines as servers write them, built from dovecot/core's format strings.

Each case names the release tag and file its text comes from. Every case is parsed by
both parsers (they must agree) in the syslog form (``dovecot: auth: Debug: ...``) and,
where Dovecot writes one, its own log_path form (``auth: Debug: ...``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.events.test_parse import assert_same, both

SYSLOG = "Nov 27 10:00:01 mx dovecot: "
NATIVE = "2026-11-27 10:00:05 "

# --- Debug: lines: their own kinds, no verdict, no text column -------------------------

#: (process prefix + "Debug: " + text, auth_driver, username); the address is 192.0.2.7
DEBUG_CASES: list[tuple[str, str, str]] = [
    # 2.3/2.4 src/auth/auth-request.c: passdb/userdb lookup progress
    ("auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): Performing passdb lookup", "passwd-file", "alice"),
    ("auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): Finished passdb lookup", "passwd-file", "alice"),
    ("auth: Debug: auth(alice,192.0.2.7,<kX9d>): Auth request finished", "auth", "alice"),
    ("auth: Debug: sql(alice,192.0.2.7,<kX9d>): Performing userdb lookup", "sql", "alice"),
    # db-passwd-file.c "lookup: user=%s file=%s" (2.2-2.4), passdb-pam.c "lookup service=%s"
    (
        "auth: Debug: passwd-file(alice,192.0.2.7): lookup: user=alice file=/etc/dovecot/users",
        "passwd-file",
        "alice",
    ),
    ("auth: Debug: pam(alice,192.0.2.7,<kX9d>): lookup service=dovecot", "pam", "alice"),
    # auth_debug_passwords: auth-request.c log_password_failure "%s(%s) != '%s'" (2.2/2.3),
    # "Credentials: %s"; the mechanism prefix (AUTH_SUBSYS_MECH) with the user still "?"
    ("auth: Debug: passwd-file(alice,192.0.2.7): SSHA(Planted-pw-1) != '{SSHA}xyz'", "passwd-file", "alice"),
    ("auth: Debug: plain(?,192.0.2.7,<kX9d>): Credentials: Planted-pw-2", "plain", "?"),
    # master-user login (",master" in the identifier): auth-request-fields.c 2.3
    (
        "auth: Debug: passwd-file(master,192.0.2.7,master,<kX9d>): Master user lookup for login: bob",
        "passwd-file",
        "master",
    ),
]
#: protocol dumps: auth-client-connection.c "client passdb out: %s", auth-master-connection.c
#: "master in: %s", "passdb out: %s", "userdb out: %s", "master userdb out: %s" (2.2-2.4),
#: auth-worker-client.c "Handling %s request" (2.3, with the conn/auth-worker<N> prefix)
PROTOCOL_DEBUG = [
    "auth: Debug: client passdb out: FAIL\t1\tuser=alice",
    "auth: Debug: client passdb out: OK\t1\tuser=bob\tmaster_user=master",
    "auth: Debug: master in: REQUEST\t1\t4711\t1\tabc\tsession_pid=4712",
    "auth: Debug: master userdb out: USER\t1\tbob\tuid=5000",
    "auth: Debug: passdb out: PASS\t1\tuser=bob",
    "auth: Debug: userdb out: USER\t1\tbob",
    "auth-worker(4711): Debug: conn unix:auth-worker (pid=4700,uid=97): auth-worker<3>: "
    "Handling PASSV request",
    "imap(bob)<4712><kX9d>: Debug: Effective uid=5000, gid=5000, home=/home/bob",
    "imap-login: Debug: SSL: elliptic curve secp384r1 will be used for ECDH and ECDHE key exchanges",
]


def _forms(text: str) -> list[str]:
    return [SYSLOG + text, NATIVE + text]


def _rows(lines: list[str]) -> list[dict[str, Any]]:
    fast, ref = both(lines)
    assert_same(fast, ref)
    return fast


@pytest.mark.parametrize(("text", "driver", "user"), DEBUG_CASES)
def test_debug_request_lines_are_dovecot_debug(text: str, driver: str, user: str) -> None:
    for row in _rows(_forms(text)):
        assert (row["kind"], row["severity"]) == ("dovecot_debug", "debug")
        assert (row["auth_driver"], row["username"], row["client_ip"]) == (driver, user, "192.0.2.7")
        # no verdict, and the text (a password with debug_passwords) lands in no column
        assert row["auth_result"] is None and row["payload"] is None and row["reason"] is None


@pytest.mark.parametrize("text", PROTOCOL_DEBUG)
def test_debug_protocol_lines_are_dovecot_debug(text: str) -> None:
    for row in _rows(_forms(text)):
        assert (row["kind"], row["severity"]) == ("dovecot_debug", "debug")
        assert row["auth_result"] is None and row["payload"] is None and row["login_event"] is None


def test_debug_client_in_keeps_its_redacted_kind() -> None:
    # auth-client-connection.c "client in: %s": the AUTH line's resp= is a credential
    for row in _rows(_forms("auth: Debug: client in: AUTH\t1\tPLAIN\tservice=imap\tresp=AGFsaWNlAHB3")):
        assert (row["kind"], row["severity"]) == ("dovecot_auth_debug", "debug")
        assert "AGFsaWNlAHB3" not in row["message"] and row["secret_length"] == 12


def test_a_debug_line_shaped_like_a_verdict_is_still_debug() -> None:
    """Structural: a Debug: line gets no verdict kind, whatever its text says."""
    lines = [
        SYSLOG + "auth: Debug: passwd-file(alice,192.0.2.7): Password mismatch",
        SYSLOG + "imap-login: Debug: Login: user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        SYSLOG
        + "imap-login: Debug: Disconnected (auth failed, 1 attempts in 2 secs): user=<a>, rip=192.0.2.7, "
        "lip=198.51.100.1",
        SYSLOG + "auth: passwd-file(alice,192.0.2.7): Password mismatch",  # the same at Info: a verdict
    ]
    assert [r["kind"] for r in _rows(lines)] == ["dovecot_debug"] * 3 + ["dovecot_auth"]


# --- Dovecot 1.x: auth_debug output is written at Info level ---------------------------


#: 1.2 src/auth/auth-request.c auth_request_log_debug() calls i_info(); 1.x syslog has
#: the process as "auth(default)" and no level text
@pytest.mark.parametrize(
    "text",
    [
        "auth(default): passwd-file(alice,192.0.2.7): lookup: user=alice file=/etc/dovecot/passwd",
        "auth(default): pam(alice,192.0.2.7): lookup service=dovecot",
        "auth(default): passwd-file(alice,192.0.2.7): SSHA(Planted-pw-3) != '{SSHA}xyz'",
        "auth(default): sql(alice,192.0.2.7): query: SELECT password FROM users WHERE userid = 'alice'",
        "auth(default): cache(alice,192.0.2.7): hit: {PLAIN}x",
    ],
)
def test_dovecot1_info_level_debug_output_is_a_trace(text: str) -> None:
    (row,) = _rows([SYSLOG + text])
    assert row["kind"] == "dovecot_auth_trace" and row["auth_result"] is None
    assert (row["username"], row["client_ip"]) == ("alice", "192.0.2.7")


# --- verdicts: auth process prefixes of every release ----------------------------------

#: (line after the syslog header, driver, user, ip, result)
VERDICT_CASES = [
    # 2.0/2.1 (and 1.x) "auth(default): " process; passdb-pam.c "pam_authenticate() failed: %s"
    (
        "auth(default): pam(carol,192.0.2.9): pam_authenticate() failed: "
        "Authentication failure (password mismatch?)",
        "pam",
        "carol",
        "192.0.2.9",
        "pam_authenticate() failed: Authentication failure (password mismatch?)",
    ),
    # 2.2 auth-request.c get_log_prefix with the session: "passwd-file(u,ip,<session>): "
    (
        "auth: passwd-file(dave,192.0.2.10,<Gx7P>): unknown user",
        "passwd-file",
        "dave",
        "192.0.2.10",
        "unknown user",
    ),
    (
        "auth: Info: passwd-file(dave,192.0.2.10,<Gx7P>): Password mismatch",
        "passwd-file",
        "dave",
        "192.0.2.10",
        "Password mismatch",
    ),
    # 2.3.11+ auth worker: the conn and request prefixes after the level
    (
        "auth-worker(4711): Info: conn unix:auth-worker (pid=4700,uid=97): auth-worker<3>: "
        "sql(erin,192.0.2.11,<Hk2>): Password mismatch",
        "sql",
        "erin",
        "192.0.2.11",
        "Password mismatch",
    ),
    (
        "auth-worker(4711): conn unix:auth-worker (pid=4700,uid=97): auth-worker<12>: pam(frank,192.0.2.12): "
        "unknown user",
        "pam",
        "frank",
        "192.0.2.12",
        "unknown user",
    ),
    # 2.4: the request in the process prefix, the passdb name alone in the text;
    # passdb-ldap.c "Password mismatch (for LDAP bind)"; given password then "- trying the next passdb"
    (
        "auth(gina,192.0.2.13,sasl:plain)<Lm3>: Info: ldap: Password mismatch (for LDAP bind)",
        "ldap",
        "gina",
        "192.0.2.13",
        "Password mismatch (for LDAP bind)",
    ),
    (
        "auth(hugo,192.0.2.14,sasl:login)<Lm4>: Info: passwd-file: unknown user "
        "(given password: Planted-pw-4) "
        "- trying the next passdb",
        "passwd-file",
        "hugo",
        "192.0.2.14",
        "unknown user",
    ),
    # no client address (local lookup): the identifier is the user alone
    ("auth: passwd-file(ivan): unknown user", "passwd-file", "ivan", None, "unknown user"),
]


@pytest.mark.parametrize(("text", "driver", "user", "ip", "result"), VERDICT_CASES)
def test_auth_verdicts_of_every_release(
    text: str, driver: str, user: str, ip: str | None, result: str
) -> None:
    (row,) = _rows([SYSLOG + text])
    assert row["kind"] == "dovecot_auth"
    assert (row["auth_driver"], row["username"], row["client_ip"], row["auth_result"]) == (
        driver,
        user,
        ip,
        result,
    )
    assert "Planted-pw" not in row["message"] and "Planted-pw" not in str(row["auth_result"])


def test_ipv4_mapped_addresses_are_stored_as_ipv4() -> None:
    # a dual-stack listener (listen = *, ::) sees an IPv4 client as ::ffff:a.b.c.d; Postfix
    # logs the same client as a.b.c.d: one address, so one attacker, one blocklist entry
    rows = _rows(
        [
            SYSLOG + "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<carol>, "
            "method=PLAIN, rip=::ffff:192.0.2.9, lip=::FFFF:198.51.100.1, session=<q>",
            SYSLOG + "auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
            "tty=dovecot ruser=carol rhost=::ffff:192.0.2.9  user=carol",
            SYSLOG + "imap-login: Login: user=<dave>, method=PLAIN, rip=2001:db8::ffff:1, lip=::1",
        ]
    )
    assert [(r["client_ip"], r["server_ip"]) for r in rows] == [
        ("192.0.2.9", "198.51.100.1"),
        ("192.0.2.9", None),
        ("2001:db8::ffff:1", "::1"),  # a real IPv6 address stays as it is
    ]
    assert "rip=::ffff:192.0.2.9" in rows[0]["message"]  # the line itself is kept as written


def test_pam_unix_line_of_dovecot() -> None:
    (row,) = _rows(
        [
            SYSLOG + "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 "
            "tty=dovecot ruser=judy rhost=192.0.2.15  user=judy"
        ]
    )
    assert (row["kind"], row["auth_driver"], row["username"], row["client_ip"]) == (
        "pam_auth_failure",
        "dovecot:auth",
        "judy",
        "192.0.2.15",
    )


# --- login-process summaries ------------------------------------------------------------

#: (text after "imap-login: ", login_event, reason, auth_attempts, user, ip)
LOGIN_CASES = [
    # 2.3 client_disconnect "Disconnected: %s" + client_get_extra_disconnect_reason
    (
        "Disconnected: Connection closed: read(size=7902) failed: Connection reset by peer "
        "(auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, "
        "TLS, "
        "session=<kX9d>",
        "Disconnected",
        "auth failed",
        1,
        "alice",
    ),
    (
        "Disconnected: Connection closed: SSL_read() failed: error:14094412:SSL routines:"
        "ssl3_read_bytes:sslv3 "
        "alert bad certificate: SSL alert number 42 (auth failed, 2 attempts in 9 secs): user=<alice>, "
        "method=LOGIN, rip=192.0.2.7, lip=198.51.100.1, TLS handshaking: SSL_accept() failed",
        "Disconnected",
        "auth failed",
        2,
        "alice",
    ),
    (
        "Disconnected: Inactivity (auth failed, 3 attempts in 180 secs): user=<alice>, method=PLAIN, "
        "rip=192.0.2.7, lip=198.51.100.1, session=<kX9d>",
        "Disconnected",
        "auth failed",
        3,
        "alice",
    ),
    (
        "Disconnected: Client has quit the connection (auth failed, 1 attempts in 4 secs): user=<alice>, "
        "method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        "Disconnected",
        "auth failed",
        1,
        "alice",
    ),
    (
        "Disconnected: Remote closed connection (auth failed, 1 attempts in 4 secs): user=<alice>, "
        "method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        "Disconnected",
        "auth failed",
        1,
        "alice",
    ),
    # 2.2 "Disconnected" with the extra reason only; "Aborted login"
    (
        "Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=192.0.2.7, "
        "lip=198.51.100.1, TLS",
        "Disconnected",
        "auth failed",
        1,
        "alice",
    ),
    (
        "Aborted login (auth failed, 4 attempts in 20 secs): user=<alice>, method=PLAIN, rip=192.0.2.7, "
        "lip=198.51.100.1, session=<kX9d>",
        "Aborted login",
        "auth failed",
        4,
        "alice",
    ),
    (
        "Disconnected (proxy dest auth failed): user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        "Disconnected",
        "proxy dest auth failed",
        None,
        "alice",
    ),
    (
        "Disconnected (tried to use disallowed plaintext auth): user=<>, rip=192.0.2.7, lip=198.51.100.1, "
        "session=<kX9d>",
        "Disconnected",
        "tried to use disallowed plaintext auth",
        None,
        "",
    ),
    # 1.2 "(auth failed, N attempts)" without secs, "(tried to use disabled plaintext auth)"
    (
        "Disconnected (auth failed, 2 attempts): user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        "Disconnected",
        "auth failed",
        2,
        "alice",
    ),
    (
        "Disconnected (tried to use disabled plaintext auth): rip=192.0.2.7, lip=198.51.100.1",
        "Disconnected",
        "tried to use disabled plaintext auth",
        None,
        None,
    ),
    # 2.4 login_aborted_event "Login aborted: %s (%s) (%s)"
    (
        "Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): "
        "user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, TLS, session=<kX9d>",
        "Login aborted",
        "auth failed",
        3,
        "alice",
    ),
    (
        "Login aborted: Connection closed (tried to use disallowed cleartext auth, 1 attempts in 0 secs) "
        "(cleartext_auth_disabled): user=<>, rip=192.0.2.7, lip=198.51.100.1, session=<kX9d>",
        "Login aborted",
        "tried to use disallowed cleartext auth",
        1,
        "",
    ),
    (
        "Login aborted: Connection closed (proxy dest authentication failure, 1 attempts in 2 secs) "
        "(proxy_dest_auth_failed): user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
        "Login aborted",
        "proxy dest authentication failure",
        1,
        "alice",
    ),
    # 2.2-2.4: the auth process did not answer; the client gave up; malformed exchanges
    (
        "Disconnected (auth process communication failure): user=<alice>, method=PLAIN, rip=192.0.2.7, "
        "lip=198.51.100.1",
        "Disconnected",
        "auth process communication failure",
        None,
        "alice",
    ),
    (
        "Login aborted: Connection closed (auth aborted by client, 1 attempts in 4 secs) "
        "(auth_aborted_by_client): user=<>, method=LOGIN, rip=192.0.2.7, lip=198.51.100.1",
        "Login aborted",
        "auth aborted by client",
        1,
        "",
    ),
    (
        "Disconnected (sent invalid base64 in response): user=<>, method=PLAIN, rip=192.0.2.7, "
        "lip=198.51.100.1",
        "Disconnected",
        "sent invalid base64 in response",
        None,
        "",
    ),
    # successes: default elements with mpid (2.2-2.4), 1.x without, a custom format without rip=
    (
        "Login: user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, mpid=4712, TLS, session=<kX9d>",
        "Login",
        None,
        None,
        "alice",
    ),
    ("Login: user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, TLS", "Login", None, None, "alice"),
    # no attempt at all
    (
        "Disconnected (no auth attempts in 0 secs): user=<>, rip=192.0.2.7, lip=198.51.100.1, session=<kX9d>",
        "Disconnected",
        None,
        None,
        "",
    ),
    # 1.2 verbose_auth "Login failed: Plaintext authentication disabled": not a success
    (
        "Login failed: Plaintext authentication disabled: user=<>, rip=192.0.2.7, lip=198.51.100.1",
        "Login failed",
        None,
        None,
        "",
    ),
]


@pytest.mark.parametrize(("text", "event", "reason", "n", "user"), LOGIN_CASES)
def test_login_summaries(text: str, event: str, reason: str | None, n: int | None, user: str | None) -> None:
    for line in (SYSLOG + "imap-login: " + text, NATIVE + "pop3-login: Info: " + text):
        (row,) = _rows([line])
        assert row["kind"] == "dovecot_login", line
        got = (row["login_event"], row["reason"], row["auth_attempts"], row["username"], row["client_ip"])
        assert got == (event, reason, n, user, "192.0.2.7"), line


def test_login_with_a_custom_format_without_rip() -> None:
    (row,) = _rows([SYSLOG + "imap-login: Login: user=<alice>, PID=4712"])
    assert (row["kind"], row["login_event"], row["username"], row["client_ip"]) == (
        "dovecot_login",
        "Login",
        "alice",
        None,
    )


@pytest.mark.parametrize(
    ("text", "user", "reason"),
    [
        # 1.2 src/imap/client.c "Disconnected: %s %s" with imap_logout_format "bytes=%i/%o",
        # mail_log_prefix "%Us(%u): " (service in capitals)
        (
            "IMAP(alice): Disconnected: Logged out bytes=12/345",
            "alice",
            "Disconnected: Logged out bytes=12/345",
        ),
        (
            "POP3(bob): Disconnected: Logged out top=0/0, retr=1/512, del=0/1, size=512",
            "bob",
            "Disconnected: Logged out top=0/0, retr=1/512, del=0/1, size=512",
        ),
        (
            "IMAP(alice): Disconnected for inactivity bytes=1/2",
            "alice",
            "Disconnected for inactivity bytes=1/2",
        ),
    ],
)
def test_dovecot1_mail_session_end(text: str, user: str, reason: str) -> None:
    (row,) = _rows([SYSLOG + text])
    assert (row["kind"], row["daemon"], row["username"], row["reason"]) == (
        "dovecot_mail_session_end",
        text.split("(", 1)[0],
        user,
        reason,
    )
