"""The Timesketch-ready timeline: rows of lines and of findings, and its export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.cli import main
from maillog_forensics.events.store import read_manifest
from maillog_forensics.report.export import export_pieces
from maillog_forensics.report.timeline import (
    TIMELINE_COLUMNS,
    file_hashes_from_manifest,
    timeline_from_events,
    timeline_from_findings,
    undated_evidence,
)
from tests.corpus import REPO

SAMPLE = REPO / "data" / "sample" / "mail.log"


def _events(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, object] = {
        "ts": pd.to_datetime(["2026-02-03 11:57:42.25"] * n, utc=True),
        "source_file": ["mail.log"] * n,
        "line_no": list(range(1, n + 1)),
        "host": ["mx"] * n,
        "program": ["postfix/smtpd"] * n,
        "pid": pd.array([42] * n, dtype="Int32"),
        "message": ["connect from unknown[192.0.2.1]"] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_a_line_becomes_its_syslog_text_with_utc_time_and_provenance() -> None:
    ev = _events(kind=["connect"], client_ip=["192.0.2.1"])
    row = timeline_from_events(ev, file_hashes={"mail.log": "ab" * 32}).iloc[0]
    assert row["message"] == "mx postfix/smtpd[42]: connect from unknown[192.0.2.1]"
    assert row["datetime"] == "2026-02-03T11:57:42.250000+00:00"
    assert row["timestamp"] == int(pd.Timestamp("2026-02-03 11:57:42.25", tz="UTC").value // 1000)
    assert row["timestamp_desc"] == "Log Entry Written"
    assert row["data_type"] == "maillog:line"
    assert (row["kind"], row["client_ip"]) == ("connect", "192.0.2.1")
    assert (row["source_file"], row["line_no"], row["source_sha256"]) == ("mail.log", 1, "ab" * 32)


def test_times_in_another_zone_are_written_in_utc() -> None:
    ev = _events(ts=[pd.Timestamp("2026-02-03 12:57:42", tz="Europe/Berlin")])
    assert timeline_from_events(ev).iloc[0]["datetime"] == "2026-02-03T11:57:42.000000+00:00"


@pytest.mark.parametrize(
    ("host", "program", "pid", "text"),
    [
        ("mx", "postfix/smtpd", 42, "mx postfix/smtpd[42]: m"),
        ("mx", "dovecot", None, "mx dovecot: m"),
        (None, "postfix/smtpd", 42, "postfix/smtpd[42]: m"),
        ("mx", None, None, "mx: m"),
        (None, None, None, "m"),
    ],
)
def test_the_text_leaves_out_the_parts_a_line_lacks(
    host: str | None, program: str | None, pid: int | None, text: str
) -> None:
    ev = _events(host=[host], program=[program], pid=pd.array([pid], dtype="Int32"), message=["m"])
    assert timeline_from_events(ev).iloc[0]["message"] == text


def test_undated_lines_are_left_out_and_columns_are_fixed() -> None:
    ev = _events(ts=pd.to_datetime(["2026-02-03 11:57:42", None], utc=True), message=["a", "b"])
    out = timeline_from_events(ev)
    assert list(out.columns) == list(TIMELINE_COLUMNS)
    assert out["line_no"].tolist() == [1]
    assert out["message"].str.endswith(": a").all()


def _finding(**over: object) -> dict[str, object]:
    f: dict[str, object] = {
        "finding_id": "f1",
        "kind": "brute_force_ip",
        "severity": "high",
        "confidence": "high",
        "subject_ip": "192.0.2.9",
        "subject_network": None,
        "subject_username": None,
        "first_seen": pd.Timestamp("2026-02-03 10:00", tz="UTC"),
        "last_seen": pd.Timestamp("2026-02-03 11:00", tz="UTC"),
        "count": 120,
        "summary": "192.0.2.9 made 120 failed logins",
        "evidence": [{"source_file": "mail.log", "line_no": n} for n in range(1, 121)],
        "action": "Block 192.0.2.9.",
    }
    f.update(over)
    return f


def test_a_finding_is_placed_at_its_first_and_last_sighting() -> None:
    out = timeline_from_findings(pd.DataFrame([_finding()]), evidence_limit=3)
    assert out["timestamp_desc"].tolist() == ["Finding First Seen", "Finding Last Seen"]
    assert out["datetime"].tolist() == [
        "2026-02-03T10:00:00.000000+00:00",
        "2026-02-03T11:00:00.000000+00:00",
    ]
    row = out.iloc[0]
    assert row["message"] == "[high] 192.0.2.9 made 120 failed logins"
    assert (row["data_type"], row["kind"], row["subject_ip"], row["count"]) == (
        "maillog:finding",
        "brute_force_ip",
        "192.0.2.9",
        120,
    )
    assert row["evidence"] == "mail.log:1; mail.log:2; mail.log:3; … 117 more"
    assert row["evidence_count"] == 120


def test_a_finding_seen_once_has_one_row_and_an_undated_one_none() -> None:
    once = _finding(last_seen=pd.Timestamp("2026-02-03 10:00", tz="UTC"))
    undated = _finding(finding_id="f2", first_seen=pd.NaT, last_seen=pd.NaT)
    last_only = _finding(finding_id="f3", first_seen=pd.NaT)
    out = timeline_from_findings(pd.DataFrame([once, undated, last_only]))
    assert out["finding_id"].tolist() == ["f1", "f3"]
    assert out["datetime"].tolist()[1] == "2026-02-03T11:00:00.000000+00:00"
    assert list(out.columns) == list(TIMELINE_COLUMNS)


def test_no_findings_give_an_empty_timeline_with_the_columns() -> None:
    out = timeline_from_findings(pd.DataFrame(columns=list(_finding())))
    assert out.empty and list(out.columns) == list(TIMELINE_COLUMNS)


def test_pieces_of_lines_and_findings_share_one_parquet_schema(tmp_path: Path) -> None:
    # the first piece has every finding column empty, the second every line column
    pieces = [
        timeline_from_events(_events(kind=["connect"])),
        timeline_from_findings(pd.DataFrame([_finding()])),
    ]
    out = tmp_path / "t.parquet"
    assert export_pieces(pieces, fmt="parquet", out=str(out)) == 3
    back = pd.read_parquet(out)
    assert back["data_type"].tolist() == ["maillog:line", "maillog:finding", "maillog:finding"]
    assert back["evidence_count"].tolist()[1:] == [120, 120]


def test_attacker_text_is_neutralised_in_csv() -> None:
    ev = _events(sasl_username=['=HYPERLINK("http://x")'], kind=["sasl_failed"])
    buf = io.StringIO()
    export_pieces([timeline_from_events(ev)], fmt="csv", stdout=buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    assert back["sasl_username"].iloc[0] == '\'=HYPERLINK("http://x")'


@pytest.fixture(scope="module")
def dataset_with_an_undated_line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timeline")
    log = folder / "mail.log"
    log.write_text(SAMPLE.read_text() + "this line has no time stamp\n")
    ds = folder / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    return ds


def test_export_timeline_is_timesketch_jsonl_of_every_dated_line_and_finding(
    dataset_with_an_undated_line: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = dataset_with_an_undated_line
    out = tmp_path / "timeline.jsonl"
    assert main(["export", "timeline", str(ds), "-o", str(out)]) == 0
    assert "1 lines without a time stamp" in capsys.readouterr().err

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    events = mf.load_events(ds)
    findings = mf.findings(events)
    lines = [r for r in rows if r["data_type"] == "maillog:line"]
    found = [r for r in rows if r["data_type"] == "maillog:finding"]
    assert len(lines) == int(events["ts"].notna().sum()) == len(events) - 1
    # every finding, the settings ones (no time of their own) at their evidence lines' times
    assert {r["finding_id"] for r in found} == set(findings["finding_id"])
    assert any(r["kind"] == "config_tls_loglevel" for r in found)
    # Timesketch's mandatory fields on every row; no empty field written
    assert all(r["message"] and r["datetime"] and r["timestamp_desc"] for r in rows)
    assert all(v is not None for r in rows for v in r.values())
    # provenance: file, line and the file's hash, as the manifest has it
    hashes = file_hashes_from_manifest(read_manifest(ds))
    assert all(hashes[r["source_file"]] == r["source_sha256"] for r in lines)
    assert sorted(r["line_no"] for r in lines) == sorted(events["line_no"][events["ts"].notna()])


def test_the_timeline_never_holds_a_password_found_in_the_logs(
    dataset_with_an_undated_line: Path, tmp_path: Path
) -> None:
    secrets = mf.load_secrets(dataset_with_an_undated_line)["secret"]
    assert len(secrets) > 0  # the sample logs AUTH PLAIN at TLS log level 4
    out = tmp_path / "timeline.jsonl"
    assert main(["export", "timeline", str(dataset_with_an_undated_line), "-o", str(out)]) == 0
    text = out.read_text()
    assert not [s for s in secrets if len(s) >= 4 and json.dumps(s)[1:-1] in text]


def test_a_settings_finding_is_placed_at_the_times_of_its_evidence() -> None:
    refs = [{"source_file": "mail.log", "line_no": n} for n in (7, 3, 9)]
    config = _finding(kind="config_tls_loglevel", first_seen=pd.NaT, last_seen=pd.NaT, evidence=refs)
    wanted = undated_evidence(pd.DataFrame([config, _finding(finding_id="dated")]))
    assert wanted == {("mail.log", 7), ("mail.log", 3), ("mail.log", 9)}
    times = {
        ("mail.log", 7): pd.Timestamp("2026-02-03 09:00", tz="UTC"),
        ("mail.log", 3): pd.Timestamp("2026-02-03 08:00", tz="UTC"),
    }  # line 9 has no time stamp
    out = timeline_from_findings(pd.DataFrame([config]), evidence_times=times)
    assert out["datetime"].tolist() == [
        "2026-02-03T08:00:00.000000+00:00",
        "2026-02-03T09:00:00.000000+00:00",
    ]
    assert out["kind"].tolist() == ["config_tls_loglevel"] * 2
    assert timeline_from_findings(pd.DataFrame([config]), evidence_times={}).empty


def test_each_name_gets_the_hash_of_the_file_that_holds_its_lines() -> None:
    manifest = {
        "inputs": [
            {"path": "mail.log.1", "sha256": "a" * 64, "source_files": ["mail.log", "mail.log.1"]},
            {"path": "mail.log", "sha256": "b" * 64, "source_files": ["mail.log#2"]},
        ]
    }
    assert file_hashes_from_manifest(manifest) == {
        "mail.log": "a" * 64,
        "mail.log.1": "a" * 64,
        "mail.log#2": "b" * 64,
    }
    # a name two files share (older datasets) cannot say which file a line is in
    shared = {"inputs": [{"path": "x", "sha256": "a" * 64}, {"path": "x", "sha256": "b" * 64}]}
    assert file_hashes_from_manifest(shared) == {}
