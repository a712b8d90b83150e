"""The one declarative list of line kinds.

Each :class:`LineKind` names the programs it applies to, a cheap literal ``trigger`` that
every matching line contains, and a regular expression with named groups. Both parsers
read this list: the fast parser filters rows with the trigger and extracts groups with
polars (Rust ``regex``), the reference parser uses Python ``re``; they must agree, so the
patterns use only the common subset: no look-around, no back-references, explicit
character classes instead of ``\\d \\s \\w`` (whose Unicode meaning differs).

Patterns are matched at the start of the line's *body*: the message after the syslog
header with the optional Postfix ``QUEUEID: `` and ``warning: `` prefixes (or the Dovecot
``auth: ``/``Info: `` prefixes) removed; for Dovecot's delivery processes (LMTP, LDA) and
mail processes (IMAP, POP3) the process arguments, which name the user, are put back in
front as ``(ARGS): `` (``syslog.DOVECOT_USER_DAEMONS``). The first kind that matches wins,
in list order.
A group named ``col__2`` fills column ``col`` when ``col`` itself did not participate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import COUNTER_COMMANDS
from .syslog import DOVECOT_DELIVERY_DAEMONS, DOVECOT_MAIL_DAEMONS

__all__ = ["KINDS", "LineKind", "group_column", "kind_names"]

POSTFIX = "postfix"
DOVECOT = "dovecot"
ANY = "any"

# --- building blocks ---------------------------------------------------------------------
D = "[0-9]"


def client(n: int = 1) -> str:
    """``name[addr]:port`` with group names suffixed ``__n`` when used more than once."""
    s = "" if n == 1 else f"__{n}"
    # smtpd_client_port_logging = yes appends ":port" to every name[addr] smtpd logs
    # (SMTPD_BUILD_NAMADDRPORT, postfix v2.5+ src/smtpd/smtpd.h); the port is "unknown"
    # when the peer lookup failed (CLIENT_PORT_UNKNOWN, smtpd_peer.c)
    return (
        rf"(?P<client_name{s}>[^\[\] ]*)\[(?P<client_ip{s}>[^\]]*)\]"
        rf"(?::(?:(?P<client_port{s}>[0-9]+)|unknown))?"
    )


CLIENT = client()
PS_CLIENT = r"\[(?P<client_ip>[^\]]*)\]:(?P<client_port>[0-9]+)"
DSN = r"[245]\.[0-9]{1,3}\.[0-9]{1,3}"
ANGLE = r"<[^>]*>"
# the kv tail of a reject line; smtpd separates with spaces, postscreen with ", "
REJECT_TAIL = (
    r"(?:;(?: from=(?P<sender><[^>]*>),?)?(?: to=(?P<recipient><[^>]*>),?)?"
    r"(?: proto=(?P<proto>[A-Za-z]+),?)?(?: helo=(?P<helo><.*?>),?)?"
    r"(?: sasl_method=(?P<sasl_method>[^, ]*),?)?(?: sasl_username=(?P<sasl_username>[^, ]*),?)?"
    r"(?: sasl_sender=(?P<sasl_sender>[^, ]*))?)?$"
)
# Dovecot LMTP/LDA: the body starts with the process arguments the parsers moved there
# ("(user): ", 2.2 "(pid, user): " and a session id), then deliver_log_format's default
# "msgid=%m: " (``unspecified`` when the message has no Message-ID: left null)
DELIVERY_USER = r"\((?:[0-9]+, )?(?P<username>[^)]*)\): (?:[A-Za-z0-9+/]{16,}: )?"
MSGID = r"msgid=(?:unspecified|(?P<message_id><[^>]*>|[^ ,:]*))(?:, [^:]*)?: "
# Pigeonhole >= 0.5 names the action ("fileinto action: stored mail into mailbox 'Junk'");
# it quotes the mailbox, maybe followed by the storage name: 'Ärger' (&AMQ-rger)
SIEVE_ACTION = r"(?:[a-z]+ action: )?"
# Dovecot's auth request prefix "driver(user[,ip][,master][,<session>]): " (core
# src/auth/auth-request.c: get_log_prefix in 2.0-2.2, get_log_identifier in 2.3/2.4; 2.4
# names the request in the process prefix instead, see syslog.DOVECOT24_BODY); the user is
# "?" before the mechanism has one, the address is absent for local (LMTP, doveadm) lookups
AUTH_REQUEST = (
    r"(?P<auth_driver>[a-z][a-z0-9-]*)\((?P<username>.*?)(?:,(?P<client_ip>[0-9A-Fa-f.:]*))?(?:,[^)]*)?\): "
)
COUNTERS = "".join(rf"(?: {c}=(?P<{c}_ok>[0-9]+)(?:/(?P<{c}_total>[0-9]+))?)?" for c in COUNTER_COMMANDS)


@dataclass(frozen=True)
class LineKind:
    """One kind of log line.

    Attributes
    ----------
    name
        Value of the ``kind`` column.
    source
        ``"postfix"``, ``"dovecot"`` or ``"any"``: which program family writes it.
    daemons
        Daemon names it applies to (``smtpd``, ``qmgr``, ``auth``...); empty = any daemon.
    trigger
        A literal every matching body contains (the cheap pre-filter).
    pattern
        Regular expression matched at the start of the body, named groups = columns.
    doc
        One line on what the line means.
    debug
        Which Dovecot log levels it applies to: ``False`` (the default) every level but
        ``Debug:``, ``True`` only ``Debug:`` lines, ``None`` every level. A Dovecot
        ``Debug:`` line is progress output, never a verdict: only the debug kinds can be
        given to it, so no attempt can be built from one.
    """

    name: str
    source: str
    daemons: frozenset[str]
    trigger: str
    pattern: str
    doc: str
    debug: bool | None = False

    def applies_to_level(self, severity: str | None) -> bool:
        """Can a line of this (lower-case) severity be of this kind?"""
        return self.debug is None or self.debug == (severity == "debug")

    @property
    def prefix(self) -> str:
        """The literal text every match starts with ("" if the pattern starts with a group)."""
        out = []
        for ch in self.pattern[1:]:
            if ch in "\\.^$*+?()[]{}|":
                break
            out.append(ch)
        # a quantifier applies to the character before it: that one is not literal
        nxt = self.pattern[1 + len(out) : 2 + len(out)]
        if nxt in ("*", "?", "{") and out:
            out.pop()
        return "".join(out)

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled Python pattern (anchored at the start)."""
        return _compiled(self.pattern)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    rx = _CACHE.get(pattern)
    if rx is None:
        # Python's "$" also matches before a final newline; Rust's means end of text only
        rx = _CACHE[pattern] = re.compile(python_pattern(pattern))
    return rx


def python_pattern(pattern: str) -> str:
    """The Python ``re`` spelling of a catalog pattern (``$`` → ``\\Z``)."""
    return pattern.replace("$", r"\Z")


def group_column(group: str) -> str:
    """Map a regex group name to its column (``client_ip__2`` → ``client_ip``)."""
    return group.split("__", 1)[0]


def _k(
    name: str, source: str, daemons: str, trigger: str, pattern: str, doc: str, *, debug: bool | None = False
) -> LineKind:
    return LineKind(name, source, frozenset(daemons.split()), trigger, "^" + pattern, doc, debug)


SMTPD = "smtpd"
DOVECOT_DELIVERY = " ".join(sorted(DOVECOT_DELIVERY_DAEMONS))
DOVECOT_MAIL = " ".join(sorted(DOVECOT_MAIL_DAEMONS))
DELIVERY = "smtp lmtp local virtual pipe error retry discard relay"

KINDS: tuple[LineKind, ...] = (
    # --- smtpd sessions ------------------------------------------------------------------
    _k(
        "connect", POSTFIX, SMTPD, "connect from ", rf"connect from {CLIENT}$", "smtpd accepted a connection."
    ),
    _k(
        "disconnect",
        POSTFIX,
        SMTPD,
        "disconnect from ",
        rf"disconnect from {CLIENT}{COUNTERS}(?: notes=(?P<reason>[^ ]*))?$",
        "smtpd connection ended; counters are success[/total] per command.",
    ),
    _k(
        "sasl_failed",
        POSTFIX,
        SMTPD,
        "authentication failed",
        # postfix v2.2 smtpd_sasl_proto.c "%s[%s]: SASL %s authentication failed" (no reason),
        # v2.4-v3.8 smtpd_sasl_glue.c "%s: SASL %s authentication failed: %s", v3.9+
        # "...: %s, sasl_username=%.100s"; the mechanism is as the client typed it (any case)
        rf"{CLIENT}: SASL (?P<sasl_method>[^ ]+) authentication failed(?:: ?(?P<reason>.*?))?"
        r"(?:, sasl_username=(?P<sasl_username>.*))?$",
        "A SASL AUTH attempt failed (reason text fingerprints the backend).",
    ),
    _k(
        "sasl_aborted",
        POSTFIX,
        SMTPD,
        "authentication aborted",
        rf"{CLIENT}: SASL (?P<sasl_method>[^ ]+) authentication aborted",
        "The client aborted AUTH with '*'.",
    ),
    _k(
        "client",
        POSTFIX,
        "smtpd",
        "client=",
        rf"client={CLIENT}(?:, sasl_method=(?P<sasl_method>[^,]*))?(?:, sasl_username=(?P<sasl_username>[^,]*))?"
        r"(?:, sasl_sender=(?P<sasl_sender>[^,]*))?(?:, orig_queue_id=(?P<linked_queue_id>[^,]*))?"
        r"(?:, orig_client=.*)?$",
        "A queue file was created for this client (names the SASL user when authenticated).",
    ),
    _k(
        "reject",
        POSTFIX,
        "smtpd postscreen cleanup",
        " from ",
        r"(?P<action>reject|reject_warning|defer|defer_if_permit|defer_if_reject|discard|filter|hold|"
        r"redirect|milter-reject|milter-discard|milter-hold|proxy-reject|proxy-accept|warning|info): "
        rf"(?P<stage>[A-Z][A-Z-]*) from {CLIENT}: (?:(?P<smtp_code>[245][0-9][0-9]) )?(?:(?P<dsn>{DSN}) )?"
        rf"(?P<reason>.*?){REJECT_TAIL}",
        "A restriction acted on an SMTP command (reject/defer/discard/hold/...).",
    ),
    _k(
        "proxy_result",
        POSTFIX,
        SMTPD,
        "proxy-",
        rf"(?P<action>proxy-accept|proxy-reject): (?P<stage>[A-Z][A-Z-]*): (?:(?P<smtp_code>[245][0-9][0-9]) )?"
        rf"(?:(?P<dsn>{DSN}) )?(?P<reason>.*?){REJECT_TAIL}",
        "A before-queue content filter (smtpd_proxy_filter) accepted or rejected the message.",
    ),
    _k(
        "header_check",
        POSTFIX,
        "cleanup",
        " from ",
        r"(?P<action>[a-z_-]+): (?P<stage>header|body) (?P<reason>.*?) from (?:local|"
        + CLIENT
        + ")"
        + REJECT_TAIL,
        "A header/body check matched.",
    ),
    _k(
        "session_abort",
        POSTFIX,
        SMTPD,
        " after ",
        rf"(?P<reason>lost connection|timeout|too many errors) after (?P<stage>[A-Za-z][A-Za-z-]*)"
        rf"(?: \((?P<bytes>[0-9]+) bytes\))? from {CLIENT}",
        "The session ended abnormally after a command.",
    ),
    _k(
        "improper_pipelining",
        POSTFIX,
        SMTPD,
        "improper command pipelining",
        rf"improper command pipelining after (?P<stage>[^ ]+) from {CLIENT}:? ?(?P<payload>.*)$",
        "The client sent commands before the server's reply (a bot sign).",
    ),
    _k(
        "bare_lf",
        POSTFIX,
        SMTPD,
        "bare <LF> received",
        rf"bare <LF> received after (?P<stage>[^ ]+) from {CLIENT}",
        "Bare LF line ending.",
    ),
    _k(
        "non_smtp_command",
        POSTFIX,
        SMTPD,
        "non-SMTP command",
        rf"non-SMTP command from {CLIENT}: (?P<payload>.*)$",
        "An HTTP or other non-SMTP probe.",
    ),
    _k(
        "rate_limit",
        POSTFIX,
        SMTPD,
        "limit exceeded",
        r"(?P<metric>[A-Za-z][A-Za-z ]*?) limit exceeded: (?P<metric_value>[0-9]+) from "
        rf"{CLIENT} for service (?P<anvil_service>[^ ]+)",
        "An anvil rate/concurrency limit refused the client.",
    ),
    _k(
        "hostname_mismatch",
        POSTFIX,
        SMTPD,
        "does not resolve to address",
        r"hostname (?P<client_name>[^ ]+) does not resolve to address (?P<client_ip>[^: ]+)(?:: (?P<reason>.*))?$",
        "Forward-confirmed reverse DNS failed.",
    ),
    _k(
        "illegal_address",
        POSTFIX,
        SMTPD,
        "Illegal address syntax",
        rf"Illegal address syntax from {CLIENT} in (?P<stage>[^ ]+) command: (?P<payload>.*)$",
        "Malformed MAIL FROM/RCPT TO address.",
    ),
    _k(
        "tls_established",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy postscreen",
        "TLS connection ",
        # postfix v2.5+ tls_server.c/tls_client.c (v3.4+ tls_misc.c) "%s TLS connection %s %s %s%s%s:
        # ..."; v2.2-v2.4 had no trust level: tls_server.c "TLS connection established from
        # %s[%s]: ...", tls_client.c "TLS connection established to %s: ..." (host name only)
        r"(?:(?P<tls_trust>Anonymous|Untrusted|Trusted|Verified) )?TLS connection (?:established|reused) "
        rf"(?P<direction>from|to) (?:{CLIENT}|(?P<client_name__2>[^\[\] :]+))(?: to [^:]+)?: "
        r"(?P<tls_protocol>[^ ]+) with cipher "
        r"(?P<tls_cipher>[^ ]+) \((?P<tls_bits>[0-9]+)/[0-9]+ bits\)",
        "TLS handshake summary (loglevel >= 1).",
    ),
    _k(
        "tls_error",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        "SSL_",
        rf"SSL_(?:accept|connect) error (?:from|to) {CLIENT}: (?P<reason>.*)$",
        "TLS handshake failed.",
    ),
    _k(
        "tls_handshake_failed",
        POSTFIX,
        "tlsproxy postscreen",
        "TLS handshake failed",
        r"TLS handshake failed for service=(?P<anvil_service>[^ ]+) peer=\[(?P<client_ip>[^\]]*)\]:(?P<client_port>[0-9]+)",
        "tlsproxy could not complete a TLS handshake with the client.",
    ),
    _k(
        "tls_data",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        " chars: ",
        r"(?P<direction>Read|Write) (?P<io_length>[0-9]+) chars: (?P<payload>.*)$",
        "Decrypted SMTP data, first 40 chars (smtpd_tls_loglevel = 4: leaks credentials).",
    ),
    _k(
        "tls_bio",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        " bytes => ",
        r"(?P<direction>read from|write to) [0-9A-Fa-f]+ \[[0-9A-Fa-f]+\] \((?P<bytes>[0-9]+) bytes => ",
        "TLS record I/O trace (smtpd_tls_loglevel >= 3).",
    ),
    _k(
        "tls_hexdump",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        " ",
        r"[0-9a-f]{4} (?:- <SPACES/NULLS>|(?:[0-9a-f]{2}[ -]){1,16})",
        "Hex dump row of a TLS record.",
    ),
    _k(
        "tls_state",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        "SSL",
        r"(?:SSL_accept|SSL_connect|SSL3 alert [a-z]+)[: ](?P<reason>.*)$",
        "OpenSSL state trace (loglevel >= 2).",
    ),
    _k(
        "tls_setup",
        POSTFIX,
        "smtpd smtp lmtp tlsproxy",
        "",
        rf"(?:setting up TLS connection (?:from|to) {CLIENT}|{client(2)}: TLS cipher list |"
        r"initializing the (?:server|client)-side TLS engine|(?:Server|Client) TLS session|"
        rf"{client(3)}: (?:Issuing|Decrypting|Re-using|Reusing) session ticket)",
        "TLS set-up trace (loglevel >= 2).",
    ),
    _k(
        "smtp_dialogue",
        POSTFIX,
        SMTPD,
        "]",
        rf"(?P<direction>[<>]) {CLIENT}: (?P<payload>.*)$",
        "Verbose SMTP dialogue (debug_peer_list / -v): full client lines, credentials included.",
    ),
    _k(
        "sasl_decoded",
        POSTFIX,
        SMTPD,
        "decoded ",
        # smtpd -v: postfix v2.3+ src/xsasl/xsasl_cyrus_server.c xsasl_cyrus_server_first
        # "%s: decoded initial response %s", xsasl_cyrus_server_next "%s: decoded response:
        # %.*s"; v2.2 smtpd_sasl_glue.c the same from smtpd_sasl_authenticate
        r"(?:xsasl_cyrus_server_[a-z]+|smtpd_sasl_authenticate): decoded (?:initial response |response: )"
        r"(?P<payload>.*)$",
        "SASL glue debug output (-v): the client's decoded SASL response (a clear-text user name or "
        "password; kept only in the secrets table).",
    ),
    _k(
        "sasl_debug",
        POSTFIX,
        SMTPD,
        "sasl_",
        # xsasl_cyrus_server.c / xsasl_dovecot_server.c "%s: sasl_method %s%s%s" (v2.3+),
        # v2.2 smtpd_sasl_glue.c the same under the name smtpd_sasl_authenticate
        r"(?:xsasl_[a-z_]+|smtpd_sasl_authenticate): (?:sasl_method (?P<sasl_method>[^ ,]+)"
        r"(?:, init_response (?P<payload>.*))?|.*$)",
        "SASL glue debug output (-v); init_response holds the full AUTH PLAIN blob.",
    ),
    _k(
        "sasl_library",
        POSTFIX,
        SMTPD,
        "SASL authentication ",
        # the Cyrus library's own messages, postfix src/xsasl/xsasl_cyrus_log.c (v2.3+; v2.2
        # smtpd_sasl_glue.c): "SASL authentication problem|failure|info|debug|trace|pass: %s";
        # SASL_LOG_PASS ("pass") traces may hold passwords: that text is the payload
        r"SASL authentication (?:(?:problem|failure|info|debug|trace): (?P<reason>.*)$|pass: (?P<payload>.*)$)",
        "Cyrus SASL library message relayed by smtpd (the backend's own failure text).",
    ),
    # --- smtp client (outbound) ------------------------------------------------------------
    _k(
        "smtp_client_dialogue",
        POSTFIX,
        "smtp lmtp",
        "]",
        # smtp -v: postfix src/smtp/smtp_chat.c "> %s: %s" (what our client sends: AUTH and
        # its responses carry our relay credentials) and "< %s: %.100s" (the server's reply)
        rf"(?P<direction>[<>]) {CLIENT}: (?P<payload>.*)$",
        "Verbose SMTP client dialogue (smtp -v): '>' lines are ours, relay credentials included.",
    ),
    _k(
        "smtp_sasl_debug",
        POSTFIX,
        "smtp lmtp",
        "sasl_",
        # smtp -v: postfix src/smtp/smtp_sasl_glue.c smtp_sasl_passwd_lookup "%s: host `%s' user
        # `%s' pass `%s'", smtp_sasl_authenticate "%s: %s: SASL mechanisms %s";
        # src/xsasl/xsasl_cyrus_client.c get_user/get_passwd "%s: %s", first "%s: uncoded
        # initial reply: %s", next "%s: uncoded client response %.*s"; the password and
        # client responses are the payload (kept only in the secrets table)
        r"(?P<reason>smtp_sasl_passwd_lookup): host `[^`']*' user `(?P<sasl_username>[^`']*)' pass "
        r"`(?P<payload>.*)'$|(?P<reason__2>xsasl_cyrus_client_get_user): (?P<sasl_username__2>.*)$|"
        r"(?P<reason__3>xsasl_cyrus_client_get_passwd): (?P<payload__2>.*)$|"
        r"(?P<reason__4>xsasl_cyrus_client_(?:first|next)): uncoded (?:initial reply: |client response )"
        r"(?P<payload__3>.*)$|"
        rf"(?P<reason__5>smtp_sasl_authenticate): {CLIENT}: SASL mechanisms (?P<sasl_method>.*)$",
        "SMTP client SASL debug output (smtp -v): the relay account, its password (redacted).",
    ),
    _k(
        "smtp_sasl_failed",
        POSTFIX,
        "smtp lmtp",
        "SASL authentication failed",
        rf"SASL authentication failed; server {CLIENT} said: (?P<reason>.*)$",
        "Our SMTP client's credentials were refused by a relay.",
    ),
    _k(
        "delivery",
        POSTFIX,
        DELIVERY,
        "status=",
        r"to=(?P<recipient><[^>]*>|[^,]*)(?:, orig_to=(?P<orig_to><[^>]*>|[^,]*))?, relay=(?P<relay>[^,]*)"
        r"(?:, conn_use=[0-9]+)?, delay=(?P<delay>[0-9.]+), delays=(?P<delays>[0-9./]+)"
        rf"(?:, tls=[^,]*)?, dsn=(?P<dsn>{DSN}), status=(?P<status>[a-z-]+)(?: \((?P<reason>.*)\))?$",
        "A delivery attempt to one recipient.",
    ),
    _k(
        "smtp_conversation",
        POSTFIX,
        "smtp lmtp",
        " ",
        rf"(?:(?:lost connection|conversation) with {CLIENT} (?P<reason>.*)$|host {client(2)} "
        r"(?:said|refused to talk to me): (?P<reason__2>.*?)(?: \(in reply to (?P<stage>[^()]*) command\))?$|"
        rf"connect to {client(3)}: (?P<reason__3>.*)$|enabling PIX workarounds: (?P<reason__4>.*) for {client(4)}$)",
        "Outbound SMTP trouble before/without a delivery line.",
    ),
    _k(
        "tls_cert_failed",
        POSTFIX,
        "smtp lmtp smtpd tlsproxy",
        "certificate verification failed",
        rf"(?:server |client )?certificate verification failed for {CLIENT}: (?P<reason>.*)$",
        "The peer's certificate did not verify.",
    ),
    # --- queue lifecycle -------------------------------------------------------------------
    _k(
        "message_id",
        POSTFIX,
        "cleanup",
        "message-id=",
        r"(?:resent-)?message-id=(?P<message_id>.*)$",
        "cleanup recorded the Message-ID.",
    ),
    _k(
        "queue_active",
        POSTFIX,
        "qmgr",
        "nrcpt=",
        r"from=(?P<sender><[^>]*>), size=(?P<size>[0-9]+), nrcpt=(?P<nrcpt>[0-9]+)",
        "The message entered the active queue.",
    ),
    _k(
        "expired",
        POSTFIX,
        "qmgr",
        "expired, ",
        # postfix src/qmgr/qmgr_active.c "%s: from=<%s>, status=%s, returned to sender": expired,
        # or (v3.1+, postsuper -e) force-expired
        r"from=(?P<sender><[^>]*>), status=(?P<status>expired|force-expired), (?P<reason>.*)$",
        "The message expired in the queue (or was force-expired) and was returned.",
    ),
    _k(
        "removed",
        POSTFIX,
        "qmgr cleanup postsuper",
        "removed",
        r"removed(?: \((?P<reason>[^)]*)\))?$",
        "The queue file was removed (lifecycle end).",
    ),
    _k(
        "postsuper",
        POSTFIX,
        "postsuper",
        " ",
        r"(?P<action>requeued|placed on hold|released from hold|Deleted: [0-9]+ messages?|Requeued: [0-9]+ messages?)",
        "Administrator queue operation.",
    ),
    _k(
        "bounce_notification",
        POSTFIX,
        "bounce",
        "notification",
        r"(?P<action>[a-z]+ [a-z -]*notification): (?P<linked_queue_id>[0-9A-Za-z]+)$",
        "A bounce/delay notification was queued under a new queue id.",
    ),
    _k(
        "pickup",
        POSTFIX,
        "pickup",
        "uid=",
        r"uid=(?P<uid>[0-9]+) from=(?P<sender><[^>]*>)",
        "Local submission (sendmail/postdrop) picked up.",
    ),
    _k(
        "daemon_started",
        POSTFIX,
        "master",
        "daemon started",
        r"daemon started -- version (?P<version>[^,]+), configuration (?P<reason>.*)$",
        "Postfix master started (gives the version).",
    ),
    _k(
        "master_event",
        POSTFIX,
        "master",
        " ",
        r"(?:reload -- version (?P<version>[^,]+)|terminating on signal (?P<reason>[0-9]+))",
        "Postfix master reload/stop.",
    ),
    # --- postscreen / tlsproxy / dnsblog / anvil ---------------------------------------------
    _k(
        "postscreen_connect",
        POSTFIX,
        "postscreen tlsproxy",
        "CONNECT from",
        rf"CONNECT from {PS_CLIENT}(?: to \[(?P<server_ip>[^\]]*)\]:(?P<server_port>[0-9]+))?",
        "postscreen/tlsproxy accepted a connection.",
    ),
    _k(
        "postscreen_dnsbl",
        POSTFIX,
        "postscreen",
        "DNSBL rank",
        rf"DNSBL rank (?P<dnsbl_rank>[0-9]+) for {PS_CLIENT}",
        "DNSBL score of the client.",
    ),
    _k(
        "postscreen_pregreet",
        POSTFIX,
        "postscreen",
        "PREGREET",
        rf"PREGREET (?P<bytes>[0-9]+) after [0-9.]+ from {PS_CLIENT}: (?P<payload>.*)$",
        "The client talked before the greeting (a bot sign).",
    ),
    _k(
        "postscreen_hangup",
        POSTFIX,
        "postscreen",
        "HANGUP",
        rf"HANGUP after [0-9.]+ from {PS_CLIENT} in (?P<stage>.*)$",
        "The client hung up during tests.",
    ),
    _k(
        "postscreen_command",
        POSTFIX,
        "postscreen",
        " from [",
        rf"(?P<ps_event>COMMAND PIPELINING|COMMAND TIME LIMIT|COMMAND COUNT LIMIT|COMMAND LENGTH LIMIT|"
        rf"NON-SMTP COMMAND|BARE NEWLINE|BDAT without valid RCPT|DATA without valid RCPT) from {PS_CLIENT}"
        r"(?: after (?P<stage>[^:]*))?(?:: ?(?P<payload>.*))?$",
        "postscreen deep-protocol test failure.",
    ),
    _k(
        "postscreen_verdict",
        POSTFIX,
        "postscreen tlsproxy",
        "[",
        r"(?P<ps_event>PASS NEW|PASS OLD|DISCONNECT|WHITELISTED|BLACKLISTED|ALLOWLISTED|DENYLISTED|"
        rf"WHITELIST VETO|ALLOWLIST VETO|DROP|ENFORCE|FAIL|UNFAIL|UNPASS|SKIP) {PS_CLIENT}",
        "postscreen verdict (or tlsproxy DISCONNECT).",
    ),
    _k(
        "postscreen_stress",
        POSTFIX,
        "postscreen",
        "STRESS",
        r"(?P<ps_event>entering|leaving) STRESS mode with (?P<metric_value>[0-9]+) connections",
        "Load mode.",
    ),
    _k(
        "cache_cleanup",
        POSTFIX,
        "postscreen verify",
        "cache ",
        r"cache (?P<reason>[^ ]+) (?:full|partial) cleanup: retained=(?P<metric_value>[0-9]+) dropped=[0-9]+ entries",
        "Cache maintenance.",
    ),
    _k(
        "dnsbl_listed",
        POSTFIX,
        "dnsblog",
        "listed by domain",
        r"addr (?P<client_ip>[^ ]+) listed by domain (?P<dnsbl_domain>[^ ]+) as (?P<reason>[^ ]+)",
        "dnsblog: a DNSBL lists the address.",
    ),
    _k(
        "anvil_stats",
        POSTFIX,
        "anvil",
        "statistics: ",
        r"statistics: max (?:(?P<metric>connection rate|message rate|recipient rate|newtls rate|auth rate|"
        r"tlstrace rate) (?P<metric_value>[0-9]+)/(?P<metric_window>[0-9]+[a-z]) for "
        r"\((?P<anvil_service>[^:()]*|[0-9.]+:[0-9]+|\[[^\]]*\]:[0-9]+):(?P<client_ip>[^()]*)\)|"
        r"(?P<metric__2>connection count) (?P<metric_value__2>[0-9]+) for "
        r"\((?P<anvil_service__2>[^:()]*|[0-9.]+:[0-9]+|\[[^\]]*\]:[0-9]+):(?P<client_ip__2>[^()]*)\)|"
        r"(?P<metric__3>cache size) (?P<metric_value__3>[0-9]+)) at (?P<reason>.*)$",
        "anvil peak statistics per reporting interval.",
    ),
    # --- Dovecot -------------------------------------------------------------------------
    # Dovecot Debug: lines (auth_debug, auth_debug_passwords, mail_debug) are progress
    # output, never a verdict; 2.2-2.4 src/auth: auth-request.c "Performing passdb lookup",
    # "Finished passdb lookup", "Auth request finished", "Credentials: ...", "SCHEME(pw) !=
    # 'hash'" (debug_passwords), db-passwd-file.c "lookup: user=%s file=%s", passdb-pam.c
    # "lookup service=%s", auth-client-connection.c "client in:"/"client passdb out:",
    # auth-master-connection.c "master in:"/"passdb out:"/"userdb out:", auth-worker-client.c
    # "Handling PASSV request". Only the request prefix is read: no text column, so a
    # password in the text lands in no column (the line's message is redaction's business)
    _k(
        "dovecot_auth_debug",
        DOVECOT,
        "auth",
        "client in: ",
        r"client in: (?P<payload>.*)$",
        "Dovecot auth_debug request dump (may hold credentials).",
        debug=None,  # Dovecot 1.x logs it at Info level (1.2 src/auth/auth-client-connection.c)
    ),
    _k(
        "dovecot_debug",
        DOVECOT,
        "",
        "",
        rf"(?:{AUTH_REQUEST})?",
        "A Dovecot Debug: line (auth_debug / mail_debug progress): evidence, never an attempt.",
        debug=True,
    ),
    _k(
        "dovecot_auth_trace",
        DOVECOT,
        "auth auth-worker",
        "(",
        # Dovecot 1.x writes auth_debug output at Info level (1.2 src/auth/auth-request.c
        # auth_request_log_debug calls i_info; passdb.c "Generating %s from user '%s',
        # password '%s'"), 2.x the same texts at Debug level (dovecot_debug above)
        rf"{AUTH_REQUEST}(?:lookup|query: |Credentials: |Generating |Master user lookup|cache (?:hit|miss)|"
        r"hit: |miss$|expired$|result: |bind search: |pass search: |user search: |execute: |Received |"
        r"Performing |Finished |Auth request finished|[A-Za-z0-9._-]+\(.*\) != ')",
        "Dovecot 1.x auth_debug output (Info level): evidence, never an attempt.",
    ),
    _k(
        "dovecot_auth",
        DOVECOT,
        "auth auth-worker",
        "(",
        rf"{AUTH_REQUEST}(?P<auth_result>.*?)(?: \((?:given password|SHA1 of given password): (?P<payload>.*)\)"
        r"(?: - trying the next (?:passdb|userdb))?)?$",
        "Dovecot passdb result: 'unknown user' (no such account) vs 'Password mismatch'.",
    ),
    _k(
        "pam_auth_failure",
        ANY,
        "",
        "authentication failure;",
        # pam_unix "authentication failure; logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s"
        # then " user=%s" when known: ruser is what the caller set (Dovecot: the user; saslauthd:
        # empty), user= the account
        r"pam_unix\((?P<auth_driver>[^)]*)\): authentication failure; .*?ruser=(?P<username>[^ ]+)? "
        r"rhost=(?P<client_ip>[^ ]*)(?: +user=(?P<username__2>[^ ]+))?",
        "PAM (pam_unix) rejected a password.",
    ),
    _k(
        "dovecot_login",
        DOVECOT,
        "imap-login pop3-login submission-login managesieve-login",
        "=",
        # login_log_format "%$: %s": the message, then login_log_format_elements
        # "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>" (empty ones
        # left out). A success is "Login: user=<u>, ..." (custom elements may leave out rip=).
        # A failed login's message is the disconnect reason (any text: "Disconnected:
        # Connection closed: read(size=7902) failed: ...", "SSL_read() failed: ...",
        # "Inactivity", 2.4 "Login aborted: ...") then client_get_extra_disconnect_reason in
        # parentheses, 2.4 also the event reason "(auth_failed)". core src/login-common/
        # client-common.c: 1.2 "(auth failed, N attempts)", "(tried to use disabled plaintext
        # auth)"; 2.2/2.3 "(auth failed, N attempts in S secs)", "(authorization failed, ...)",
        # "(proxy dest auth failed)", "(tried to use disallowed plaintext auth)", "(auth service
        # reported temporary failure)"; 2.4 "(<reason>, N attempts in S secs)" with "proxy dest
        # authentication failure", "tried to use disallowed cleartext auth". Also (2.2-2.4)
        # "(auth process communication failure)", "(aborted authentication)" (2.4 "auth aborted
        # by client"), "(sent invalid base64 in response)", "(tried to use unsupported auth
        # mechanism)", 2.4 "proxy dest temporary authentication failure". The failure reason
        # goes to reason, N to auth_attempts.
        r"(?:(?P<login_event>Login): user=<(?P<username>.*?)>(?:, method=(?P<sasl_method>[^,]*))?"
        r"(?:, rip=(?P<client_ip>[^,]*), lip=(?P<server_ip>[^, ]*))?(?:[,:] .*)?$|"
        r"(?P<login_event__2>Login aborted|Aborted login|Login failed|Disconnected|"
        r"Maximum number of connections)(?:.*?)"
        r"(?: \((?P<reason>auth failed|authorization failed|proxy dest auth failed|"
        r"proxy dest authentication failure|tried to use dis(?:abled|allowed) (?:plaintext|cleartext) auth|"
        r"auth service reported temporary failure|temporary authentication failure|"
        r"proxy dest temporary authentication failure|auth process communication failure|"
        r"sent invalid base64 in response|tried to use unsupported auth mechanism|"
        r"aborted authentication|auth aborted by client)"
        r"(?:, (?P<auth_attempts>[0-9]+) attempts(?: in [0-9]+ secs?)?)?\)(?: \([a-z_]+\))?)?: "
        # words of a custom login_log_format_elements (no ':' '(': the reason stays found)
        r"(?:[^ :,()<>=]+ )*(?:user=<(?P<username__2>.*?)>, )?(?:method=(?P<sasl_method__2>[^,]*), )?"
        r"rip=(?P<client_ip__2>[^,]*), lip=(?P<server_ip__2>[^, ]*))",
        "Dovecot login-process summary (IMAP/POP3/submission/ManageSieve): a login, or the failed "
        "attempts (reason, auth_attempts) of a connection that ended without one.",
    ),
    _k(
        "dovecot_started",
        DOVECOT,
        "master",
        "starting up",
        r"Dovecot v(?P<version>[^ ]+) .*starting up",
        "Dovecot master started.",
    ),
    _k(
        "dovecot_saved",
        DOVECOT,
        DOVECOT_DELIVERY,
        "msgid=",
        rf"{DELIVERY_USER}(?:sieve: )?{MSGID}{SIEVE_ACTION}(?:saved mail to (?P<mailbox>.*)|"
        r"stored mail into mailbox '(?P<mailbox__2>.*)'(?: \([^()]*\))?)$",
        "Dovecot LMTP/LDA (or its Sieve script) saved the message into the user's mailbox.",
    ),
    _k(
        "dovecot_save_failed",
        DOVECOT,
        DOVECOT_DELIVERY,
        "msgid=",
        rf"{DELIVERY_USER}(?:sieve: )?{MSGID}{SIEVE_ACTION}(?:save failed to (?P<mailbox>.*?)|"
        r"failed to store into mailbox '(?P<mailbox__2>.*?)'(?: \([^()]*\))?): (?P<reason>.*)$",
        "Dovecot could not save the message into that mailbox (quota, missing folder...).",
    ),
    _k(
        "dovecot_rejected",
        DOVECOT,
        DOVECOT_DELIVERY,
        "msgid=",
        rf"{DELIVERY_USER}{MSGID}rejected: (?P<reason>.*)$",
        "Dovecot refused the message for this user (typically over quota): it bounces.",
    ),
    _k(
        "dovecot_sieve_action",
        DOVECOT,
        DOVECOT_DELIVERY,
        "msgid=",
        rf"{DELIVERY_USER}sieve: {MSGID}{SIEVE_ACTION}(?P<reason>.*)$",
        "Another Sieve result (discarded, forwarded/redirected, vacation reply, reject): text in reason.",
    ),
    _k(
        "dovecot_lmtp_connect",
        DOVECOT,
        "lmtp",
        "Connect from ",
        r"(?:\([^)]*\): )?Connect from (?:local|(?P<client_ip>[^ ]+))$",
        "An MTA (Postfix lmtp) connected to Dovecot LMTP; 'local' (unix socket) leaves client_ip null.",
    ),
    _k(
        "dovecot_lmtp_disconnect",
        DOVECOT,
        "lmtp",
        "Disconnect from ",
        r"(?:\([^)]*\): )?Disconnect from (?:local|(?P<client_ip>[^ ]+?))(?:: (?P<reason>.*))?$",
        "The LMTP connection ended (reason: Successful quit, Client quit, ...).",
    ),
    _k(
        "dovecot_mail_session_end",
        DOVECOT,
        DOVECOT_MAIL,
        "",
        # the disconnect reason, then imap_logout_format / pop3_logout_format (in=N out=N ...,
        # top=N/N, retr=N/N, ...), all kept in reason: 2.3+ "Disconnected: Logged out",
        # "Disconnected: Connection closed (LIST finished 2.250 secs ago)"; 2.2 "Connection
        # closed (...)", "Connection closed: read(size=...) failed: ...", "Disconnected for
        # inactivity"
        r"\((?P<username>[^)]*)\): (?P<reason>(?:Disconnected|Connection closed|Logged out)(?:[ :].*)?)$",
        "A logged-in IMAP/POP3 session ended: reason = Dovecot's text (Logged out, Connection closed, "
        "inactivity, ...) with its traffic counters (in=/out=, POP3 top=/retr=/del=/size=).",
    ),
    # --- Cyrus saslauthd ------------------------------------------------------------------
    _k(
        "saslauthd_auth",
        ANY,
        "saslauthd",
        "do_auth",
        # cyrus-sasl saslauthd/saslauthd-main.c do_auth via utils.c logger "%-16s: %s" (the
        # function name padded): 2.1.x "auth failure: [user=%s] [service=%s] [realm=%s]
        # [mech=%s] [reason=%s]", "auth success: [user] [service] [realm] [mech]" (-V),
        # "auth success (cached): [user] [service] [realm]"; master (PAM_RHOST patch, c813bf1)
        # adds "[remote=%s]" after the realm: the client "addr;port" libsasl was given
        r"do_auth *: auth (?P<auth_result>failure|success(?: \(cached\))?): \[user=(?P<username>.*?)\] "
        r"\[service=(?P<anvil_service>[^\]]*)\] \[realm=[^\]]*\]"
        r"(?: \[remote=(?P<client_ip>[^;\]]*)(?:;(?P<client_port>[0-9]+))?[^\]]*\])?"
        r"(?: \[mech=(?P<auth_driver>[^\]]*)\])?(?: \[reason=(?P<reason>.*)\])?$",
        "saslauthd's verdict on a password check (user, the asking service, mechanism, reason).",
    ),
    _k(
        "saslauthd_mech",
        ANY,
        "saslauthd",
        "auth_",
        # saslauthd/auth_*.c syslog(LOG_DEBUG, ...) with -V: "DEBUG: auth_pam: pam_authenticate
        # failed: %s", "DEBUG: auth_shadow: pw mismatch: '%s' != '%s'" (hashes), "auth_rimap:
        # sending %s%s %s" (LOGIN user password), ...; the text is the payload (redacted where
        # it carries a password or hash)
        r"(?:DEBUG: )?(?P<auth_driver>auth_[a-z0-9]+): (?P<payload>.*)$",
        "saslauthd mechanism debug output (-V): why a check failed.",
    ),
    # --- anything else -------------------------------------------------------------------
    _k(
        "table_changed",
        POSTFIX,
        "",
        "has changed -- restarting",
        # postfix src/{smtpd,cleanup,qmgr,smtp,local,virtual,pipe,...}: "table %s has changed --
        # restarting" with dict_changed_name() (src/util/dict.c): "type:name(open,dict flags)"
        r"table (?P<reason>.*) has changed -- restarting$",
        "A lookup table changed on disk: the daemon exits to reopen it.",
    ),
    _k(
        "verbose",
        POSTFIX,
        "",
        " ",
        r"(?P<reason>input attribute (?:name|value)|send attr|[a-z]+/[a-z0-9_-]+: wanted attribute|"
        r"[a-z_][a-z0-9_]*:)(?::? .*)?$",
        "Verbose (-v) trace of a Postfix function: name: detail.",
    ),
    _k(
        "postfix_script",
        POSTFIX,
        "postfix-script postqueue postsuper postdrop sendmail postmap postlog",
        "",
        r"(?P<reason>.*)$",
        "Postfix administrative command output.",
    ),
    _k(
        "journal_suppressed",
        ANY,
        "",
        "Suppressed ",
        r"Suppressed (?P<metric_value>[0-9]+) messages from (?P<reason>.*)$",
        "journald rate-limited (dropped) messages: the log is incomplete here.",
    ),
)


def kind_names() -> list[str]:
    """All kind names, plus the fall-backs the parsers assign."""
    return [k.name for k in KINDS] + ["warning", "other_program", "unparsed"]
