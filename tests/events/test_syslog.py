"""Tests for maillog_forensics.events.syslog (envelope helpers) and the time handling of both parsers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from maillog_forensics.events import parse, syslog
from maillog_forensics.events.parse import TimeContext
from maillog_forensics.events.syslog import HeaderTag

PARSERS = ["reference", "fast"]


def run(parser: str, lines: list[str], ctx: TimeContext, first_line_no: int = 1) -> list[dict[str, Any]]:
    """Rows of one batch parsed by the reference (per-line) or the fast (vectorised) parser."""
    if parser == "reference":
        batch = parse.reference_parse(lines, source_file="mail.log", first_line_no=first_line_no, ctx=ctx)
    else:
        series = pl.Series("line", lines, dtype=pl.String)
        batch = parse.parse_lines(series, source_file="mail.log", first_line_no=first_line_no, ctx=ctx)
    return batch.table.to_pylist()


def qmgr(ts: str) -> str:
    """A Postfix line with the given time stamp."""
    return f"{ts} mx.example.com postfix/qmgr[17]: 3F1A2B4C5D: removed"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---------------------------------------------------------------------------- headers

P = "postfix"
MX = "mx.example.com"
SMTPD = HeaderTag(MX, "postfix/smtpd", 123, P, P, None, "smtpd")
QMGR = HeaderTag(MX, "postfix/qmgr", 17, P, P, None, "qmgr")

HEADER_CASES = [
    # a whole line, its time stamp, and what its tag says
    pytest.param(
        "Feb  3 11:57:42 mx.example.com postfix/smtpd[123]: connect from unknown[192.0.2.7]",
        "Feb  3 11:57:42",
        SMTPD,
        id="classic",
    ),
    pytest.param(
        "Feb 03 11:57:42 mx.example.com postfix/smtpd[123]: connect from unknown[192.0.2.7]",
        "Feb 03 11:57:42",
        SMTPD,
        id="postlogd",
    ),
    pytest.param(
        "Feb 03 11:57:42.123456 mx.example.com postfix/smtpd[123]: connect from unknown[192.0.2.7]",
        "Feb 03 11:57:42.123456",
        SMTPD,
        id="bsd-fraction",
    ),
    pytest.param(
        "2026-02-03T11:57:42.123456+01:00 mx.example.com postfix/smtpd[123]: connect from x[192.0.2.7]",
        "2026-02-03T11:57:42.123456+01:00",
        SMTPD,
        id="rfc3339-us-offset",
    ),
    pytest.param(
        "2026-02-03T11:57:42Z mx.example.com postfix/qmgr[17]: 3F1A2B4C5D: removed",
        "2026-02-03T11:57:42Z",
        QMGR,
        id="rfc3339-Z",
    ),
    pytest.param(
        "2026-02-03T11:57:42.5+0100 mx.example.com postfix/qmgr[17]: 3F1A2B4C5D: removed",
        "2026-02-03T11:57:42.5+0100",
        QMGR,
        id="rfc3339-colonless-offset",
    ),
    pytest.param(
        "Nov 27 19:10:46 auth: Info: passwd-file(alice@example.com,192.0.2.7): unknown user",
        "Nov 27 19:10:46",
        HeaderTag(None, "auth", None, "dovecot", None, None, "auth"),
        id="dovecot-native-no-host",
    ),
    pytest.param(
        "2013-08-11 03:56:40 imap-login: Info: Disconnected (no auth attempts): rip=192.0.2.7",
        "2013-08-11 03:56:40",
        HeaderTag(None, "imap-login", None, "dovecot", None, None, "imap-login"),
        id="dovecot-dated",
    ),
    pytest.param(
        "Feb  3 11:57:42 postfix/smtpd[32451]: connect from unknown[192.0.2.7]",
        "Feb  3 11:57:42",
        HeaderTag(None, "postfix/smtpd", 32451, P, P, None, "smtpd"),
        id="seed-no-host",
    ),
    pytest.param(
        "Feb  3 11:57:42 mx.example.com postfix/smtpd[1234567]: connect from unknown[192.0.2.7]",
        "Feb  3 11:57:42",
        HeaderTag(MX, "postfix/smtpd", 1234567, P, P, None, "smtpd"),
        id="7-digit-pid",
    ),
]


@pytest.mark.parametrize(("line", "ts_raw", "tag"), HEADER_CASES)
def test_header_is_split_into_stamp_and_tag(line: str, ts_raw: str, tag: HeaderTag) -> None:
    split = syslog.split_head(line)
    assert split is not None
    head, message = split
    assert f"{head}: {message}" == line
    n = syslog.ts_length(head)
    assert head[:n] == ts_raw
    assert syslog.TS_RE.fullmatch(ts_raw)
    assert head[n] == " "
    assert syslog.parse_tag(head[n + 1 :]) == tag


def test_split_head_cuts_at_the_first_separator_only() -> None:
    line = "Feb  3 11:57:42 mx.example.com postfix/smtpd[123]: warning: unknown[192.0.2.7]: x"
    assert syslog.split_head(line) == (
        "Feb  3 11:57:42 mx.example.com postfix/smtpd[123]",
        "warning: unknown[192.0.2.7]: x",
    )
    assert syslog.split_head("no separator here:at all") is None


TAG_CASES = [
    # [HOST ]TAG[[PID]] and what it says
    pytest.param(
        "mx.example.com postfix-in/submission/smtpd[42]",
        HeaderTag(MX, "postfix-in/submission/smtpd", 42, P, "postfix-in", "submission", "smtpd"),
        id="instance-and-service",
    ),
    pytest.param(
        "mx.example.com postfix/smtps/smtpd[42]",
        HeaderTag(MX, "postfix/smtps/smtpd", 42, P, P, "smtps", "smtpd"),
        id="smtps",
    ),
    pytest.param(
        "mx.example.com postfix/10025/smtpd[42]",
        HeaderTag(MX, "postfix/10025/smtpd", 42, P, P, "10025", "smtpd"),
        id="port-service",
    ),
    pytest.param("mx.example.com postfix/qmgr[17]", QMGR, id="qmgr-no-service"),
    pytest.param(
        "mx.example.com dovecot[999]",
        HeaderTag(MX, "dovecot", 999, "dovecot-syslog", None, None, None),
        id="dovecot-syslog",
    ),
    pytest.param(
        "mx.example.com auth-worker(31326)",
        HeaderTag(MX, "auth-worker", None, "dovecot", None, None, "auth-worker", "31326"),
        id="dovecot-auth-worker",
    ),
    pytest.param(
        "lmtp(22587, e@example.com)",
        HeaderTag(None, "lmtp", None, "dovecot", None, None, "lmtp", "22587, e@example.com"),
        id="dovecot-2.2-native-two-args",
    ),
    pytest.param(
        "mx.example.com lmtp(22587, e@example.com)",
        HeaderTag(MX, "lmtp", None, "dovecot", None, None, "lmtp", "22587, e@example.com"),
        id="dovecot-2.2-two-args-with-host",
    ),
    pytest.param(
        "mx.example.com amavis[1234567]",
        HeaderTag(MX, "amavis", 1234567, "other", None, None, "amavis"),
        id="other",
    ),
]


@pytest.mark.parametrize(("hosttag", "tag"), TAG_CASES)
def test_parse_tag(hosttag: str, tag: HeaderTag) -> None:
    assert syslog.parse_tag(hosttag) == tag


def test_parse_tag_rejects_a_tag_with_spaces() -> None:
    assert syslog.parse_tag("mx.example.com some thing[1]") is None


# ---------------------------------------------------------------------------- long queue ids


def test_decode_long_queue_id_with_microseconds() -> None:
    assert syslog.decode_long_queue_id("44JCRG5tYPzCqt2") == datetime(
        2019, 3, 11, 22, 27, 54, 828953, tzinfo=UTC
    )


def test_decode_long_queue_id_seconds() -> None:
    when = syslog.decode_long_queue_id("48rT2v1hQrz1J0N")
    assert when is not None
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
    assert when.replace(microsecond=0) == datetime(2020, 3, 30, 10, 19, 19, tzinfo=UTC)


@pytest.mark.parametrize("qid", ["3F1A2B4C5D", "D0E3A41C6", "NOQUEUE", ""])
def test_decode_long_queue_id_of_short_ids_is_none(qid: str) -> None:
    assert syslog.decode_long_queue_id(qid) is None


# ---------------------------------------------------------------------------- year inference


@pytest.mark.parametrize("parser", PARSERS)
def test_year_rolls_over_at_new_year(parser: str) -> None:
    ctx = TimeContext("UTC", 2025)
    rows = run(parser, [qmgr("Dec 31 23:59:59"), qmgr("Jan  1 00:00:01")], ctx)
    assert [r["ts"] for r in rows] == [utc(2025, 12, 31, 23, 59, 59), utc(2026, 1, 1, 0, 0, 1)]
    assert (ctx.year, ctx.last_month) == (2026, 1)


@pytest.mark.parametrize("parser", PARSERS)
def test_feb_29_in_a_leap_year(parser: str) -> None:
    rows = run(parser, [qmgr("Feb 29 12:00:00")], TimeContext("UTC", 2024))
    assert rows[0]["ts"] == utc(2024, 2, 29, 12, 0, 0)


@pytest.mark.parametrize("parser", PARSERS)
def test_feb_29_in_a_common_year_gives_no_time(parser: str) -> None:
    lines = [qmgr("Feb 28 23:00:00"), qmgr("Feb 29 12:00:00"), qmgr("Mar  1 00:00:00")]
    rows = run(parser, lines, TimeContext("UTC", 2025))
    assert [r["ts"] for r in rows] == [utc(2025, 2, 28, 23, 0, 0), None, utc(2025, 3, 1, 0, 0, 0)]
    assert rows[1]["ts_raw"] == "Feb 29 12:00:00"
    assert rows[1]["program"] == "postfix/qmgr"


@pytest.mark.parametrize("parser", PARSERS)
def test_reordered_line_goes_back_a_year(parser: str) -> None:
    ctx = TimeContext("UTC", 2026)
    lines = [qmgr("Jan  1 00:00:01"), qmgr("Dec 31 23:59:58"), qmgr("Jan  1 00:00:02")]
    rows = run(parser, lines, ctx)
    assert [r["ts"] for r in rows] == [
        utc(2026, 1, 1, 0, 0, 1),
        utc(2025, 12, 31, 23, 59, 58),
        utc(2026, 1, 1, 0, 0, 2),
    ]
    assert ctx.year == 2026


@pytest.mark.parametrize("parser", PARSERS)
def test_year_context_carries_over_between_batches(parser: str) -> None:
    ctx = TimeContext("UTC", 2025)
    first = run(parser, [qmgr("Dec 30 10:00:00"), qmgr("Dec 31 23:59:59")], ctx)
    assert (ctx.year, ctx.last_month) == (2025, 12)
    second = run(parser, [qmgr("Jan  1 00:00:01"), qmgr("Jan  2 08:00:00")], ctx, first_line_no=3)
    assert [r["ts"] for r in first + second] == [
        utc(2025, 12, 30, 10, 0, 0),
        utc(2025, 12, 31, 23, 59, 59),
        utc(2026, 1, 1, 0, 0, 1),
        utc(2026, 1, 2, 8, 0, 0),
    ]
    assert [r["line_no"] for r in second] == [3, 4]
    assert (ctx.year, ctx.last_month) == (2026, 1)


def test_infer_start_year() -> None:
    anchor = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert syslog.infer_start_year(12, 20, anchor) == 2025
    assert syslog.infer_start_year(1, 2, anchor) == 2026
    assert syslog.infer_start_year(1, 5, anchor) == 2026


# ---------------------------------------------------------------------------- time zones


@pytest.mark.parametrize("parser", PARSERS)
def test_local_time_is_converted_to_utc(parser: str) -> None:
    ctx = TimeContext("Europe/Berlin", 2026)
    rows = run(parser, [qmgr("Jul  1 12:00:00")], ctx)
    assert rows[0]["ts"] == utc(2026, 7, 1, 10, 0, 0)  # CEST, +02:00
    rows = run(parser, [qmgr("Jan  1 12:00:00")], TimeContext("Europe/Berlin", 2026))
    assert rows[0]["ts"] == utc(2026, 1, 1, 11, 0, 0)  # CET, +01:00


@pytest.mark.parametrize("parser", PARSERS)
def test_ambiguous_autumn_hour_takes_the_earlier_offset(parser: str) -> None:
    # 2026-10-25 02:00-03:00 happens twice in Berlin; the first pass is still +02:00
    rows = run(parser, [qmgr("Oct 25 02:30:00")], TimeContext("Europe/Berlin", 2026))
    assert rows[0]["ts"] == utc(2026, 10, 25, 0, 30, 0)


@pytest.mark.parametrize("parser", PARSERS)
def test_rfc3339_stamps_ignore_the_context_zone(parser: str) -> None:
    ctx = TimeContext("Europe/Berlin", 2026)
    lines = [
        qmgr("2026-07-01T12:00:00Z"),
        qmgr("2026-07-01T12:00:00+01:00"),
        qmgr("2026-07-01T12:00:00.5-0130"),
        qmgr("2026-01-01T00:00:00.000001Z"),
    ]
    rows = run(parser, lines, ctx)
    assert [r["ts"] for r in rows] == [
        utc(2026, 7, 1, 12, 0, 0),
        utc(2026, 7, 1, 11, 0, 0),
        utc(2026, 7, 1, 13, 30, 0, 500000),
        utc(2026, 1, 1, 0, 0, 0, 1),
    ]
    assert (ctx.year, ctx.last_month) == (2026, None)  # dated stamps do not drive year inference


@pytest.mark.parametrize("parser", PARSERS)
def test_batch_mixing_bsd_and_rfc3339_stamps(parser: str) -> None:
    ctx = TimeContext("UTC", 2026)
    lines = [
        qmgr("Jul  1 12:00:00"),
        qmgr("2026-07-01T12:00:01+02:00"),
        "Jul  1 12:00:02 mx.example.com postfix/smtpd[123]: Read 6 chars: EHLO x",
    ]
    rows = run(parser, lines, ctx)
    assert [r["ts"] for r in rows] == [
        utc(2026, 7, 1, 12, 0, 0),
        utc(2026, 7, 1, 10, 0, 1),
        utc(2026, 7, 1, 12, 0, 2),
    ]


# ---------------------------------------------------------------------------- repeated messages


@pytest.mark.parametrize("parser", PARSERS)
def test_message_repeated_is_one_row_with_a_count(parser: str) -> None:
    line = (
        "Feb  3 11:57:42 mx.example.com postfix/smtpd[123]: message repeated 3 times: "
        "[ warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6]"
    )
    rows = run(parser, [line], TimeContext("UTC", 2026))
    assert len(rows) == 1
    row = rows[0]
    assert row["repeat"] == 3
    assert row["kind"] == "sasl_failed"
    assert row["client_ip"] == "192.0.2.7"
    assert row["sasl_method"] == "LOGIN"
    assert row["severity"] == "warning"
    assert row["ts"] == utc(2026, 2, 3, 11, 57, 42)


# ---------------------------------------------------------------------------- envelopes in the wild

CONNECT = "connect from unknown[192.0.2.7]"
DOVECOT_AUTH = "Info: passwd-file(alice@example.com,192.0.2.7): unknown user"
#: 0x65a1b2c3 = 1705095875 TAI64 seconds past 2^62; tai64nlocal subtracts 10 more
TAI = "@4000000065a1b2c31d2e3f40"
TAI_UTC = utc(2024, 1, 12, 21, 44, 25, 0x1D2E3F40 // 1000)

ENVELOPE_CASES = [
    # (line, ts, host, program, pid, kind); year-less stamps read in 2026, zone UTC
    pytest.param(
        f"Jan 1 00:00:00 host postfix/smtpd[1]: {CONNECT}",
        utc(2026, 1, 1, 0, 0, 0),
        "host",
        "postfix/smtpd",
        1,
        "connect",
        id="bsd-one-space-day",
    ),
    pytest.param(
        f"Jan 9 23:59:58.25 host postfix/smtpd[1]: {CONNECT}",
        utc(2026, 1, 9, 23, 59, 58, 250000),
        "host",
        "postfix/smtpd",
        1,
        "connect",
        id="bsd-one-space-day-fraction",
    ),
    pytest.param(
        f"{TAI} postfix/smtpd[1]: {CONNECT}", TAI_UTC, None, "postfix/smtpd", 1, "connect", id="tai64n-tag"
    ),
    pytest.param(
        f"{TAI} mx postfix/smtpd[1]: {CONNECT}", TAI_UTC, "mx", "postfix/smtpd", 1, "connect", id="tai64n-mx"
    ),
    pytest.param(
        f"{TAI} auth: {DOVECOT_AUTH}", TAI_UTC, None, "auth", None, "dovecot_auth", id="tai64n-dovecot-stderr"
    ),
    pytest.param(  # multilog around a syslog-formatted line: the line's own stamp counts
        f"{TAI} Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="tai64n-around-syslog",
    ),
    # Dovecot log_path with log_timestamp (dovecot/core src/lib/failures.c, failures.h:
    # default "%b %d %H:%M:%S ", "%{usecs}" written as six digits)
    pytest.param(
        f"Nov 27 10:00:05 auth: {DOVECOT_AUTH}",
        utc(2026, 11, 27, 10, 0, 5),
        None,
        "auth",
        None,
        "dovecot_auth",
        id="dovecot-default-stamp",
    ),
    pytest.param(
        f"Nov 27 10:00:05.123456 auth: {DOVECOT_AUTH}",
        utc(2026, 11, 27, 10, 0, 5, 123456),
        None,
        "auth",
        None,
        "dovecot_auth",
        id="dovecot-bsd-usecs",
    ),
    pytest.param(
        f"2026-11-27 10:00:05 auth: {DOVECOT_AUTH}",
        utc(2026, 11, 27, 10, 0, 5),
        None,
        "auth",
        None,
        "dovecot_auth",
        id="dovecot-dated",
    ),
    pytest.param(
        f"2026-11-27 10:00:05.000042 auth: {DOVECOT_AUTH}",
        utc(2026, 11, 27, 10, 0, 5, 42),
        None,
        "auth",
        None,
        "dovecot_auth",
        id="dovecot-dated-usecs",
    ),
    pytest.param(
        "2026-11-27T10:00:05+0100 imap-login: Info: Disconnected (no auth attempts in 0 secs): user=<>, "
        "rip=192.0.2.1, lip=192.0.2.2",
        utc(2026, 11, 27, 9, 0, 5),
        None,
        "imap-login",
        None,
        "dovecot_login",
        id="dovecot-iso-%z",
    ),
    pytest.param(  # 2.4: user, ip and mechanism in the process prefix
        "Nov 27 10:00:05.5 auth(alice@example.com,192.0.2.7,sasl:plain)<AbC+E95U>: Info: passwd-file: "
        "unknown user",
        utc(2026, 11, 27, 10, 0, 5, 500000),
        None,
        "auth",
        None,
        "dovecot_auth",
        id="dovecot-2.4-prefix-usecs",
    ),
    # docker compose logs (docker/compose cmd/formatter/logs.go): "%-<width>s | " coloured
    pytest.param(
        f"mailserver  | Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="compose",
    ),
    pytest.param(
        f"\x1b[36mmailserver-1  | \x1b[0mSep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="compose-ansi",
    ),
    pytest.param(  # compose v2.0: "%-<width>s |" coloured, then the space
        f"\x1b[33;1mmailserver_1  |\x1b[0m Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="compose-v2.0-ansi",
    ),
    pytest.param(  # docker logs --timestamps: RFC3339NanoFixed in front of the line
        f"2026-09-02T10:00:00.123456789Z Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="docker-timestamps",
    ),
    pytest.param(
        f"mailserver-1  | 2026-09-02T10:00:00.123456789Z Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="compose-timestamps",
    ),
    pytest.param(  # a container logging a bare tag: the docker stamp is the line's own
        f"2026-09-02T10:00:00.123456789Z postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0, 123456),
        None,
        "postfix/smtpd",
        1,
        "connect",
        id="docker-stamp-bare-tag",
    ),
    pytest.param(
        f"\x00\x00\x00Sep  2 10:00:00 mail postfix/smtpd[1]: {CONNECT}",
        utc(2026, 9, 2, 10, 0, 0),
        "mail",
        "postfix/smtpd",
        1,
        "connect",
        id="nul-run-before-the-line",
    ),
]


@pytest.mark.parametrize(("line", "ts", "host", "program", "pid", "kind"), ENVELOPE_CASES)
def test_envelopes_in_the_wild(
    line: str, ts: datetime, host: str | None, program: str, pid: int | None, kind: str
) -> None:
    fast, ref = (run(p, [line], TimeContext("UTC", 2026)) for p in ("fast", "reference"))
    assert fast == ref
    row = fast[0]
    assert (row["ts"], row["host"], row["program"], row["pid"], row["kind"]) == (ts, host, program, pid, kind)
    inner = syslog.unwrap(line)
    assert row["ts_raw"] == inner[: syslog.ts_length(inner)]  # the stamp the time came from, as written
    assert line.endswith(row["message"])  # the stored text is the line's own


def test_unwrap_keeps_what_is_not_a_wrapper() -> None:
    for line in (
        "2026-09-02T10:00:00Z mail postfix/qmgr[17]: 3F1A2B4C5D: removed",  # an RFC 3339 line itself
        f"{TAI} postfix/smtpd[1]: {CONNECT}",  # the stamp of a bare tag stays
        "Sep  2 10:00:00 mail postfix/smtpd[1]: a | b",
        "no wrapper | here",  # not a compose name: a space in it
    ):
        assert syslog.unwrap(line) == line
    assert syslog.unwrap("a\x00b\x00\x00c") == "abc"


def test_wrapped_lines_that_are_not_logs_stay_unparsed_with_their_text() -> None:
    lines = [
        "mailserver  | Starting supervisord",
        "\x1b[36mweb-1  | \x1b[0mGET / HTTP/1.1",
        "@40000000zzzzzzzzzzzzzzzz postfix/smtpd[1]: connect from x[192.0.2.1]",  # not hex
        f"{TAI[:-1]} postfix/smtpd[1]: {CONNECT}",  # 23 hex digits
    ]
    fast, ref = (run(p, lines, TimeContext("UTC", 2026)) for p in ("fast", "reference"))
    assert fast == ref
    assert [r["kind"] for r in fast] == ["unparsed"] * 4
    assert [r["message"] for r in fast] == lines
    assert all(r["ts"] is None for r in fast)


def test_tai64n_decodes_like_tai64nlocal() -> None:
    # tai64nlocal: secs -= 4611686018427387914 (2^62 + 10); nanoseconds kept
    assert syslog.tai64n_utc("@400000000000000a00000000") == utc(1970, 1, 1)
    assert syslog.tai64n_utc("@4000000000000000000003e8") == utc(1969, 12, 31, 23, 59, 50, 1)
    assert syslog.tai64n_utc(TAI) == TAI_UTC
    assert syslog.tai64n_utc("@400000000000000a3b9aca00") is None  # 10^9 ns is no fraction
    assert syslog.tai64n_utc("@8000000000000000000000000"[:25]) is None  # beyond year 2999
    assert syslog.tai64n_utc("@4000000065A1B2C31D2E3F40") is None  # multilog writes lower case


@pytest.mark.parametrize("parser", PARSERS)
def test_tai64n_rows_do_not_drive_year_inference(parser: str) -> None:
    ctx = TimeContext("UTC", 2025)
    rows = run(parser, [qmgr("Dec 31 23:59:59"), f"{TAI} postfix/qmgr[17]: 3F1A2B4C5D: removed"], ctx)
    assert [r["ts"] for r in rows] == [utc(2025, 12, 31, 23, 59, 59), TAI_UTC]
    assert (ctx.year, ctx.last_month) == (2025, 12)


@pytest.mark.parametrize(
    ("line", "month_day"),
    [
        ("Jan 1 00:00:00 h p: m", (1, 1)),
        ("mailserver  | Dec 24 10:00:00 h p: m", (12, 24)),
        ("2026-09-02T10:00:00.1Z Sep  2 10:00:00 h p: m", (9, 2)),
        ("\x00\x00Nov 27 19:08:30 h p: m", (11, 27)),
        ("2026-09-02T10:00:00Z h p: m", None),
        (f"{TAI} p: m", None),
    ],
)
def test_year_less_month_day_sees_through_wrappers(line: str, month_day: tuple[int, int] | None) -> None:
    assert syslog.year_less_month_day(line) == month_day
