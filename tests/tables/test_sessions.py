"""smtpd sessions: boundaries, PID reuse, interleaving, truncation, real logs, ground truth."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import maillog_forensics as mf
from maillog_forensics.events.parse import TimeContext, parse_lines
from maillog_forensics.events.schema import COUNTER_COMMANDS
from maillog_forensics.tables import sessions
from maillog_forensics.tables.sessions import group_numbers, sessions_from_events, text_column, value_codes
from tests.corpus import corpus_path, jsonl


def events(lines: list[str]) -> pd.DataFrame:
    """Parse lines straight into an events frame like load_events returns."""
    batch = parse_lines(pl.Series(lines), source_file="t.log", first_line_no=1, ctx=TimeContext("UTC", 2026))
    return batch.table.to_pandas()


H = "Nov 27 19:08:{s:02d} mail postfix/{tag}[{pid}]: "


def line(s: int, pid: int, text: str, tag: str = "smtpd") -> str:
    return H.format(s=s, tag=tag, pid=pid) + text


def test_pid_reuse_and_interleaving() -> None:
    ev = events(
        [
            line(1, 100, "connect from unknown[192.0.2.1]"),
            line(1, 200, "connect from a.example.net[198.51.100.7]"),
            line(2, 100, "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"),
            line(2, 100, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 commands=1/2"),
            line(3, 100, "connect from unknown[192.0.2.2]"),  # same pid, next client
            line(4, 200, "disconnect from a.example.net[198.51.100.7] ehlo=1 quit=1 commands=2"),
            line(5, 100, "lost connection after AUTH from unknown[192.0.2.2]"),
            line(5, 100, "disconnect from unknown[192.0.2.2] ehlo=1 auth=0/1 commands=1/2"),
        ]
    )
    s = sessions_from_events(events_frame := ev)
    assert len(s) == 3 and len(events_frame) == 8
    by_ip = s.set_index("client_ip")
    assert by_ip.loc["192.0.2.1", "auth_failures"] == 1 and by_ip.loc["192.0.2.1", "n_lines"] == 3
    assert (
        by_ip.loc["192.0.2.2", "lost_after"] == "AUTH"
        and by_ip.loc["192.0.2.2", "end_reason"] == "lost connection"
    )
    assert by_ip.loc["198.51.100.7", "end_reason"] == "quit" and by_ip.loc["198.51.100.7", "quit_total"] == 1
    assert by_ip.loc["198.51.100.7", "commands_ok"] == 2 and by_ip.loc["198.51.100.7", "commands_total"] == 2
    assert s["session_id"].is_unique and not s["truncated_start"].any() and not s["truncated_end"].any()
    assert list(s["service"].unique()) == ["smtp"]
    assert str(s["auth_total"].dtype) == "Int32" and str(s["pid"].dtype) == "Int32"


def test_truncated_sessions_are_kept_and_flagged() -> None:
    ev = events(
        [
            line(1, 100, "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: "),
            line(2, 100, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 commands=1/2"),
            line(3, 300, "connect from unknown[192.0.2.3]"),
            line(
                4,
                300,
                "Anonymous TLS connection established from unknown[192.0.2.3]: TLSv1.3 with cipher "
                "TLS_AES_256_GCM_SHA384 (256/256 bits)",
            ),
        ]
    )
    s = sessions_from_events(ev).set_index("client_ip")
    assert s.loc["192.0.2.1", "truncated_start"] and not s.loc["192.0.2.1", "truncated_end"]
    assert s.loc["192.0.2.3", "truncated_end"] and s.loc["192.0.2.3", "end_reason"] == "log ends"
    assert s.loc["192.0.2.3", "tls_protocol"] == "TLSv1.3"


def test_address_from_another_line_and_pre_connect_lines() -> None:
    ev = events(
        [
            line(1, 100, "initializing the server-side TLS engine", tag="submission/smtpd"),
            line(
                1,
                100,
                "warning: hostname x.example.com does not resolve to address 192.0.2.9",
                tag="submission/smtpd",
            ),
            line(1, 100, "connect from unknown[192.0.2.9]", tag="submission/smtpd"),
            line(2, 100, "warning: unknown[]: SASL PLAIN authentication failed: ", tag="submission/smtpd"),
            line(
                3,
                100,
                "disconnect from unknown[192.0.2.9] ehlo=1 auth=0/1 commands=1/2",
                tag="submission/smtpd",
            ),
        ]
    )
    (s,) = sessions_from_events(ev).to_dict("records")
    assert (s["client_ip"], s["service"], s["n_lines"], s["auth_failures"]) == (
        "192.0.2.9",
        "submission",
        5,
        1,
    )
    assert not s["truncated_start"] and s["first_line"] == "t.log:1" and s["last_line"] == "t.log:5"


def test_smtpd_v_start_up_and_idle_lines_are_no_session() -> None:
    # master.cf "smtps ... smtpd -v" (the e2e's debug configuration, Postfix 3.5-3.10): the
    # first -v lines come under the default syslog_name "postfix/smtpd", before the service's
    # "-o syslog_name=postfix/smtps" applies; after the disconnect the process logs its idle
    # wait until it exits. Neither names a client: neither is a session
    ev = events(
        [
            line(1, 100, "name_mask: ipv4"),
            line(1, 100, "inet_addr_local: configured 2 IPv4 addresses"),
            line(1, 100, "process generation: 17 (17)", tag="smtps/smtpd"),
            line(1, 100, "dict_open: regexp:{{/^[^A-Z]/ Bogus}}", tag="smtps/smtpd"),
            line(2, 100, "connect from unknown[192.0.2.7]", tag="smtps/smtpd"),
            line(
                3,
                100,
                "disconnect from unknown[192.0.2.7] ehlo=1 auth=1 quit=1 commands=3",
                tag="smtps/smtpd",
            ),
            line(3, 100, "master_notify: status 1", tag="smtps/smtpd"),
            line(3, 100, "connection closed", tag="smtps/smtpd"),
            line(9, 100, "idle timeout -- exiting", tag="smtps/smtpd"),
        ]
    )
    s = sessions_from_events(ev)
    assert list(zip(s["client_ip"], s["service"], s["n_lines"], strict=True)) == [("192.0.2.7", "smtps", 4)]
    # but a run that says something (a SASL failure of "unknown[]") is a session cut off by the log
    cut = sessions_from_events(
        events(
            [line(1, 200, "warning: unknown[]: SASL PLAIN authentication failed: ", tag="submission/smtpd")]
        )
    )
    assert list(cut["n_lines"]) == [1] and bool(cut["truncated_start"].item())
    # it began when the client connected, not when the process started
    assert s["start"].item() == pd.Timestamp("2026-11-27 19:08:02", tz="UTC")
    assert s["first_line"].item() == "t.log:3"


def test_silent_successful_login() -> None:
    ev = events(
        [
            line(1, 100, "connect from unknown[192.0.2.5]"),
            line(2, 100, "disconnect from unknown[192.0.2.5] ehlo=1 auth=1 quit=1 commands=3"),
            line(3, 100, "connect from unknown[192.0.2.6]"),
            line(
                4, 100, "4F00A1: client=unknown[192.0.2.6], sasl_method=PLAIN, sasl_username=bob@example.com"
            ),
            line(
                5,
                100,
                "disconnect from unknown[192.0.2.6] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6",
            ),
        ]
    )
    s = sessions_from_events(ev).set_index("client_ip")
    assert s.loc["192.0.2.5", "silent_auth"] and not s.loc["192.0.2.6", "silent_auth"]
    assert s.loc["192.0.2.6", "auth_success_user"] == "bob@example.com"
    assert s.loc["192.0.2.6", "queue_ids"] == ["4F00A1"]


def test_postscreen_verdict_is_linked() -> None:
    ev = events(
        [
            line(1, 50, "CONNECT from [192.0.2.8]:40000 to [203.0.113.1]:25", tag="postscreen"),
            line(1, 50, "PASS NEW [192.0.2.8]:40000", tag="postscreen"),
            line(2, 100, "connect from unknown[192.0.2.8]"),
            line(3, 100, "disconnect from unknown[192.0.2.8] ehlo=1 quit=1 commands=2"),
        ]
    )
    (s,) = sessions_from_events(ev).to_dict("records")
    assert s["postscreen_verdict"] == "PASS NEW"


# --- real logs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helga(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    ds = tmp_path_factory.mktemp("helga") / "ds"
    mf.ingest([str(corpus_path("postfix-logsums-helga", "mail.log.gz"))], ds, tz="UTC")
    return mf.load_events(ds)


def test_helga_sessions_count_and_counter_consistency(helga: pd.DataFrame) -> None:
    s = sessions_from_events(helga)
    assert len(s) == 5341
    assert not s["truncated_start"].any() and not s["truncated_end"].any()
    # every disconnect's counters agree with the session's own lines
    queued = s["queue_ids"].map(len)
    assert (queued <= s["mail_ok"].fillna(0)).all()
    assert (s["auth_failures"] <= (s["auth_total"] - s["auth_ok"]).fillna(0)).all()
    assert s["auth_success_user"].notna().sum() == 16 == (s["auth_ok"].fillna(0) > 0).sum()
    lost = s[s["end_reason"] == "lost connection"]
    for cmd in COUNTER_COMMANDS:
        after = lost[lost["lost_after"].str.lower() == cmd]
        assert (after[f"{cmd}_total"].fillna(0) >= 1).all(), cmd
    assert set(s["service"]) == {"smtp", "submission", "10025"}


def _lab_ground_truth(phase: str) -> list[dict]:
    rows = list(jsonl(corpus_path("postfix-lab", f"ground-truth.{phase}.jsonl")))
    conns = {r["conn_id"]: dict(r) for r in rows if r["event"] == "connect"}
    for r in rows:
        if r["event"] == "disconnect":
            conns[r["conn_id"]].update(how=r["how"], stats=r["expected_postfix_stats"])
    return sorted(conns.values(), key=lambda r: r["epoch"])


@pytest.mark.parametrize(
    ("log", "phase"), [("mail.syslog-traditional.log", "syslog"), ("mail.postlogd.log", "postlogd")]
)
def test_lab_every_scripted_connection_is_one_session(tmp_path: Path, log: str, phase: str) -> None:
    ds = tmp_path / "ds"
    mf.ingest([str(corpus_path("postfix-lab", log))], ds, tz="UTC", year=2026)
    ev = mf.load_events(ds)
    s = sessions_from_events(ev)
    truth = _lab_ground_truth(phase)
    assert len(s) == len(truth)
    disconnect_text = ev.loc[ev["kind"] == "disconnect"].set_index("line_no")["message"]
    outcome = {"quit": "quit", "too many errors": "server_closed"}
    ours: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in s.sort_values("start", kind="stable").to_dict("records"):
        ours[(rec["client_ip"], rec["service"])].append(rec)
    theirs: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for t in truth:
        theirs[(t["src_ip"], t["service"])].append(t)
    assert sorted(ours) == sorted(theirs)
    for key, conns in theirs.items():
        mine = ours[key]
        assert len(mine) == len(conns), key
        for t, m in zip(conns, mine, strict=True):
            stats = disconnect_text[int(m["last_line"].rsplit(":", 1)[1])].split("] ", 1)[1]
            assert stats == t["stats"], (key, json.dumps(t)[:200])
            assert outcome.get(m["end_reason"], "abort") == t["how"], (key, m["end_reason"], t["how"])
            assert abs(m["start"].timestamp() - t["epoch"]) < 3


def test_stray_line_of_another_client_is_not_merged_into_the_next_session() -> None:
    ev = events(
        [
            line(1, 100, "connect from unknown[192.0.2.1]"),
            line(2, 100, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/2 commands=1/3"),
            line(
                2, 100, "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
            ),  # reordered
            line(5, 100, "connect from unknown[198.51.100.4]"),
            line(
                6,
                100,
                "4F00B2: client=unknown[198.51.100.4], sasl_method=PLAIN, sasl_username=bob@example.com",
            ),
            line(
                7,
                100,
                "disconnect from unknown[198.51.100.4] ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6",
            ),
        ]
    )
    s = sessions_from_events(ev)
    bob = s[s["client_ip"] == "198.51.100.4"].iloc[0]
    assert bob["auth_failures"] == 0 and bob["n_lines"] == 3
    stray = s[s["truncated_start"]]
    assert list(stray["client_ip"]) == ["192.0.2.1"] and stray["auth_failures"].item() == 1


def test_group_numbers_are_groupby_ngroup() -> None:
    """The integer-code numbering the sessioniser sorts by is groupby's (NA a value of its own)."""
    frame = pd.DataFrame(
        {
            "host": pd.Categorical(["b", "a", "b", None, "a", "b"]),
            "service": pd.array([None, "smtp", "smtp", "submission", None, None], dtype="str"),
            "pid": pd.array([7, 7, 7, None, 9, 7], dtype="Int32"),
        }
    )
    expected = frame.groupby(["host", "service", "pid"], dropna=False, observed=True, sort=False).ngroup()
    got = group_numbers([value_codes(frame[c].array) for c in ["host", "service", "pid"]])
    assert got.tolist() == expected.tolist()
    # a missing service counts as "smtp" (port-25 smtpd): rows 0, 2 and 5 are one process
    filled = group_numbers([value_codes(frame["host"].array), value_codes(frame["service"].array, na="smtp")])
    assert filled[0] == filled[2] == filled[5] and filled[1] == filled[4]


def test_text_column_is_what_pandas_infers() -> None:
    for values in (["a", None, "b"], [None, None], []):
        python = pd.DataFrame({"x": pd.Series(values, dtype=object).fillna(np.nan).to_numpy()})
        arrow = pd.DataFrame({"x": text_column(pa.array(values, pa.large_string()))})
        pd.testing.assert_frame_equal(arrow, python)


@pytest.mark.parametrize("windowed", [False, True])
def test_counters_loaded_apart_give_the_same_sessions(two_file_sample: Path, windowed: bool) -> None:
    # the report loads the disconnect counters apart (sessions.LINE_COLUMNS + DISCONNECT_*):
    # over two input files and in a window that cuts sessions, the result is the same
    ds = two_file_sample
    window: dict[str, object] = {}
    if windowed:
        ts = mf.load_events(ds, columns=["ts"])["ts"].dropna().sort_values()
        window = {"start": ts.iloc[len(ts) // 3], "end": ts.iloc[2 * len(ts) // 3]}
    whole = sessions_from_events(
        mf.load_events(ds, columns=sessions.EVENT_COLUMNS, rows=sessions.EVENT_ROWS, **window)
    )
    lines_only = mf.load_events(ds, columns=sessions.LINE_COLUMNS, rows=sessions.EVENT_ROWS, **window)
    disconnects = mf.load_events(
        ds, columns=sessions.DISCONNECT_COLUMNS, rows=sessions.DISCONNECT_ROWS, **window
    )
    assert set(sessions.COUNTER_COLUMNS).isdisjoint(lines_only.columns)
    apart = sessions_from_events(lines_only, disconnects=disconnects)
    pd.testing.assert_frame_equal(whole, apart)
    counted = whole["commands_total"].notna()
    assert counted.sum() >= 5 and (~counted).any() == windowed  # a window cuts some disconnects off
    # a disconnect line missing from the counters leaves that session's counters empty
    fewer = sessions_from_events(lines_only, disconnects=disconnects.iloc[1:])
    gone = fewer["commands_total"].isna() & counted
    assert gone.sum() == 1
    pd.testing.assert_frame_equal(fewer[~gone], whole[~gone])
