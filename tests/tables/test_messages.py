"""Message lifecycles and deliveries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import maillog_forensics as mf
from maillog_forensics.events.parse import TimeContext, parse_lines
from maillog_forensics.tables import messages, sessions
from maillog_forensics.tables.messages import deliveries_from_events, messages_from_events
from tests.corpus import corpus_path


def events(lines: list[str]) -> pd.DataFrame:
    batch = parse_lines(pl.Series(lines), source_file="t.log", first_line_no=1, ctx=TimeContext("UTC", 2026))
    return batch.table.to_pandas()


def L(s: int, tag: str, pid: int, text: str) -> str:
    return f"Nov 27 19:09:{s:02d} mail postfix/{tag}[{pid}]: {text}"


LIFECYCLE = [
    L(1, "submission/smtpd", 10, "connect from unknown[192.0.2.66]"),
    L(
        2,
        "submission/smtpd",
        10,
        "1A2B3C4D5E: client=unknown[192.0.2.66], sasl_method=LOGIN, sasl_username=alice@example.com",
    ),
    L(2, "cleanup", 11, "1A2B3C4D5E: message-id=<m1@example.com>"),
    L(2, "qmgr", 12, "1A2B3C4D5E: from=<alice@example.com>, size=1234, nrcpt=2 (queue active)"),
    L(
        3,
        "submission/smtpd",
        10,
        "disconnect from unknown[192.0.2.66] ehlo=1 auth=1 mail=1 rcpt=2 data=1 quit=1 commands=7",
    ),
    L(
        4,
        "smtp",
        13,
        "1A2B3C4D5E: to=<v1@example.net>, relay=mx.example.net[198.51.100.2]:25, delay=2, "
        "delays=0.1/0/1/0.9, dsn=2.0.0, status=sent (250 ok)",
    ),
    L(
        4,
        "smtp",
        13,
        "1A2B3C4D5E: to=<v2@example.org>, relay=none, delay=2, delays=0.1/0/1/0, dsn=5.1.1, "
        "status=bounced (host said: 550 no such user)",
    ),
    L(5, "bounce", 14, "1A2B3C4D5E: sender non-delivery notification: 9F8E7D6C5B"),
    L(5, "qmgr", 12, "1A2B3C4D5E: removed"),
    L(6, "pickup", 15, "1A2B3C4D5E: uid=0 from=<root>"),  # a reused short queue id: a new lifecycle
    L(7, "qmgr", 12, "1A2B3C4D5E: removed"),
]


def test_lifecycle_fields_and_queue_id_reuse() -> None:
    m = messages_from_events(events(LIFECYCLE))
    assert len(m) == 2
    first, second = m.to_dict("records")
    assert (first["client_ip"], first["sasl_username"], first["message_id"]) == (
        "192.0.2.66",
        "alice@example.com",
        "<m1@example.com>",
    )
    assert (first["sender"], first["size"], first["nrcpt"]) == ("alice@example.com", 1234, 2)
    assert first["recipients"] == ["v1@example.net", "v2@example.org"]
    assert (first["delivered"], first["bounced"], first["final_status"]) == (1, 1, "bounced")
    assert first["notifications"] == ["9F8E7D6C5B"] and pd.notna(first["session_id"])
    assert first["relays"] == ["mx.example.net[198.51.100.2]:25", "none"]
    assert second["sender"] == "root" and second["final_status"] == "removed" and pd.isna(second["client_ip"])


def test_deliveries_long_table() -> None:
    ev = events(LIFECYCLE)
    d = deliveries_from_events(ev)
    m = messages_from_events(ev)
    assert list(d["status"]) == ["sent", "bounced"] and list(d["line_no"]) == [6, 7]
    assert set(d["msg_uid"]) == {m.loc[0, "msg_uid"]}
    assert d.loc[0, "delay"] == 2.0 and d.loc[1, "dsn"] == "5.1.1"


@pytest.fixture(scope="module")
def helga(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    ds = tmp_path_factory.mktemp("helga") / "ds"
    mf.ingest([str(corpus_path("postfix-logsums-helga", "mail.log.gz"))], ds, tz="UTC")
    return mf.load_events(ds)


def test_helga_lifecycles(helga: pd.DataFrame) -> None:
    m = messages_from_events(helga)
    complete = m[m["message_id"].notna() & m["sender"].notna() & m["removed_at"].notna()]
    assert len(complete) == 365
    # amavis re-injection: the second queue id names the first, and the first exists
    reinjected = m[m["reinjection_of"].notna()]
    assert len(reinjected) > 150
    assert set(reinjected["reinjection_of"]) <= set(m["queue_id"])
    assert (m["final_status"] == "bounced").sum() == 1
    d = deliveries_from_events(helga)
    assert (d["status"] == "sent").sum() == 364
    assert m["session_id"].notna().sum() == (helga["kind"] == "client").sum() == 357
    assert set(m["session_id"].dropna()) <= set(mf.sessions_from_events(helga)["session_id"])


def test_lab_messages_sent_by_the_intruder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ds = tmp_path / "ds"
    mf.ingest([str(corpus_path("postfix-lab", "mail.syslog-traditional.log"))], ds, tz="UTC", year=2026)
    m = messages_from_events(mf.load_events(ds))
    alice = m[m["sasl_username"] == "alice@lab.example"]
    assert set(alice["client_ip"]) == {"127.0.0.66", "127.0.0.67", "127.0.0.68"}
    assert sum(len(r) for r in alice["recipients"]) == 13


def test_smtpd_lines_loaded_apart_give_the_same_messages(two_file_sample: Path) -> None:
    # the report loads the queue-id lines and the smtpd lines (placement columns) apart
    ds = two_file_sample
    whole = messages_from_events(mf.load_events(ds, columns=messages.EVENT_COLUMNS, rows=messages.EVENT_ROWS))
    queued = mf.load_events(ds, columns=messages.EVENT_COLUMNS, rows=messages.QUEUE_ROWS)
    smtpd = mf.load_events(ds, columns=sessions.PLACEMENT_COLUMNS, rows=messages.SMTPD_ROWS)
    assert len(queued) < len(whole) + len(smtpd)  # the point: fewer rows with all the columns
    apart = messages_from_events(queued, smtpd_lines=smtpd)
    pd.testing.assert_frame_equal(whole, apart)
    assert whole["session_id"].notna().sum() >= 3
    # without the smtpd lines a client= line alone is taken for a whole session: wrong ids
    alone = messages_from_events(queued)
    named = whole["session_id"].notna()
    assert (alone.loc[named, "session_id"] != whole.loc[named, "session_id"]).all()
