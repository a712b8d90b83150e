"""Export: formula-safe CSV, terminal-safe text, every table through the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillog_forensics.report.export import csv_safe, export_pieces, export_table, terminal_safe
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
    assert "logged credentials for 5 sessions" in out
    assert "Spring2024!" not in out
    # pflogsumm's Grand Totals of the sample (as summary.json["mail_flow"] has them)
    assert (
        "mail flow (pflogsumm's grand totals): received 14, delivered 22, forwarded 0, deferred 0, "
        "bounced 0, rejected 6, reject warnings 0, held 0, discarded 0"
    ) in out
    assert "bytes received 7,230, bytes delivered 11,029" in out
    assert "senders 9 from 4 hosts/domains; recipients 16 at 4 hosts/domains" in out


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


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet"])
def test_export_pieces_write_what_export_table_writes_for_the_whole(tmp_path: Path, fmt: str) -> None:
    from maillog_forensics.report.export import export_pieces

    whole = pd.DataFrame(
        {
            "n": pd.array([1, None, 3, 4, 5], dtype="Int32"),
            "text": ["=cmd()", "plain", None, "+x", "é"],
            "kind": pd.Categorical(["a", "b", "a", "c", "b"]),
            "ts": pd.to_datetime(["2026-01-01T00:00:00Z"] * 5, utc=True),
        }
    )
    # each piece has its own categories, as iter_events gives them
    pieces = [whole.iloc[:2].reset_index(drop=True), whole.iloc[2:].reset_index(drop=True)]
    pieces = [p.assign(kind=p["kind"].astype(str).astype("category")) for p in pieces]
    # the first piece's categorical has no category at all (every value missing)
    pieces[0] = pieces[0].assign(kind=pd.Categorical([None, None]))
    whole = whole.assign(kind=pd.Categorical([None, None, "a", "c", "b"]))
    one, many = tmp_path / f"one.{fmt}", tmp_path / f"many.{fmt}"
    export_table(whole, fmt=fmt, out=str(one))
    assert export_pieces(iter(pieces), fmt=fmt, out=str(many)) == len(whole)
    if fmt == "parquet":
        # what pandas itself writes and reads back: the same values and dtypes (Int32 stays Int32)
        plain = tmp_path / "pandas.parquet"
        whole.to_parquet(plain, index=False)
        for written in (many, one):
            got, want = pd.read_parquet(written), pd.read_parquet(plain)
            pd.testing.assert_frame_equal(got, want, check_categorical=False)
            assert isinstance(got["kind"].dtype, pd.CategoricalDtype)
    else:
        assert many.read_text() == one.read_text()
    if fmt == "json":
        assert json.loads(many.read_text())[0]["text"] == "=cmd()"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_pieces_of_nothing_is_a_valid_empty_table(tmp_path: Path, fmt: str) -> None:
    from maillog_forensics.report.export import export_pieces

    out = tmp_path / f"empty.{fmt}"
    assert export_pieces(iter([]), fmt=fmt, out=str(out)) == 0
    if fmt == "json":
        assert json.loads(out.read_text()) == []


def test_export_of_no_event_still_names_the_columns(sample_dataset: Path, tmp_path: Path) -> None:
    out = _cli("export", "events", str(sample_dataset), "--kind", "no_such_kind", "--format", "csv")
    assert out.splitlines()[0].startswith("ts,") or "line_no" in out.splitlines()[0]
    assert len(out.splitlines()) == 1
    target = tmp_path / "none.parquet"
    _cli(
        "export",
        "events",
        str(sample_dataset),
        "--kind",
        "no_such_kind",
        "--format",
        "parquet",
        "-o",
        str(target),
    )
    back = pd.read_parquet(target)
    assert len(back) == 0 and "line_no" in back.columns and len(back.columns) > 50


def test_tables_without_sessions_say_a_cluster_is_not_used(sample_dataset: Path) -> None:
    # no scheduler listens there: nothing may try to connect
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "maillog_forensics.cli",
            "export",
            "messages",
            str(sample_dataset),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "computed on this machine" in res.stderr
    assert len(pd.read_csv(io.StringIO(res.stdout))) == 14


def test_export_events_through_the_cli_streams_every_row(sample_dataset: Path, tmp_path: Path) -> None:
    import maillog_forensics as mf

    events = mf.load_events(sample_dataset)
    got = pd.read_csv(io.StringIO(_cli("export", "events", str(sample_dataset), "--format", "csv")))
    assert len(got) == len(events)
    assert got["line_no"].tolist() == events["line_no"].tolist()
    out = tmp_path / "events.parquet"
    _cli("export", "events", str(sample_dataset), "--format", "parquet", "-o", str(out))
    back = pd.read_parquet(out)
    assert len(back) == len(events)
    assert (back["kind"].astype(str).to_numpy() == events["kind"].astype(str).to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=12)),
            st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62)),
            st.one_of(st.none(), st.sampled_from(["connect", '"q"', "\u2028", "é😀", "del\x7f"])),
        ),
        max_size=30,
    )
)
def test_sparse_json_lines_are_the_records_without_their_empty_fields(
    rows: list[tuple[str | None, int | None, str | None]],
) -> None:
    df = pd.DataFrame(
        {
            "text": pd.array([r[0] for r in rows], dtype="string"),
            "n": pd.array([r[1] for r in rows], dtype="Int64"),
            "kind": pd.Categorical([r[2] for r in rows]),
        }
    )
    out = io.StringIO()
    export_pieces([df], fmt="jsonl", stdout=out, skip_nulls=True)
    text = out.getvalue()
    assert text.isascii()
    assert "\x7f" not in text  # escaped, as json.dumps does
    got = [json.loads(line) for line in text.splitlines()]
    want = [{k: v for k, v in zip(("text", "n", "kind"), r, strict=True) if v is not None} for r in rows]
    assert got == want


def test_csv_of_pieces_has_one_header_when_the_first_piece_is_empty() -> None:
    df = pd.DataFrame({"a": ["x", "y"], "n": [1, 2]})
    out = io.StringIO()
    assert export_pieces([df.iloc[:0], df, df.iloc[:0], df], fmt="csv", stdout=out) == 4
    assert out.getvalue().splitlines() == ["a,n", "x,1", "y,2", "x,1", "y,2"]


def test_sparse_json_of_many_or_no_columns_falls_back_to_the_plain_writer() -> None:
    wide = pd.DataFrame({f"c{i}": pd.array([i, None], dtype="Int64") for i in range(70)})
    out = io.StringIO()
    export_pieces([wide], fmt="jsonl", stdout=out, skip_nulls=True)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {f"c{i}": i for i in range(70)} and second == {}
    out = io.StringIO()
    export_pieces([pd.DataFrame(index=range(2))], fmt="jsonl", stdout=out, skip_nulls=True)  # no error
    assert all(json.loads(line) == {} for line in out.getvalue().splitlines())


#: cells an attacker puts in a log line (a user name, a subject), as they reach a table
HOSTILE_CELLS = [
    "\r=2+2",
    "x\r=2+2",
    "\n=cmd|' /C calc'!A0",
    "x\n@SUM(A1)",
    "  =1+1",
    "\t=1+1",
    "\r\n -2+3",
    " \r+1",
    '=HYPERLINK("http://evil.example")',
    "fine",
    'a,b"c',
]


def _formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: a formula start, also after leading white space."""
    return [c for row in rows for c in row if c.lstrip()[:1] in ("=", "+", "-", "@")]


@pytest.mark.parametrize("to", ["file", "stream"])
def test_csv_read_back_has_every_cell_whole_and_no_formula(tmp_path: Path, to: str) -> None:
    import csv

    df = pd.DataFrame({"user": HOSTILE_CELLS, "n": range(len(HOSTILE_CELLS))})
    if to == "file":
        export_table(df, fmt="csv", out=str(tmp_path / "t.csv"))
        text = (tmp_path / "t.csv").read_bytes().decode("utf-8")
    else:
        buf = io.StringIO()
        export_table(df, fmt="csv", stdout=buf)
        text = buf.getvalue()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["user", "n"] and len(rows) == 1 + len(HOSTILE_CELLS)  # no row split by a CR or LF
    assert [r[1] for r in rows[1:]] == [str(n) for n in range(len(HOSTILE_CELLS))]
    assert _formula_cells(rows[1:]) == []
    # the text is kept (in a file, control characters too): only the quote was added
    assert [r[0].removeprefix("'") for r in rows[1:]] == HOSTILE_CELLS
    assert pd.read_csv(io.StringIO(text))["user"].str.removeprefix("'").tolist() == HOSTILE_CELLS


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_csv_for_a_terminal_has_no_control_characters_but_a_file_keeps_them(tmp_path: Path) -> None:
    import csv

    cells = [
        "\x1b]0;owned\x07title",
        "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
        "nul\x00",
        "\u202eexe",
        "\x9b31m",
    ]
    df = pd.DataFrame({"user": cells})
    term = _Terminal()
    export_table(df, fmt="csv", stdout=term)
    shown = term.getvalue()
    assert not [ch for ch in shown if ch not in "\r\n" and (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F)]
    assert "\u202e" not in shown and "title" in shown and "link" in shown
    export_table(df, fmt="csv", out=str(tmp_path / "t.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_bytes().decode("utf-8"), newline="")))
    assert [r[0] for r in rows[1:]] == cells  # evidence files keep every byte


def test_export_cli_csv_of_hostile_events_reads_back_without_formulas(tmp_path: Path) -> None:
    import csv
    import subprocess
    import sys

    import maillog_forensics as mf

    lines = [
        f"Nov 27 19:08:3{i} mail postfix/smtpd[1]: warning: unknown[192.0.2.2]: SASL LOGIN authentication "
        f"failed: x, sasl_username={user}"
        for i, user in enumerate(["\r=2+2", " =1+1", "\x0b@SUM(A1)", "-3+4"])
    ]
    log = tmp_path / "mail.log"
    log.write_bytes(("\n".join(lines) + "\n").encode())
    mf.ingest([str(log)], tmp_path / "ds", tz="UTC", year=2026)
    for table in ("events", "attempts"):
        res = subprocess.run(
            [sys.executable, "-m", "maillog_forensics.cli", "export", table, str(tmp_path / "ds")],
            capture_output=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        rows = list(csv.reader(io.StringIO(res.stdout.decode(), newline="")))
        width = len(rows[0])
        assert all(len(r) == width for r in rows)  # no row split inside a cell
        assert _formula_cells(rows) == []
