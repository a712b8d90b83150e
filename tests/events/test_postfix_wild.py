"""Postfix 2.x-3.10 and Cyrus saslauthd lines as real servers write them.

Each case is built from the format string in the named source (vdukhovni/postfix tag and
file, cyrusimap/cyrus-sasl tag and file); fast and reference parser must agree on each.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.events.test_parse import parse_one

SD = "Nov 27 10:00:01 mx postfix/smtpd[123]: "
SUB = "Nov 27 10:00:01 mx postfix/submission/smtpd[124]: "
SC = "Nov 27 10:00:01 mx postfix/smtp[125]: "
QM = "Nov 27 10:00:01 mx postfix/qmgr[126]: "
CL = "Nov 27 10:00:01 mx postfix/cleanup[127]: "
SA = "Nov 27 10:00:01 mx saslauthd[99]: "
FIELDS = (
    "kind",
    "client_name",
    "client_ip",
    "client_port",
    "sasl_method",
    "sasl_username",
    "username",
    "reason",
)

# (line, expected columns; None = must be null)
CASES: list[tuple[str, dict[str, Any]]] = [
    # smtpd_client_port_logging = yes (SMTPD_BUILD_NAMADDRPORT, v2.5+ smtpd.h): every namaddr
    (f"{SD}connect from unknown[192.0.2.1]:55729", {"kind": "connect", "client_port": 55729}),
    (
        f"{SD}disconnect from unknown[192.0.2.1]:55729 ehlo=1 auth=0/1 quit=1 commands=2/3",
        {"kind": "disconnect", "client_port": 55729},
    ),
    (
        f"{SD}warning: unknown[192.0.2.1]:55729: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
        {"kind": "sasl_failed", "client_port": 55729, "sasl_method": "LOGIN", "reason": "UGFzc3dvcmQ6"},
    ),
    (
        f"{SD}NOQUEUE: reject: RCPT from unknown[192.0.2.1]:55729: 554 5.7.1 <a@b.example>: Relay access "
        "denied; from=<x@y.example> to=<a@b.example> proto=ESMTP helo=<h>",
        {"kind": "reject", "client_port": 55729, "reason": "<a@b.example>: Relay access denied"},
    ),
    (
        f"{SD}ABCDEF1234: client=unknown[192.0.2.1]:55729, sasl_method=PLAIN, sasl_username=u@example.com",
        {"kind": "client", "client_port": 55729, "sasl_method": "PLAIN", "sasl_username": "u@example.com"},
    ),
    (
        f"{SD}lost connection after AUTH from unknown[192.0.2.1]:55729",
        {"kind": "session_abort", "client_port": 55729, "reason": "lost connection"},
    ),
    (
        f"{SD}warning: AUTH command rate limit exceeded: 5 from unknown[192.0.2.1]:55729 for service smtp",
        {"kind": "rate_limit", "client_port": 55729},
    ),
    (
        f"{SD}improper command pipelining after AUTH from unknown[192.0.2.1]:55729: QUIT",
        {"kind": "improper_pipelining", "client_port": 55729},
    ),
    (f"{SD}non-SMTP command from unknown[192.0.2.1]:55729: GET / HTTP/1.1", {"kind": "non_smtp_command"}),
    # the port is "unknown" when the peer lookup failed (CLIENT_PORT_UNKNOWN, smtpd_peer.c)
    (
        f"{SD}warning: unknown[192.0.2.1]:unknown: SASL LOGIN authentication failed: x",
        {"kind": "sasl_failed", "client_port": None, "sasl_method": "LOGIN", "reason": "x"},
    ),
    # SASL mechanism as the client typed it; v2.4-v3.8 "%s: SASL %s authentication failed: %s"
    (
        f"{SUB}warning: unknown[192.0.2.1]: SASL Plain authentication failed: authentication failure",
        {
            "kind": "sasl_failed",
            "sasl_method": "Plain",
            "reason": "authentication failure",
            "client_port": None,
        },
    ),
    # v3.9+ smtpd_sasl_glue.c "...: %s, sasl_username=%.100s"
    (
        f"{SD}warning: unknown[192.0.2.1]:55729: SASL login authentication failed: (reason unavailable), "
        "sasl_username=bob@example.com",
        {
            "kind": "sasl_failed",
            "sasl_method": "login",
            "reason": "(reason unavailable)",
            "sasl_username": "bob@example.com",
        },
    ),
    # v2.2 smtpd_sasl_proto.c "%s[%s]: SASL %s authentication failed" (no reason)
    (
        f"{SD}warning: unknown[192.0.2.1]: SASL CRAM-MD5 authentication failed",
        {"kind": "sasl_failed", "sasl_method": "CRAM-MD5", "reason": None},
    ),
    # v2.4+ smtpd_sasl_glue.c "%s: SASL %s authentication aborted"
    (
        f"{SD}warning: unknown[192.0.2.1]:55729: SASL login authentication aborted",
        {"kind": "sasl_aborted", "sasl_method": "login"},
    ),
    # xsasl_cyrus_log.c "SASL authentication failure: %s"
    (
        f"{SD}warning: SASL authentication failure: Password verification failed",
        {"kind": "sasl_library", "client_ip": None, "reason": "Password verification failed"},
    ),
    # v2.2-v2.4 tls_server.c "TLS connection established from %s[%s]: %s with cipher %s (%d/%d bits)"
    (
        f"{SD}TLS connection established from mail.example[192.0.2.1]: TLSv1 with cipher "
        "DHE-RSA-AES256-SHA (256/256 bits)",
        {"kind": "tls_established", "client_name": "mail.example", "client_ip": "192.0.2.1"},
    ),
    # v2.3/2.4 tls_client.c "TLS connection established to %s: ..." (host name only)
    (
        f"{SC}TLS connection established to mx.example.com: TLSv1 with cipher AES256-SHA (256/256 bits)",
        {"kind": "tls_established", "client_name": "mx.example.com", "client_ip": None},
    ),
    # v3.4+ tls_misc.c "%s TLS connection %s %s %s%s%s: %s with cipher %s (%d/%d bits)"
    (
        f"{SD}Anonymous TLS connection established from unknown[192.0.2.1]:55729: TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)",
        {"kind": "tls_established", "client_port": 55729},
    ),
    # qmgr_active.c "%s: from=<%s>, status=%s, returned to sender"
    (
        f"{QM}ABCDEF1234: from=<a@b.example>, status=force-expired, returned to sender",
        {"kind": "expired", "client_ip": None, "client_name": None, "reason": "returned to sender"},
    ),
    # smtpd.c/cleanup.c/... "table %s has changed -- restarting" (dict_changed_name)
    (
        f"{CL}table hash:/etc/postfix/virtual(0,lock|fold_fix) has changed -- restarting",
        {"kind": "table_changed", "client_ip": None, "reason": "hash:/etc/postfix/virtual(0,lock|fold_fix)"},
    ),
    (
        f"{SD}table cdb:/etc/postfix/access(0,lock|fold_fix|utf8_request) has changed -- restarting",
        {"kind": "table_changed", "reason": "cdb:/etc/postfix/access(0,lock|fold_fix|utf8_request)"},
    ),
    # smtp -v: smtp_chat.c "> %s: %s" / "< %s: %.100s"
    (
        f"{SC}< relay.example[203.0.113.5]:587: 235 2.7.0 Authentication successful",
        {"kind": "smtp_client_dialogue", "client_name": "relay.example", "client_port": 587},
    ),
    # smtp -v: smtp_sasl_glue.c "%s: %s: SASL mechanisms %s"
    (
        f"{SC}smtp_sasl_authenticate: relay.example[203.0.113.5]:587: SASL mechanisms PLAIN LOGIN",
        {"kind": "smtp_sasl_debug", "client_port": 587, "sasl_method": "PLAIN LOGIN"},
    ),
    # smtpd -v: smtpd_chat.c "> %s: %s"
    (
        f"{SD}> unknown[192.0.2.1]:55729: 334 VXNlcm5hbWU6",
        {"kind": "smtp_dialogue", "client_port": 55729},
    ),
    # saslauthd-main.c do_auth through utils.c logger "%-16s: %s" (2.1.23-2.1.28)
    (
        f"{SA}do_auth         : auth failure: [user=bob] [service=smtp] [realm=example.com] [mech=pam] "
        "[reason=PAM auth error]",
        {"kind": "saslauthd_auth", "username": "bob", "reason": "PAM auth error", "client_ip": None},
    ),
    # the same where configure found no __func__ (utils.h L_FUNC ""): Debian 11-13's saslauthd
    (
        f"{SA}                : auth failure: [user=alice@example.com] [service=smtp] [realm=example.com] "
        "[mech=pam] [reason=PAM auth error]",
        {"kind": "saslauthd_auth", "username": "alice@example.com", "reason": "PAM auth error"},
    ),
    (
        f"{SA}                : auth success: [user=bob] [service=smtp] [realm=] [mech=pam]",
        {"kind": "saslauthd_auth", "username": "bob"},
    ),
    # master (PAM_RHOST patch c813bf1): "[remote=%s]" = SASL_IPREMOTEPORT "addr;port"
    (
        f"{SA}do_auth         : auth failure: [user=bob@example.com] [service=smtp] [realm=] "
        "[remote=192.0.2.1;55729] [mech=shadow] [reason=Unknown]",
        {
            "kind": "saslauthd_auth",
            "username": "bob@example.com",
            "client_ip": "192.0.2.1",
            "client_port": 55729,
            "reason": "Unknown",
        },
    ),
    (
        f"{SA}do_auth : auth failure: [user=eve] [service=imap] [realm=] [remote=2001:db8::7;993] [mech=pam] "
        "[reason=PAM auth error]",
        {"kind": "saslauthd_auth", "username": "eve", "client_ip": "2001:db8::7", "client_port": 993},
    ),
    (
        f"{SA}do_auth         : auth success: [user=bob] [service=smtp] [realm=] [mech=pam]",
        {"kind": "saslauthd_auth", "username": "bob"},
    ),
    (
        f"{SA}do_auth         : auth success (cached): [user=bob] [service=smtp] [realm=] "
        "[remote=192.0.2.1;1]",
        {"kind": "saslauthd_auth", "username": "bob", "client_ip": "192.0.2.1", "client_port": 1},
    ),
    # auth_pam.c syslog(LOG_DEBUG, "DEBUG: auth_pam: pam_authenticate failed: %s")
    (f"{SA}DEBUG: auth_pam: pam_authenticate failed: Authentication failure", {"kind": "saslauthd_mech"}),
    # pam_unix under saslauthd: ruser empty, the account in user=
    (
        f"{SA}pam_unix(smtp:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=  "
        "user=bob",
        {"kind": "pam_auth_failure", "username": "bob", "client_ip": ""},
    ),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_wild_line(line: str, expected: dict[str, Any]) -> None:
    row = parse_one(line)
    assert row["secret_length"] is None
    for col, value in expected.items():
        assert row[col] == value, (col, row[col])


# (line, kind, the secret, what the stored payload must read)
SECRET_CASES = [
    # smtp_chat.c "> %s: %s": our client's AUTH carries the relay password
    (f"{SC}> relay.example[203.0.113.5]:587: AUTH PLAIN AHVzZXIAczNjcjN0UGFzcw==", "smtp_client_dialogue",
     "AHVzZXIAczNjcjN0UGFzcw==", "AUTH PLAIN <redacted:24>"),
    (f"{SC}> relay.example[203.0.113.5]:587: czNjcjN0UGFzcw==", "smtp_client_dialogue", "czNjcjN0UGFzcw==",
     "<redacted:16>"),
    # smtp_sasl_glue.c smtp_sasl_passwd_lookup "%s: host `%s' user `%s' pass `%s'"
    (f"{SC}smtp_sasl_passwd_lookup: host `relay.example' user `relayuser' pass `s3cr3tPass'",
     "smtp_sasl_debug", "s3cr3tPass", "<redacted:10>"),
    # xsasl_cyrus_client.c get_passwd "%s: %s", next "%s: uncoded client response %.*s"
    (f"{SC}xsasl_cyrus_client_get_passwd: s3cr3tPass", "smtp_sasl_debug", "s3cr3tPass", "<redacted:10>"),
    (f"{SC}xsasl_cyrus_client_next: uncoded client response s3cr3tPass", "smtp_sasl_debug", "s3cr3tPass",
     "<redacted:10>"),
    # smtpd -v: smtpd_chat.c "< %s: %s"
    (f"{SD}< unknown[192.0.2.1]:55729: AUTH PLAIN AHVzZXIAczNjcjN0UGFzcw==", "smtp_dialogue",
     "AHVzZXIAczNjcjN0UGFzcw==", "AUTH PLAIN <redacted:24>"),
    # xsasl_cyrus_server.c "%s: sasl_method %s%s%s", "%s: decoded response: %.*s"; v2.2 glue
    (f"{SD}xsasl_cyrus_server_first: sasl_method PLAIN, init_response AHVzZXIAczNjcjN0UGFzcw==", "sasl_debug",
     "AHVzZXIAczNjcjN0UGFzcw==", "<redacted:24>"),
    (f"{SD}xsasl_cyrus_server_next: decoded response: s3cr3tPass", "sasl_decoded", "s3cr3tPass",
     "<redacted:10>"),
    (f"{SD}smtpd_sasl_authenticate: decoded response: s3cr3tPass", "sasl_decoded", "s3cr3tPass",
     "<redacted:10>"),
    (f"{SD}smtpd_sasl_authenticate: sasl_method LOGIN, init_response Ym9i", "sasl_debug", "Ym9i",
     "<redacted:4>"),
    # xsasl_cyrus_log.c SASL_LOG_PASS "SASL authentication pass: %s"
    (f"{SD}SASL authentication pass: s3cr3tPass", "sasl_library", "s3cr3tPass", "<redacted:10>"),
    # saslauthd -V: auth_shadow.c "pw mismatch: '%s' != '%s'", auth_rimap.c "sending %s%s %s"
    (f"{SA}DEBUG: auth_shadow: pw mismatch: 'xyCRYPT' != '$6$salt$hash'", "saslauthd_mech",
     "'xyCRYPT' != '$6$salt$hash'", "pw mismatch: <redacted:27>"),
    (f'{SA}auth_rimap: sending saslauthd LOGIN "bob" "s3cr3tPass"', "saslauthd_mech", '"s3cr3tPass"',
     'sending saslauthd LOGIN "bob" <redacted:12>'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "kind", "secret", "payload"), SECRET_CASES, ids=[c[0][40:100] for c in SECRET_CASES]
)
def test_wild_secret_is_redacted(line: str, kind: str, secret: str, payload: str) -> None:
    row = parse_one(line)
    assert row["kind"] == kind
    assert row["payload"] == payload and row["secret_length"] == len(secret)
    for col, value in row.items():
        assert not (isinstance(value, str) and secret in value), col


def test_smtp_client_replies_and_server_challenges_are_not_secrets() -> None:
    row = parse_one(f"{SC}< relay.example[203.0.113.5]:587: 334 UGFzc3dvcmQ6")
    assert row["kind"] == "smtp_client_dialogue" and row["secret_length"] is None
    row = parse_one(f"{SD}xsasl_cyrus_server_next: uncoded server challenge: Password:")
    assert row["kind"] == "sasl_debug" and row["secret_length"] is None
    row = parse_one(f"{SC}xsasl_cyrus_client_get_user: relayuser")
    assert (row["kind"], row["sasl_username"], row["secret_length"]) == ("smtp_sasl_debug", "relayuser", None)
