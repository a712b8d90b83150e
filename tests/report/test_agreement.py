"""One table behind every number: the report, summary.json and the commands agree.

Each log set is turned into a report; then the ``summary``, ``findings``, ``blocklist`` and
``export attempts`` commands are run on its dataset, and every count they print is checked
against ``summary.json``, and ``summary.json`` against the report's pages and the attempts
export (the table all of them are made of).
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from maillog_forensics.cli import main
from maillog_forensics.common.wording import counted
from maillog_forensics.report import run_report
from maillog_forensics.tables.auth import FAILED_OUTCOMES
from tests.corpus import REPO, corpus_path


def _sample() -> list[Path]:
    return [REPO / "data" / "sample" / "mail.log"]


def _lab() -> list[Path]:
    return [corpus_path("postfix-lab", "mail.postlogd.log"), corpus_path("postfix-lab", "dovecot.native.log")]


def _generated(tmp: Path) -> list[Path]:
    out = tmp / "generated.log"
    script = REPO / "scripts" / "gen_benchlog.py"
    command = [sys.executable, str(script), "--lines", "30000", "--seed", "7", "-o", str(out)]
    subprocess.run(command, check=True)
    return [out]


@pytest.fixture(scope="module", params=["sample", "lab", "generated"])
def reported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp(request.param)
    logs = {"sample": _sample, "lab": _lab}.get(request.param)
    paths = logs() if logs is not None else _generated(tmp)
    out = tmp / "report"
    results = run_report([str(p) for p in paths], str(out), tz="UTC", year=2026, quiet=True)
    assert [r.error for r in results] == [None] * len(results)
    return out


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each HTML table of a report page: its headings and its rows of cell texts."""
    out = []
    for table in re.findall(r"<table class=[\"']mf-table[^>]*>(.*?)</table>", page, re.S):
        heads = [html.unescape(h) for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table, re.S)]
        rows = [
            [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        ]
        out.append((heads, [r for r in rows if r]))
    return out


def _table_with(page: str, heading: str) -> tuple[list[str], list[list[str]]]:
    found = [t for t in _tables(page) if heading in t[0]]
    if found:
        return found[0]
    return [], []  # the page said "none": no such table


def test_the_summary_command_prints_the_numbers_of_summary_json(
    reported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = json.loads((reported / "summary.json").read_text())
    text = _run(capsys, "summary", str(reported / "dataset"))
    assert f"{summary['events']:,} events" in text
    if summary["attempts"] == 0:
        assert "no attempts in the logs" in text
        return
    head = re.search(r"authentication: ([\d,]+) attempts from [\d,]+ addresses: (.*)", text)
    assert head is not None, text
    assert int(head.group(1).replace(",", "")) == summary["attempts"]
    printed = {k: int(v.replace(",", "")) for k, v in re.findall(r"(\w+) ([\d,]+)", head.group(2))}
    assert printed == summary["attempts_by_outcome"]
    failed = f"{summary['failed_logins']:,} failed login"
    assert failed in text
    if summary["attacking_addresses"]:
        assert counted(summary["attacking_addresses"], "address") in text
    succeeded = summary["attempts_by_outcome"].get("succeeded", 0)
    assert f"; {succeeded:,} successful" in text


def test_the_findings_and_blocklist_commands_list_what_summary_json_lists(
    reported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = json.loads((reported / "summary.json").read_text())
    text = _run(capsys, "findings", str(reported / "dataset"), "--min-severity", "info")
    kinds = Counter(re.findall(r"^\[[A-Z ]{8}\] (\w+): ", text, re.M))
    assert dict(kinds) == summary["findings_by_kind"]
    assert sum(kinds.values()) == len(summary["findings"])
    blocked = _run(capsys, "blocklist", str(reported / "dataset")).split()
    assert blocked == summary["blocklist"]


def test_summary_json_counts_are_the_attempts_export(
    reported: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    summary = json.loads((reported / "summary.json").read_text())
    out = tmp_path / "attempts.csv"
    _run(capsys, "export", "attempts", str(reported / "dataset"), "--format", "csv", "-o", str(out))
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["attempts"]
    assert dict(Counter(r["outcome"] for r in rows)) == summary["attempts_by_outcome"]
    failed = [r for r in rows if r["outcome"] in FAILED_OUTCOMES]
    assert len(failed) == summary["failed_logins"]
    assert summary["server_errors"] == sum(r["outcome"] == "server_error" for r in rows)
    compromised = {f["subject_username"] for f in summary["findings"] if f["kind"] == "account_compromised"}
    assert sorted(compromised) == summary["compromised_accounts"]


def test_the_report_pages_show_the_numbers_of_summary_json(reported: Path, tmp_path: Path) -> None:
    summary = json.loads((reported / "summary.json").read_text())
    page = (reported / "incident_report.html").read_text()
    # the findings table: one row per finding of at least the report's severity (low)
    heads, rows = _table_with(page, "what the logs show")
    listed = [f for f in summary["findings"] if f["severity"] != "info"]
    assert len(rows) == len(listed)
    assert Counter(r[heads.index("finding")].rsplit(" (", 1)[1].rstrip(")") for r in rows) == Counter(
        f["kind"] for f in listed
    )
    # who attacked: one row per actor, and an address's failed logins are its attempts'
    heads, rows = _table_with(page, "what it did")
    assert len(rows) == summary["attackers"]
    export = tmp_path / "attempts.csv"
    assert main(["export", "attempts", str(reported / "dataset"), "--format", "csv", "-o", str(export)]) == 0
    with open(export, newline="") as fh:
        failed = Counter(r["client_ip"] for r in csv.DictReader(fh) if r["outcome"] in FAILED_OUTCOMES)
    total = 0
    for row in rows:
        n = int(row[heads.index("failed logins")].replace(",", ""))
        total += n
        actor = row[heads.index("actor")]
        if actor in failed:  # an address (a network's count is the sum of its own addresses)
            assert n == failed[actor], actor
    assert total <= summary["failed_logins"]
    # the verdict and the index say the same numbers
    index = (reported / "index.html").read_text()
    if summary["compromised_accounts"]:
        n = len(summary["compromised_accounts"])
        taken = f"YES: {counted(n, 'account')} {'was' if n == 1 else 'were'} taken over"
        assert taken in page and taken in index
    if summary["failed_logins"]:
        sentence = f"{summary['failed_logins']:,} failed login"
        assert sentence in page and index.count(sentence) == 1  # said once, not twice
