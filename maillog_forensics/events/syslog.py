"""The syslog envelope: header formats, program tags, time stamps, year inference.

Pure functions shared by both parsers, so that the fast (vectorised) parser and the
reference (per-line) parser agree by construction on everything but the vectorisation.

Header grammar (a line = ``HEAD ": " MESSAGE``, split at the first ``": "``):

* ``TS " " [HOST " "] TAG ["[" PID "]"]`` where TS is one of
  classic BSD ``Feb  3 11:57:42`` (also postlogd/journalctl ``Feb 03``, optional fraction),
  RFC 3339 ``2021-03-13T12:04:09.755361+01:00`` (``Z``, ``+0100``, no offset),
  Dovecot ``2013-08-11 03:56:40``;
* RFC 5424 ``<PRI>1 TS HOST APP PROCID MSGID SD MSG`` (no ``": "`` after the tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "MONTHS",
    "HeaderTag",
    "bsd_parts",
    "decode_long_queue_id",
    "infer_start_year",
    "local_offset_seconds",
    "parse_tag",
    "split_head",
    "year_steps",
]

MONTHS: dict[str, int] = {
    m: i + 1
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
}

TS_BSD = r"[A-Z][a-z]{2} [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?"
TS_ISO = (
    r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?"
)
TS_DOVECOT = r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
TS_RE = re.compile(rf"(?:{TS_BSD}|{TS_ISO}|{TS_DOVECOT})")
TS_ISO_RE = re.compile(TS_ISO)
HOSTTAG_RE = re.compile(r"(?:(?P<host>[^ ]*[^ :]) )?(?P<tag>[^ \[\]]+)(?:\[(?P<pid>[0-9]{1,9})\])?")
RFC5424_RE = re.compile(
    rf"<(?P<pri>[0-9]{{1,3}})>1 (?P<ts>{TS_ISO}|-) (?P<host>[^ ]+) (?P<tag>[^ ]+) (?P<pid>[^ ]+) "
    r"[^ ]+ (?:-|\[.*?\])(?: (?P<message>.*))?\Z"
)
REPEATED_RE = re.compile(r"message repeated (?P<n>[0-9]{1,9}) times: \[ ?(?P<message>.*)\]\Z")

DOVECOT_PROCS = frozenset(
    [
        "auth",
        "auth-worker",
        "imap-login",
        "pop3-login",
        "submission-login",
        "managesieve-login",
        "imap",
        "pop3",
        "lmtp",
        "submission",
        "managesieve",
        "master",
        "config",
        "log",
        "anvil",
        "stats",
        "dict",
        "indexer",
        "indexer-worker",
        "doveadm",
        "lda",
        "dovecot-lda",
        "quota-status",
        "replicator",
        "aggregator",
        "director",
    ]
)

# long ids: >= 10 base-52 digits (seconds + microseconds, 'z' is a digit there), the
# separator 'z', then the inode number in base 51 (no 'z')
QID = (
    r"(?:NOQUEUE|[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z"
    r"[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+)"
)
#: body prefixes removed before kind patterns are matched (see catalog)
POSTFIX_PREFIX = (
    rf"^(?:(?P<queue_id>{QID}): )?(?:(?P<severity>warning|error|fatal|panic): )?"
    rf"(?:(?P<queue_id__2>{QID}): )?"
)
#: Dovecot 2.3.11+ auth workers put the connection and the request in front of the text:
#: ``conn unix:auth-worker (pid=4711,uid=97): auth-worker<3>: sql(u,ip): ...`` (core
#: src/lib/connection.c connection_update_event, src/auth/auth-worker-client.c; 2.4
#: auth-worker-server.c): removed like the severity, so the passdb text is the body
DOVECOT_WORKER_PREFIX = r"(?:conn unix:[^ :()]*(?: \([^()]*\))?: )?(?:auth-worker<[0-9]+>: )?"
#: Dovecot 1.x mail processes: ``mail_log_prefix = "%Us(%u): "``, the service in capitals
#: (``IMAP(user): Disconnected: Logged out bytes=1/2``; core 1.2 src/master/master-settings.c)
DOVECOT1_MAIL_DAEMONS = frozenset(["IMAP", "POP3"])
DOVECOT_SYSLOG_PREFIX = (
    r"^(?:(?P<daemon>[a-z][a-z0-9-]*|IMAP|POP3)(?:\((?P<dargs>[^)]*)\))?(?:<[^>]*>)*: )?"
    r"(?:request \[[0-9]+\]: )?(?:(?P<severity>Info|Warning|Error|Fatal|Panic|Debug): )?"
    + DOVECOT_WORKER_PREFIX
)
DOVECOT_NATIVE_PREFIX = (
    r"^(?:request \[[0-9]+\]: )?(?:(?P<severity>Info|Warning|Error|Fatal|Panic|Debug): )?"
    + DOVECOT_WORKER_PREFIX
)
#: Dovecot 2.4 puts "user,ip[,sasl:mech]" in the process prefix (``auth(u,ip,sasl:login)<id>:``)
#: and only the passdb in the text (``sql: Password mismatch``); the parsers rewrite such a
#: body to the 2.3 shape ``sql(u,ip,sasl:login): Password mismatch`` so one pattern reads both.
DOVECOT24_BODY = r"^(?P<driver>[a-z][a-z0-9-]*): (?P<rest>.*)$"
#: Dovecot delivery processes name the recipient only in the process prefix
#: (``lmtp(user)<pid><session>:``, 2.2 ``lmtp(pid, user):``; LMTP connection lines
#: ``lmtp(pid):``); the parsers put the arguments in front of the body as ``(ARGS): ``
#: so that one pattern reads the syslog (``dovecot: lmtp(...)``) and native forms.
DOVECOT_DELIVERY_DAEMONS = frozenset(["lmtp", "lda", "dovecot-lda"])
#: Dovecot mail processes (a logged-in IMAP/POP3 session) name the user the same way
#: (``imap(user)<pid><session>:``, 2.2 ``imap(user):``); their session-end summary
#: ("Disconnected: Logged out in=...") has no user in the text either.
DOVECOT_MAIL_DAEMONS = frozenset(["imap", "pop3"]) | DOVECOT1_MAIL_DAEMONS
#: daemons whose process arguments the parsers put back in front of the body
DOVECOT_USER_DAEMONS = DOVECOT_DELIVERY_DAEMONS | DOVECOT_MAIL_DAEMONS


def split_head(line: str) -> tuple[str, str] | None:
    """Split a line at the first ``": "`` into head and message (``None`` if absent)."""
    i = line.find(": ")
    if i < 0:
        return None
    return line[:i], line[i + 2 :]


def ts_length(head: str) -> int:
    """Length of the time stamp at the start of ``head`` (the fast parser mirrors this)."""
    if len(head) > 10 and "0" <= head[0] <= "9":
        if head[10] == "T":
            sp = head.find(" ")
            return sp if sp >= 0 else len(head)
        return 19
    if len(head) > 15 and head[15] == ".":
        sp = head.find(" ", 15)
        return sp if sp >= 0 else len(head)
    return 15


@dataclass(frozen=True)
class HeaderTag:
    """What a program tag says: the family and the Postfix/Dovecot naming parts."""

    host: str | None
    program: str
    pid: int | None
    family: str  # "postfix", "dovecot", "dovecot-syslog" (daemon in the message), "other"
    instance: str | None
    service: str | None
    daemon: str | None
    args: str | None = None  # Dovecot process arguments: "31326", or 2.4 "user,ip,sasl:login"


#: Dovecot 2.2 writes a process with two arguments as ``lmtp(22587, user)``; in its own
#: log_path lines that is the tag, and HOSTTAG_RE would read the space in it as
#: ``HOST TAG``. Tried first on a tag with ", " (parse_tag is per unique value).
SPACED_ARGS_TAG_RE = re.compile(
    r"(?:(?P<host>[^ ()]*[^ :()]) )?(?P<tag>(?P<base>[a-z][a-z0-9-]*)\([^()]*\)(?:<[^<>]*>)*)"
)


@lru_cache(maxsize=65536)
def parse_tag(hosttag: str) -> HeaderTag | None:
    """Parse ``[HOST ]TAG[[PID]]`` (cached: the fast parser calls it per unique value)."""
    if ", " in hosttag:
        ms = SPACED_ARGS_TAG_RE.fullmatch(hosttag)
        if ms is not None and ms["base"] in DOVECOT_PROCS:
            return _tag_parts(ms["host"], ms["tag"], None)
    m = HOSTTAG_RE.fullmatch(hosttag)
    if m is None:
        return None
    tag = m["tag"]
    pid = int(m["pid"]) if m["pid"] else None
    return _tag_parts(m["host"], tag, pid)


_PROC_ARGS = re.compile(r"(?P<base>[^(<]+)\((?P<args>[^)]*)\)(?:<[^>]*>)*")


def _tag_parts(host: str | None, tag: str, pid: int | None) -> HeaderTag:
    m = _PROC_ARGS.fullmatch(tag)
    base, args = (m["base"], m["args"]) if m else (tag, None)
    parts = base.split("/")
    if parts[0].startswith("postfix") and (len(parts) > 1 or parts[0] == "postfix"):
        service = "/".join(parts[1:-1]) or None
        return HeaderTag(host, base, pid, "postfix", parts[0], service, parts[-1])
    if base == "dovecot":
        return HeaderTag(host, base, pid, "dovecot-syslog", None, None, None)
    if base in DOVECOT_PROCS:
        return HeaderTag(host, base, pid, "dovecot", None, None, base, args)
    return HeaderTag(host, base, pid, "other", None, None, base)


def rfc5424_tag(host: str, app: str, procid: str) -> HeaderTag:
    """The tag of an RFC 5424 line (``-`` means absent)."""
    pid = int(procid) if procid.isdigit() and len(procid) <= 9 else None
    return _tag_parts(None if host == "-" else host, app, pid)


def bsd_parts(ts_raw: str) -> tuple[int, int, int, int, int, int] | None:
    """Month, day, hour, minute, second, microsecond of a BSD stamp (``None`` if bad month)."""
    month = MONTHS.get(ts_raw[:3])
    if month is None:
        return None
    frac = ts_raw[16:] if len(ts_raw) > 15 else ""
    us = int(frac.ljust(6, "0")) if frac else 0
    return (
        month,
        int(ts_raw[4:6]),
        int(ts_raw[7:9]),
        int(ts_raw[10:12]),
        int(ts_raw[13:15]),
        us,
    )


def year_steps(months: list[int], last_month: int | None) -> list[int]:
    """Year increment per line: +1 on a Dec→Jan style wrap, -1 on a backwards jump.

    A month more than six below the previous one is a new year; more than six above is
    a reordered line from the previous year. The fast parser computes the same with a
    vectorised diff and a cumulative sum.
    """
    out = []
    prev = last_month
    for m in months:
        if prev is None:
            out.append(0)
        else:
            d = m - prev
            out.append(1 if d < -6 else (-1 if d > 6 else 0))
        prev = m
    return out


def infer_start_year(first_month: int, first_day: int, anchor: datetime) -> int:
    """Year of a file's first year-less line, given an anchor time at or after it (mtime)."""
    if (first_month, first_day) <= (anchor.month, anchor.day):
        return anchor.year
    return anchor.year - 1


@lru_cache(maxsize=65536)
def local_offset_seconds(tz_name: str, year: int, month: int, day: int, hour: int) -> int | None:
    """UTC offset (seconds) of a local wall-clock hour in ``tz_name``.

    Ambiguous hours (DST end) take the earlier offset (fold=0); hours that do not exist
    (DST start) take the offset before the change, as ``zoneinfo`` does. ``None`` for an
    invalid date. Both parsers convert through this one function.
    """
    try:
        naive = datetime(year, month, day, hour)
    except ValueError:
        return None
    off = naive.replace(tzinfo=ZoneInfo(tz_name)).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


_QID_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
_QID_VALUE = {c: i for i, c in enumerate(_QID_ALPHABET)}
LONG_QID_RE = re.compile(r"[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+")


def decode_long_queue_id(qid: str) -> datetime | None:
    """Enqueue time (UTC) encoded in a long Postfix queue id, or ``None``.

    Long ids (``enable_long_queue_ids``) are base-52 seconds, exactly four base-52
    microsecond digits, ``z``, then the inode number.

    >>> decode_long_queue_id("44JCRG5tYPzCqt2").isoformat()
    '2019-03-11T22:27:54.828953+00:00'
    """
    if not LONG_QID_RE.fullmatch(qid):
        return None
    head = qid[: qid.rindex("z")]
    if len(head) < 10:
        return None
    secs_part, us_part = head[:-4], head[-4:]
    secs = 0
    for c in secs_part:
        secs = secs * 52 + _QID_VALUE[c]
    us = 0
    for c in us_part:
        us = us * 52 + _QID_VALUE[c]
    if us >= 1_000_000:
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=secs, microseconds=us)
    except OverflowError:
        return None
