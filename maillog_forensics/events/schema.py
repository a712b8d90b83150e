"""The event schema: one row per input line, typed columns, documented meaning.

The schema is declared once here (pandera-style: declaration apart from execution).
Both parsers (``parse.reference_parse`` and ``parse.parse_lines``) produce exactly these
columns; ``store`` writes them to Parquet and ``load_events`` returns them as pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = ["COLUMNS", "COUNTER_COMMANDS", "EVENT_SCHEMA", "FLAG_BITS", "Column", "EventRows", "column_names"]


@dataclass(frozen=True)
class Column:
    """One event column: its name, Arrow type, and what it means."""

    name: str
    type: pa.DataType
    doc: str
    #: low-cardinality string column, stored dictionary-encoded (pandas: category)
    categorical: bool = False
    #: value captured as ``<...>`` in the log; the brackets are stripped (``<>`` → ``""``)
    angle: bool = False
    #: an IP address: an IPv4-mapped IPv6 one (``::ffff:192.0.2.7``, a dual-stack socket's
    #: view of an IPv4 client) is stored as the IPv4 address, as the other programs log it
    address: bool = False


_S = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()
_F64 = pa.float64()


def _c(name: str, typ: pa.DataType, doc: str, **kw: bool) -> Column:
    return Column(name, typ, doc, **kw)


#: Bits of the ``flags`` column (input anomalies found while reading the line).
FLAG_BITS: dict[str, int] = {
    "truncated": 1,  # line longer than the cap; the rest was dropped
    "invalid_utf8": 2,  # bytes that are not UTF-8 were replaced by U+FFFD
    "nul": 4,  # the line contained NUL bytes
    "crlf": 8,  # the line ended in CR LF (the CR was removed)
}

#: SMTP commands counted on smtpd's disconnect line, in the order Postfix prints them
COUNTER_COMMANDS: tuple[str, ...] = tuple(
    [
        "helo",
        "ehlo",
        "xclient",
        "xforward",
        "starttls",
        "auth",
        "mail",
        "rcpt",
        "data",
        "bdat",
        "rset",
        "noop",
        "vrfy",
        "etrn",
        "quit",
        "help",
        "unknown",
        "commands",
    ]
)

COLUMNS: tuple[Column, ...] = (
    # --- envelope -------------------------------------------------------------------------
    _c("ts", pa.timestamp("us", tz="UTC"), "Event time in UTC (null when the header is unparsed)."),
    _c("ts_raw", _S, "The timestamp exactly as written in the log."),
    _c("host", _S, "Host name from the syslog header (null if the format has none).", categorical=True),
    _c(
        "program", _S, "Syslog tag without the pid, e.g. postfix/submission/smtpd, dovecot.", categorical=True
    ),
    _c(
        "instance",
        _S,
        "Postfix instance (syslog_name first part, e.g. postfix, postfix-in).",
        categorical=True,
    ),
    _c(
        "service",
        _S,
        "Postfix master.cf service from the tag (submission, smtps, ...), null if none.",
        categorical=True,
    ),
    _c(
        "daemon",
        _S,
        "Daemon: last part of a Postfix tag, or the Dovecot process (auth, imap-login).",
        categorical=True,
    ),
    _c("pid", _I32, "Process id from the header."),
    _c(
        "severity",
        _S,
        "warning/error/fatal/panic (Postfix) or info/debug/... (Dovecot), if written.",
        categorical=True,
    ),
    _c("kind", _S, "Line kind from maillog_forensics.events.catalog, or 'unparsed'.", categorical=True),
    _c("queue_id", _S, "Postfix queue id (short, long) or NOQUEUE."),
    _c("message", _S, "Text after the syslog header, secrets redacted (see credentials)."),
    _c("repeat", _I32, "How many times rsyslog said this message repeated (1 for ordinary lines)."),
    _c("flags", pa.uint8(), "Input anomalies, bitmask of schema.FLAG_BITS."),
    # --- client / peer --------------------------------------------------------------------
    _c("client_name", _S, "Client (or peer) host name, 'unknown' when not verified."),
    _c(
        "client_ip",
        _S,
        "Client (or peer) address; empty string when logged as []; ::ffff:a.b.c.d as a.b.c.d.",
        address=True,
    ),
    _c("client_port", _I32, "Client port when logged (smtpd_client_port_logging, postscreen)."),
    _c("server_ip", _S, "Local address (postscreen CONNECT ... to, Dovecot lip).", address=True),
    _c("server_port", _I32, "Local port (postscreen CONNECT ... to)."),
    _c("helo", _S, "HELO/EHLO name from a reject line.", angle=True),
    # --- SASL -----------------------------------------------------------------------------
    _c("sasl_method", _S, "SASL mechanism as logged (case as the client sent it).", categorical=True),
    _c("sasl_username", _S, "sasl_username= of a client= line or (Postfix >= 3.9) a failure."),
    _c("sasl_sender", _S, "sasl_sender= of a client= line."),
    _c(
        "username",
        _S,
        "User name from a Dovecot line (auth driver, login summary, LMTP/LDA delivery recipient, "
        "IMAP/POP3 session end).",
    ),
    _c("reason", _S, "Reason / status text: SASL failure reason, reject text, abort reason, ..."),
    # --- SMTP verbs / rejects --------------------------------------------------------------
    _c("action", _S, "reject, reject_warning, defer, discard, hold, milter-reject, ...", categorical=True),
    _c(
        "stage",
        _S,
        "SMTP stage or command: CONNECT, EHLO, AUTH, RCPT, DATA, END-OF-MESSAGE, ...",
        categorical=True,
    ),
    _c("smtp_code", _I32, "SMTP reply code (e.g. 554)."),
    _c("dsn", _S, "Enhanced status code (e.g. 5.7.1).", categorical=True),
    _c("sender", _S, "Envelope sender (from=<...>), '' for the null sender.", angle=True),
    _c("recipient", _S, "Envelope recipient (to=<...>).", angle=True),
    _c("orig_to", _S, "Original recipient before aliasing (orig_to=<...>).", angle=True),
    _c("proto", _S, "SMTP or ESMTP.", categorical=True),
    # --- session counters (disconnect) -------------------------------------------------------
    *(
        _c(f"{cmd}_{part}", _I32, f"disconnect counter {cmd}= ({part}).")
        for cmd in COUNTER_COMMANDS
        for part in ("ok", "total")
    ),
    _c("bytes", _I64, "Byte count: 'lost connection after DATA (N bytes)', PREGREET N."),
    # --- TLS ------------------------------------------------------------------------------
    _c("tls_trust", _S, "Anonymous / Untrusted / Trusted / Verified.", categorical=True),
    _c("tls_protocol", _S, "TLS protocol, e.g. TLSv1.3.", categorical=True),
    _c("tls_cipher", _S, "TLS cipher suite.", categorical=True),
    _c("tls_bits", _I32, "Cipher strength in bits."),
    _c(
        "direction",
        _S,
        "from/to (TLS summary), read/write (TLS data, BIO), client/server (dialogue).",
        categorical=True,
    ),
    _c("io_length", _I32, "Read/Write N chars: N (the full length; only 40 chars are logged)."),
    _c("payload", _S, "Logged SMTP data: TLS Read/Write text or debug dialogue (credentials redacted)."),
    # --- message lifecycle ---------------------------------------------------------------
    _c("message_id", _S, "Message-ID header from cleanup or Dovecot LMTP/LDA msgid= (null if unspecified)."),
    _c("size", _I64, "Message size in bytes (qmgr)."),
    _c("nrcpt", _I32, "Number of recipients (qmgr)."),
    _c("relay", _S, "Delivery relay (host[addr]:port, local, virtual, none, ...)."),
    _c("delay", _F64, "Total delivery delay in seconds."),
    _c("delays", _S, "a/b/c/d delay breakdown."),
    _c("status", _S, "Delivery status: sent, deferred, bounced, expired, ...", categorical=True),
    _c("linked_queue_id", _S, "Linked queue id: the notification a bounce created, or orig_queue_id=."),
    _c("uid", _I32, "uid of a locally submitted message (pickup)."),
    # --- postscreen / dnsbl / anvil --------------------------------------------------------
    _c(
        "ps_event", _S, "postscreen event: PASS NEW, PASS OLD, HANGUP, PREGREET, DNSBL, ...", categorical=True
    ),
    _c("dnsbl_rank", _I32, "postscreen DNSBL rank."),
    _c("dnsbl_domain", _S, "dnsblog: the DNSBL that listed the address.", categorical=True),
    _c(
        "metric",
        _S,
        "anvil statistic: connection rate, auth rate, connection count, cache size.",
        categorical=True,
    ),
    _c("metric_value", _I32, "anvil statistic value."),
    _c("metric_window", _S, "anvil rate window, e.g. 60s.", categorical=True),
    _c("anvil_service", _S, "anvil ident service part (master.cf service).", categorical=True),
    # --- Dovecot --------------------------------------------------------------------------
    _c("auth_driver", _S, "Dovecot passdb driver: passwd-file, pam, sql, ldap, ...", categorical=True),
    _c("auth_result", _S, "Dovecot result text: unknown user, Password mismatch, ...", categorical=True),
    _c("auth_attempts", _I32, "Dovecot login summary: number of auth attempts."),
    _c(
        "login_event",
        _S,
        "Dovecot login summary head: Login, Disconnected, Aborted login, ...",
        categorical=True,
    ),
    _c(
        "mailbox",
        _S,
        "Dovecot LMTP/LDA/Sieve: mailbox the message was saved to (or failed to save to).",
        categorical=True,
    ),
    _c("secret_length", _I32, "Length of a redacted secret in the line (given password, base64 blob)."),
    # --- server ---------------------------------------------------------------------------
    _c("version", _S, "Postfix / Dovecot version from a start-up line.", categorical=True),
    # --- provenance -----------------------------------------------------------------------
    _c("source_file", _S, "Input file path as given (or 'stdin'); hash in the manifest.", categorical=True),
    _c("line_no", _I64, "1-based line number in the (decompressed) input."),
)

EVENT_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field(c.name, pa.dictionary(pa.int32(), c.type) if c.categorical else c.type, nullable=True)
        for c in COLUMNS
    ]
)

#: columns produced by kind patterns (everything but envelope and provenance)
ENVELOPE_COLUMNS = frozenset(
    [
        "ts",
        "ts_raw",
        "host",
        "program",
        "instance",
        "service",
        "daemon",
        "pid",
        "severity",
        "kind",
        "queue_id",
        "message",
        "repeat",
        "flags",
        "source_file",
        "line_no",
    ]
)


@dataclass(frozen=True)
class EventRows:
    """The rows an analysis step reads: lines of these daemons, of these kinds, or with a queue id.

    A row is kept when it meets any of the three. Each table names its rows (e.g.
    ``sessions.EVENT_ROWS``) so that ``load_events(..., rows=...)`` reads only those from
    Parquet: the report never holds every event of a large dataset at once.

    Examples
    --------
    >>> EventRows(daemons=("smtpd",), kinds=("postscreen_verdict",))
    EventRows(daemons=('smtpd',), kinds=('postscreen_verdict',), queue_id=False)
    """

    daemons: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    queue_id: bool = False


def column_names() -> list[str]:
    """Return the event column names in schema order."""
    return [c.name for c in COLUMNS]


COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
