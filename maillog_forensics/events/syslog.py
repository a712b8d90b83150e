"""The syslog envelope: header formats, program tags, time stamps, year inference.

Pure functions shared by both parsers, so that the fast (vectorised) parser and the
reference (per-line) parser agree by construction on everything but the vectorisation.

Header grammar (a line = ``HEAD ": " MESSAGE``, split at the first ``": "``):

* ``TS " " [HOST " "] TAG ["[" PID "]"]`` where TS is one of
  classic BSD ``Feb  3 11:57:42`` (also postlogd/journalctl ``Feb 03``, the day after one
  space ``Feb 3`` as some syslogds and copy-pastes write it, optional fraction),
  RFC 3339 ``2021-03-13T12:04:09.755361+01:00`` (``Z``, ``+0100``, no offset; up to nine
  fraction digits as Docker writes them, read to the microsecond),
  Dovecot ``log_timestamp`` ``2013-08-11 03:56:40`` (``%Y-%m-%d %H:%M:%S``, optionally
  ``.%{usecs}``), or a daemontools/s6 multilog TAI64N label ``@4000000065a1b2c31d2e3f40``;
* RFC 5424 ``<PRI>1 TS HOST APP PROCID MSGID SD MSG`` (no ``": "`` after the tag).

Wrappers in front of such a line are cut off before it is parsed (:func:`unwrap`): NUL
bytes (crash artefacts), the ``docker compose logs`` service prefix ``name  | `` (with its
ANSI colour codes), and a ``docker logs --timestamps`` or multilog stamp that stands in
front of the line's own stamp. The stored text keeps the line as written.
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
    "tai64n_utc",
    "unwrap",
    "year_less_month_day",
    "year_steps",
]

MONTHS: dict[str, int] = {
    m: i + 1
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
}

#: BSD: "%b %e" ("Feb  3"), "%b %d" ("Feb 03": postlogd, Dovecot's default log_timestamp
#: "%b %d %H:%M:%S " in failures.h of dovecot/core 2.2-2.4), or "Feb 3" after one space
TS_BSD = r"[A-Z][a-z]{2} (?:[ 0-3][0-9]|[1-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?"
TS_ISO = (
    r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?"
)
#: Dovecot log_timestamp "%Y-%m-%d %H:%M:%S " and "%Y-%m-%d %H:%M:%S.%{usecs} " (failures.c
#: i_set_failure_timestamp_format: %{usecs} is written as six digits)
TS_DOVECOT = r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?"
#: daemontools/s6 multilog TAI64N label: "@", 16 hex digits of 2^62 + 10 + Unix seconds
#: (the 10 s TAI-UTC offset of 1972 that tai64nlocal subtracts), 8 of nanoseconds
TS_TAI64N = r"@[0-9a-f]{24}"
TS_RE = re.compile(rf"(?:{TS_BSD}|{TS_ISO}|{TS_DOVECOT}|{TS_TAI64N})")
TAI64_EPOCH = 2**62 + 10
#: ANSI colour code as docker compose writes around a service prefix
_ANSI = r"(?:\x1b\[[0-9;]*m)?"
#: ``docker compose logs`` prefix: ``fmt.Sprintf("%-<width>s | ", name)`` coloured
#: (docker/compose cmd/formatter/logs.go; v2.0 wrote ``"%-<width>s |"`` then a space)
COMPOSE_PREFIX = rf"{_ANSI}[A-Za-z0-9][A-Za-z0-9_.-]* +\|{_ANSI} {_ANSI}"
#: a stamp a container runtime or log service puts in front of a whole line: ``docker logs
#: --timestamps`` (RFC3339NanoFixed) or multilog's TAI64N
OUTER_TS = (
    r"(?:[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?"
    rf"(?:Z|[+-][0-2][0-9]:[0-5][0-9])|{TS_TAI64N})"
)
#: how the line's own stamp starts (an outer stamp is cut off only in front of one)
INNER_TS_START = r"(?:[A-Z][a-z]{2} [ 0-9]|[0-9]{4}-[01][0-9]-[0-3][0-9][T ][0-2]|@[0-9a-f]{24} |<[0-9])"
#: the wrappers; the groups say what to cut (same text in ``re`` and polars)
WRAPPER = rf"^(?P<compose>{COMPOSE_PREFIX})?(?:(?P<outer>{OUTER_TS}) (?P<inner>{INNER_TS_START}))?"
#: whether a line has a wrapper at all (the cheap test the fast parser runs on every line)
WRAPPED = rf"^(?:{COMPOSE_PREFIX}|{OUTER_TS} {INNER_TS_START})"
WRAPPER_RE = re.compile(WRAPPER)
#: a year-less (BSD) stamp at the start of a raw line, wrappers allowed; group 1 the month
YEAR_LESS_START = (
    rf"^(?:{COMPOSE_PREFIX})?(?:{OUTER_TS} )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(?:[ 0-3][0-9]|[1-9]) [0-2][0-9]:"
)
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


def unwrap(line: str) -> str:
    """The log line inside ``line``: what the parsers read (the stored text keeps ``line``).

    NUL bytes are dropped; a ``docker compose logs`` service prefix is cut off, and so is
    a ``docker logs --timestamps`` or multilog TAI64N stamp in front of the line's own
    time stamp (one in front of a bare ``TAG: message`` is the line's stamp and stays).
    """
    if "\x00" in line:
        line = line.replace("\x00", "")
    m = WRAPPER_RE.match(line)
    assert m is not None  # every group is optional
    cut = len(m["compose"] or "") + (len(m["outer"]) + 1 if m["inner"] is not None else 0)
    return line[cut:] if cut else line


def ts_length(head: str) -> int:
    """Length of the time stamp at the start of ``head`` (the fast parser mirrors this)."""
    if head[:1] == "@":
        return 25
    if len(head) > 10 and "0" <= head[0] <= "9":
        if head[10] == "T":
            sp = head.find(" ")
            return sp if sp >= 0 else len(head)
        if len(head) > 19 and head[19] == ".":
            sp = head.find(" ", 19)
            return sp if sp >= 0 else len(head)
        return 19
    base = 14 if len(head) > 5 and head[5] == " " else 15  # "Feb 3 11:57:42": one space
    if len(head) > base and head[base] == ".":
        sp = head.find(" ", base)
        return sp if sp >= 0 else len(head)
    return base


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
    if ts_raw[5:6] == " ":  # "Feb 3 11:57:42" read as "Feb  3 11:57:42"
        ts_raw = ts_raw[:4] + " " + ts_raw[4:]
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


_TAI64N_RE = re.compile(TS_TAI64N)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the years the parsers give a time to (1900-2999), in Unix seconds
TS_MIN_SECONDS = int((datetime(1900, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
TS_END_SECONDS = int((datetime(3000, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())


def tai64n_utc(stamp: str) -> datetime | None:
    """UTC time of a TAI64N label, exactly as daemontools' ``tai64nlocal`` reads it.

    tai64nlocal subtracts 2^62 + 10 from the seconds (TAI was 10 s ahead of UTC in 1972;
    later leap seconds are not counted, as multilog's ``tai_now`` adds none either) and
    keeps the nanoseconds (here cut to microseconds). ``None`` outside 1900-2999.

    >>> tai64n_utc("@4000000065a1b2c31d2e3f40").isoformat()
    '2024-01-12T21:44:25.489570+00:00'
    """
    if not _TAI64N_RE.fullmatch(stamp):
        return None
    secs = int(stamp[1:17], 16) - TAI64_EPOCH
    nanos = int(stamp[17:25], 16)
    if nanos >= 1_000_000_000 or not TS_MIN_SECONDS <= secs < TS_END_SECONDS:
        return None
    return _EPOCH + timedelta(seconds=secs, microseconds=nanos // 1000)


def year_less_month_day(line: str) -> tuple[int, int] | None:
    """Month and day of a raw line's year-less (BSD) stamp, wrappers allowed; else ``None``."""
    text = unwrap(line)
    ts = text[: ts_length(text)]
    if not TS_RE.fullmatch(ts) or ts[:3] not in MONTHS:
        return None
    parts = bsd_parts(ts)
    return (parts[0], parts[1]) if parts else None


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
