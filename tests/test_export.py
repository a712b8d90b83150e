"""Export: formula-safe CSV, terminal-safe text, every table through the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from maillog_forensics.export import csv_safe, export_table, terminal_safe
from tests.corpus import REPO


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", '=HYPERLINK("http://x")'])
def test_csv_formula_prefixes_are_neutralised(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell


def test_terminal_safe_replaces_escapes_and_bidi() -> None:
    assert terminal_safe("a\x1b[2Jb\u202ec\x07") == "a?[2Jb?c?"
    assert terminal_safe("plain text") == "plain text"


def test_lists_are_joined_in_csv_and_kept_in_json() -> None:
    df = pd.DataFrame({"recipients": [["a@example.com", "=b@example.com"]], "n": [1]})
    out = io.StringIO()
    export_table(df, fmt="csv", stdout=out)
    assert out.getvalue().splitlines()[1] == "a@example.com; =b@example.com,1"
    out = io.StringIO()
    export_table(df, fmt="jsonl", stdout=out)
    assert json.loads(out.getvalue())["recipients"] == ["a@example.com", "=b@example.com"]


def test_parquet_needs_an_output_file() -> None:
    with pytest.raises(ValueError, match="-o FILE"):
        export_table(pd.DataFrame({"a": [1]}), fmt="parquet")


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ds = tmp_path_factory.mktemp("sample") / "ds"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "ingest",
            str(REPO / "data" / "sample" / "mail.log"),
            "-o",
            str(ds),
            "--tz",
            "UTC",
            "--year",
            "2026",
            "-q",
        ],
        check=True,
    )
    return ds


@pytest.mark.parametrize(
    ("table", "rows"), [("sessions", 162), ("messages", 14), ("deliveries", 22), ("attempts", 195)]
)
def test_export_tables_through_the_cli(sample_dataset: Path, tmp_path: Path, table: str, rows: int) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "export",
            table,
            str(sample_dataset),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(pd.read_csv(io.StringIO(res.stdout))) == rows
    out = tmp_path / f"{table}.parquet"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "export",
            table,
            str(sample_dataset),
            "--format",
            "parquet",
            "-o",
            str(out),
        ],
        check=True,
    )
    assert len(pd.read_parquet(out)) == rows


def test_summary_names_attackers_and_logins(sample_dataset: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "maillog_forensics.cli", "summary", str(sample_dataset)],
        capture_output=True,
        text=True,
        check=True,
    )
    out = res.stdout
    assert "authentication: 195 attempts from 39 addresses" in out
    assert "alice@lab.example from 127.0.0.66: 1  <- this address also failed logins" in out
    assert "logged credentials for 5 session(s)" in out
    assert "Spring2024!" not in out


def _cli(*args: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "maillog_forensics.cli", *args], capture_output=True, text=True, check=True
    )
    return res.stdout


def test_export_findings_and_a_window_through_the_cli(sample_dataset: Path) -> None:
    import maillog_forensics as mf
    from maillog_forensics.report import Case

    found = pd.read_json(io.StringIO(_cli("export", "findings", str(sample_dataset), "--format", "json")))
    assert set(found["kind"]) == set(Case(str(sample_dataset)).findings["kind"])
    assert "account_compromised" in set(found["kind"])
    # --start/--end: the sessions made of the events in that window, as the library gives them
    events = mf.load_events(sample_dataset)
    middle = events["ts"].sort_values().iloc[len(events) // 2]
    start = str(middle.tz_convert("UTC").tz_localize(None))
    got = pd.read_csv(io.StringIO(_cli("export", "sessions", str(sample_dataset), "--start", start)))
    want = mf.sessions_from_events(mf.load_events(sample_dataset, start=start))
    assert 0 < len(got) == len(want) < 162


def test_analysis_commands_refuse_a_folder_that_is_no_dataset(tmp_path: Path) -> None:
    for command in (["findings"], ["blocklist"], ["summary"], ["export", "sessions"]):
        res = subprocess.run(
            [sys.executable, "-m", "maillog_forensics.cli", *command, str(tmp_path)],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 2, command
        assert "is not a maillog-forensics dataset" in res.stderr
        assert "Traceback" not in res.stderr
