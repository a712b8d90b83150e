"""Reports: the notebook runs on the sample, the answer comes first, log text is escaped."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from maillog_forensics.report import run_report
from tests.corpus import REPO


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    results = run_report(
        [str(REPO / "data" / "sample" / "mail.log")], str(out), tz="UTC", year=2026, quiet=True
    )
    assert [r.error for r in results] == [None]
    return out


def test_summary_and_html(sample_report: Path) -> None:
    summary = json.loads((sample_report / "summary.json").read_text())
    assert summary["compromised_accounts"] == ["alice@lab.example"]
    assert summary["attempts"] == 195 and summary["attempts_by_outcome"]["succeeded"] == 5
    assert "127.0.1.0/24" in summary["blocklist"] and "127.0.0.10" not in summary["blocklist"]
    html = (sample_report / "incident_report.html").read_text()
    assert html.index("Was any account compromised?") < html.index("Findings, most severe first")
    assert "YES: 1 account(s) were taken over: alice@lab.example." in html
    assert "import pandas" not in html  # no code cells in the exported report
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert pngs and len(base64.b64decode(pngs[0])) > 10_000  # the timeline figure, with content
    assert 'href="incident_report.html"' in (sample_report / "index.html").read_text()
    assert (
        "Spring2024!" not in html
        and "Spring2024!" not in (sample_report / "incident_report.ipynb").read_text()
    )


def test_attacker_text_is_escaped(tmp_path: Path) -> None:
    evil = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "javascript:alert(3)",
        '=HYPERLINK("http://example.com")',
    ]
    lines = []
    for k, user in enumerate(evil):
        ip = f"192.0.2.{10 + k}"
        lines += [
            f"Nov 27 10:00:0{k} mail postfix/smtpd[{100 + k}]: connect from unknown[{ip}]",
            f"Nov 27 10:00:0{k} mail postfix/smtpd[{100 + k}]: warning: unknown[{ip}]: "
            f"SASL LOGIN authentication failed: (reason unavailable), sasl_username={user}",
        ] * 6
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    results = run_report([str(log)], str(out), tz="UTC", year=2026, quiet=True)
    assert [r.error for r in results] == [None]
    html = (out / "incident_report.html").read_text()
    assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "javascript:alert(3)" not in re.findall(r'href="([^"]*)"', html)
