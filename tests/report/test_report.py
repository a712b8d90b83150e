"""Reports: every notebook runs on the sample, the answer comes first, log text is escaped."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maillog_forensics.report import DEFAULT_NOTEBOOKS, run_report
from tests.corpus import REPO


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    sample = str(REPO / "data" / "sample" / "mail.log")
    results = run_report([sample], str(out), tz="UTC", year=2026, quiet=True)
    assert [(r.name, r.error) for r in results] == [(n, None) for n in DEFAULT_NOTEBOOKS]
    return out


def pngs_of(html: str) -> list[bytes]:
    return [base64.b64decode(p) for p in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"summary.json is not strict JSON: {name}")


def test_summary_and_incident_report(sample_report: Path) -> None:
    summary = json.loads((sample_report / "summary.json").read_text(), parse_constant=_no_constant)
    assert summary["compromised_accounts"] == ["alice@lab.example"]
    assert summary["attempts"] == 195 and summary["attempts_by_outcome"]["succeeded"] == 5
    assert "127.0.1.0/24" in summary["blocklist"] and "127.0.0.10" not in summary["blocklist"]
    html = (sample_report / "incident_report.html").read_text()
    assert html.index("Was any account compromised?") < html.index("Findings, most severe first")
    assert "YES: 1 account was taken over: alice@lab.example." in html
    index = (sample_report / "index.html").read_text()
    # the index opens with the verdict and the same numbers as summary.json
    assert index.index("YES: 1 account was taken over: alice@lab.example.") < index.index("<ul>")
    sentence = summary["failed_logins_sentence"]
    assert sentence.startswith(f"{summary['failed_logins']:,} failed logins (10 refused")
    assert sentence.endswith(f"from {summary['attacking_addresses']:,} addresses") and sentence in index
    assert summary["verdict"] == "YES: 1 account was taken over: alice@lab.example."
    assert ">Incident report: was an account taken over, who attacked, what to do</a>" in index
    assert "import pandas" not in html  # no code cells in the exported report
    for name in DEFAULT_NOTEBOOKS:
        text = (sample_report / f"{name}.ipynb").read_text() + (sample_report / f"{name}.html").read_text()
        assert "Spring2024!" not in text  # the lab's planted password


@pytest.mark.parametrize(
    ("name", "figures"),
    [
        ("incident_report", 1),
        ("attack_timeline", 2),
        ("username_guesses", 1),
        ("mail_flow", 3),
        ("ingest_quality", 2),
    ],
)
def test_every_notebook_has_its_figures(sample_report: Path, name: str, figures: int) -> None:
    html = (sample_report / f"{name}.html").read_text()
    pngs = pngs_of(html)
    assert len(pngs) == figures and all(len(p) > 5_000 for p in pngs)
    # each figure says in words what it shows (its titles and axes), for readers who cannot see it
    imgs = re.findall(r"<img [^>]*>", html)
    alts = [m.group(1) for m in (re.search(r'alt="([^"]*)"', i) for i in imgs) if m]
    assert len(alts) == figures and all(len(a) > 10 and not a.endswith("against ") for a in alts), alts
    assert "No description has been provided" not in html
    assert "Traceback" not in html
    assert f'href="{name}.html"' in (sample_report / "index.html").read_text()


def _cells(html_text: str) -> list[list[str]]:
    """The rows of every table of an exported page, cell texts unescaped."""
    import html as html_lib

    rows = re.findall(r"<tr>(.*?)</tr>", html_text, flags=re.S)
    return [
        [html_lib.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S)] for r in rows
    ]


def test_mail_flow_page_summary_and_index_agree(sample_report: Path) -> None:
    """The mail-flow numbers are pflogsumm's Grand Totals of the sample (checked against
    pflogsumm itself in tests/tables/mail_flow), the same on the page, in summary.json, in
    the incident report and in index.html."""
    flow = json.loads((sample_report / "summary.json").read_text())["mail_flow"]
    assert {k: flow[k] for k in ("received", "delivered", "rejected", "bytes_received", "recipients")} == {
        "received": 14,
        "delivered": 22,
        "rejected": 6,
        "bytes_received": 7230,
        "recipients": 16,
    }
    assert flow["counted_like_pflogsumm"]["received"] == 14 and flow["smtpd"]["connections"] == 162
    page = (sample_report / "mail_flow.html").read_text()
    totals = {r[0]: r[1] for r in _cells(page) if len(r) == 2}
    assert totals["received"] == "14" and totals["rejected"] == "6" and totals["bytes delivered"] == "11029"
    assert totals["recipient hosts/domains"] == str(flow["recipient_hosts"])
    assert ["RCPT", "Relay access denied", "relay denied", "2"] in _cells(page)
    # the compromised account's mail after the takeover, split from the users' own
    accounts = [r for r in _cells(page) if len(r) == 12 and r[0] == "alice@lab.example"]
    assert [r[1] for r in accounts] == ["after"]
    sentence = (
        "Mail flow: 14 messages received, 22 delivered, 0 deferred, 0 bounced, 6 rejected (21%) in 1 day."
    )
    assert sentence in page and sentence in (sample_report / "incident_report.html").read_text()
    index = (sample_report / "index.html").read_text()
    assert sentence in index and "href='mail_flow.html'" in index
    assert index.index("YES: 1 account") < index.index(sentence)


def incident_report_of_usernames(
    tmp_path: Path, usernames: list[str], *, mechanism: str, network: str, hour: int
) -> Path:
    """Run incident_report on a log where each user name fails six logins from its own address."""
    lines = []
    for k, user in enumerate(usernames):
        ip, pid = f"{network}.{10 + k}", 100 * (hour - 9) + k
        lines += [
            f"Nov 27 {hour}:00:0{k} mail postfix/smtpd[{pid}]: connect from unknown[{ip}]",
            f"Nov 27 {hour}:00:0{k} mail postfix/smtpd[{pid}]: warning: unknown[{ip}]: "
            f"SASL {mechanism} authentication failed: (reason unavailable), sasl_username={user}",
        ] * 6
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    results = run_report(
        [str(log)], str(out), tz="UTC", year=2026, quiet=True, notebooks=("incident_report",)
    )
    assert [r.error for r in results] == [None]
    return out


def test_attacker_text_is_escaped(tmp_path: Path) -> None:
    evil = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "javascript:alert(3)",
        '=HYPERLINK("http://example.com")',
    ]
    out = incident_report_of_usernames(tmp_path, evil, mechanism="LOGIN", network="192.0.2", hour=10)
    html = (out / "incident_report.html").read_text()
    assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "javascript:alert(3)" not in re.findall(r'href="([^"]*)"', html)


def test_a_failing_notebook_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    sample = str(REPO / "data" / "sample" / "mail.log")
    results = run_report(
        [sample],
        str(tmp_path),
        tz="UTC",
        year=2026,
        quiet=True,
        notebooks=("incident_report", "attack_timeline"),
        parameters={"top_addresses": "not a number"},
    )
    by_name = {r.name: r for r in results}
    assert by_name["incident_report"].error is None
    assert by_name["attack_timeline"].error is not None and "cell" in by_name["attack_timeline"].error
    assert "failed" in (tmp_path / "index.html").read_text()


def browser_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after headless Chromium loaded it (fails in CI without chromium)."""
    import os
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def test_no_script_runs_in_a_real_browser(tmp_path: Path) -> None:
    """Headless Chromium loads the report built from a log full of HTML/JS payloads."""
    payloads = [
        "<script>document.body.setAttribute('data-pwned','script')</script>",
        "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">",
        "<svg/onload=document.body.setAttribute('data-pwned','svg')>",
    ]
    out = incident_report_of_usernames(tmp_path, payloads, mechanism="PLAIN", network="198.51.100", hour=11)
    dom = browser_dom(out / "incident_report.html", tmp_path / "profile")
    assert "Was any account compromised?" in dom  # the page did load
    assert (
        "document.body.setAttribute(&#39;data-pwned&#39;" in dom
        or "document.body.setAttribute('data-pwned'" in dom
    )
    assert not re.search(r"<body[^>]*data-pwned", dom), "a planted script ran"


def test_the_sample_report_reads_as_a_report_in_a_real_browser(sample_report: Path, tmp_path: Path) -> None:
    html = (sample_report / "incident_report.html").read_text()
    # nothing from the network, no script at all, and a policy that forbids both
    assert "<script" not in html and not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    dom = browser_dom(sample_report / "incident_report.html", tmp_path / "profile")
    text = re.sub(r"<[^>]+>", " ", dom)
    # the verdict first, then the findings; no raw pandas text
    assert text.index("YES: 1 account was taken over") < text.index("Findings, most severe first")
    for raw in ("NaT", "NaN", "0 days ", "+00:00", "…"):
        assert raw not in text, raw
    # tables for people: no index column, plain kind names with the code beside, zone in headings
    heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", dom)
    assert heads and all(not h.startswith('<th style="text-align:left"></th>') for h in heads)
    assert "Account taken over (account_compromised)" in text
    assert "takeover login (UTC)" in text and "2026-11-27 19:09:50" in text
    # the messages the intruder sent, with their Message-IDs
    assert "&lt;syslog-b-compromise-0147." in dom and "victim1@example.com" in dom
    # what to do: resets before the blocklist, each setting once
    todo = next(p for p in re.findall(r"<pre[^>]*>(.*?)</pre>", dom, re.S) if "Reset these passwords" in p)
    assert todo.index("1. Reset these passwords now") < todo.index("2. Block ") < todo.index("3. Change")
    assert "Set smtpd_tls_loglevel = 1." not in todo  # the longer advice says it in full


def test_the_evidence_appendix_quotes_each_findings_lines_as_stored(sample_report: Path) -> None:
    import html as html_lib

    from maillog_forensics.events.store import load_secrets

    page = (sample_report / "incident_report.html").read_text()
    appendix = page[page.index("The log lines behind each finding") :]
    table = re.search(r"<table.*?</table>", appendix, re.S)
    assert table is not None
    rows = [
        [html_lib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    ]
    rows = [r for r in rows if r]  # the header row has no <td>
    original = (REPO / "data" / "sample" / "mail.log").read_text().split("\n")
    findings = {r[0].split(":")[0] for r in rows}
    assert {"Account taken over", "Passwords written to the logs", "User name enumeration"} <= findings
    redacted = 0
    for finding, nth, when, ref, line in rows:
        file, _, number = ref.rpartition(":")
        assert file == str(REPO / "data" / "sample" / "mail.log"), ref
        assert re.fullmatch(r"\d+ of \d+ quoted", nth), nth
        source = original[int(number) - 1]
        assert source.startswith("Nov 27 ") and when == "2026-11-27 " + source[7:15], (ref, when)
        if "<redacted" in line:  # the stored line: the same up to the credential ingest took out
            redacted += 1
            head = line[: line.index("<redacted")]
            assert source.startswith(head) and source != line, (finding, ref)
        else:
            assert line == source, (finding, ref)
    # the credential leak is shown by its dialogue lines, with the credentials out
    assert redacted >= 1
    for secret in load_secrets(sample_report / "dataset")["secret"]:
        if len(secret) >= 6:
            assert secret not in page


def test_hostile_user_names_are_inert_in_a_real_browser(tmp_path: Path) -> None:
    names = [
        "$\\href{https://evil.example/reset}{\\Huge\\text{CLICK TO RESET PASSWORD}}$",
        "$\\color{red}{\\text{NOT COMPROMISED}}$",
        "$\\frac{$",
        "admin\u202egnp.exe",
        "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    ]
    out = incident_report_of_usernames(tmp_path, names, mechanism="LOGIN", network="203.0.113", hour=12)
    dom = browser_dom(out / "incident_report.html", tmp_path / "profile")
    assert "Was any account compromised?" in dom
    assert "evil.example" not in " ".join(re.findall(r'(?:href|src)="([^"]*)"', dom))
    assert "CLICK TO RESET PASSWORD" in dom and "<mjx-container" not in dom and "MathJax" not in dom
    assert "\u202e" not in dom and "admin\\u202egnp.exe" in dom  # the override shown, not obeyed
    assert "\x1b" not in dom and "\x07" not in dom


def test_time_window_and_valid_users_parameters(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("# real accounts\nalice@lab.example\nbob@lab.example\n")
    sample = str(REPO / "data" / "sample" / "mail.log")
    out = tmp_path / "out"
    results = run_report(
        [sample],
        str(out),
        tz="UTC",
        year=2026,
        quiet=True,
        notebooks=("incident_report", "username_guesses"),
        parameters={
            "start": "2026-11-27 19:08:00",
            "end": "2026-11-27 19:08:40",
            "valid_users_file": str(users),
        },
    )
    assert [r.error for r in results] == [None, None]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["compromised_accounts"] == [] and 0 < summary["attempts"] < 195  # the takeover came later
    html = (out / "username_guesses.html").read_text()
    assert "in valid users file" in html


def test_notebook_ingests_its_logs_and_takes_thresholds(tmp_path: Path) -> None:
    import jupytext
    import papermill as pm

    nb = jupytext.read(REPO / "notebooks" / "incident_report.py")
    params = {
        "dataset": str(tmp_path / "ds"),  # does not exist: the notebook ingests `logs` into it
        "logs": [str(REPO / "data" / "sample" / "mail.log")],
        "output_dir": str(tmp_path),
        "thresholds": {"brute_force_min_failures": 19},
    }
    pm.execute_notebook(
        nb, str(tmp_path / "out.ipynb"), parameters=params, kernel_name="python3", progress_bar=False
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    # only 127.0.0.2 made 19 failed logins or more (20; its 8 server errors are not guesses)
    assert summary["findings_by_kind"]["brute_force_ip"] == 1
    assert summary["compromised_accounts"] == ["alice@lab.example"]


def test_command_line_parameters_are_typed_by_what_the_notebooks_declare() -> None:
    from maillog_forensics.report import notebook_parameters, parameters_from_text

    declared = notebook_parameters()
    assert declared["top_addresses"] == "int" and declared["thresholds"] == "dict"
    assert declared["start"] == "str" and declared["interactive"] == "bool"
    typed = parameters_from_text(
        [
            ("top_addresses", "20"),
            ("thresholds", '{"brute_force_min_failures": 10}'),
            ("reveal_passwords", "false"),
            ("start", "2026"),
        ],
        declared,
    )
    assert typed == {
        "top_addresses": 20,
        "thresholds": {"brute_force_min_failures": 10},
        "reveal_passwords": False,
        "start": "2026",
    }
    for bad in ([("top_adresses", "5")], [("top_addresses", "many")], [("thresholds", "[1]")]):
        with pytest.raises(ValueError, match="parameter"):
            parameters_from_text(bad, declared)


def test_report_command_rejects_a_bad_parameter_before_ingesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maillog_forensics.cli import main

    out = tmp_path / "r"
    code = main(
        ["report", str(REPO / "data" / "sample" / "mail.log"), "-o", str(out), "-p", "top_adresses", "5"]
    )
    assert code == 2 and not out.exists()
    assert "unknown parameter 'top_adresses'" in capsys.readouterr().err


def test_attack_rates_agree_with_the_attempts(sample_report: Path) -> None:
    import pandas as pd

    from maillog_forensics.report import analyse, attack_rates
    from maillog_forensics.tables.auth import FAILED_OUTCOMES

    case = analyse(str(sample_report / "dataset"))
    rates = attack_rates(case)
    assert {"brute_force_ip", "brute_force_network"} <= set(rates["kind"])
    assert not any("hour" in c for c in rates.columns)  # no extrapolation of short attacks
    failed = case.attempts[case.attempts["outcome"].isin(list(FAILED_OUTCOMES))]
    ts = pd.to_datetime(failed["ts"], utc=True)
    for r in rates[rates["kind"] == "brute_force_ip"].to_dict("records"):
        start, end = r["start (UTC)"], r["end (UTC)"]
        n = int(((failed["client_ip"] == r["source"]) & (ts >= start) & (ts <= end)).sum())
        assert r["failed logins"] == n > 0
        assert r["duration"] == end - start
        assert 1 <= r["active minutes"] <= n
        assert r["per active minute (mean)"] == round(n / r["active minutes"], 1)
        assert r["per active minute (mean)"] <= r["per minute (peak)"] <= n
    net = rates[rates["kind"] == "brute_force_network"].iloc[0]
    assert net["failed logins"] >= net["per minute (peak)"] >= net["per active minute (mean)"] > 0


@given(st.lists(st.integers(min_value=0, max_value=10**13), max_size=200))
def test_the_peak_minute_is_never_below_the_mean(times: list[int]) -> None:
    from maillog_forensics.report.attackers import per_minute_rates

    peak, mean = per_minute_rates(np.sort(np.array(times, dtype=np.int64)))
    assert peak >= mean >= (1 if times else 0)
    assert peak <= len(times)


def _attack_rates_by_scanning(case: Any) -> Any:
    """Every finding scans every failed attempt (the first implementation's way): the oracle."""
    import pandas as pd

    from maillog_forensics.detection.detect import network_of
    from maillog_forensics.report import ATTACK_KINDS
    from maillog_forensics.tables.auth import FAILED_OUTCOMES

    f = case.findings[case.findings["kind"].isin(ATTACK_KINDS)]
    failed = case.attempts[case.attempts["outcome"].isin(list(FAILED_OUTCOMES))]
    ts, ips = failed["ts"], failed["client_ip"]
    minute = ts.dt.floor("min")
    # a network finding stands for its addresses without a finding of their own
    address_kinds = [
        "account_compromised",
        "brute_force_ip",
        "password_spray",
        "username_enumeration",
        "auth_failures",
    ]
    own = set(case.findings.loc[case.findings["kind"].isin(address_kinds), "subject_ip"].dropna().astype(str))
    succeeded = set(case.attempts.loc[case.attempts["outcome"] == "succeeded", "client_ip"].dropna())
    network = ips.map(
        {ip: network_of(ip) for ip in ips.dropna().unique() if ip not in own and ip not in succeeded}
    )
    rows = []
    for r in f.itertuples(index=False):
        if isinstance(r.subject_ip, str):
            mine, subject = ips == r.subject_ip, r.subject_ip
        else:
            subject = str(r.subject_network)
            mine = network == subject
        first, last = pd.Timestamp(r.first_seen), pd.Timestamp(r.last_seen)
        mine = mine & ts.between(first, last)
        n = int(mine.sum())
        per_minute = minute[mine].value_counts()
        peak = int(per_minute.max()) if n else 0
        mean = round(float(per_minute.mean()), 1) if n else 0.0
        rows.append([r.kind, subject, n, len(per_minute), peak, mean])
    return rows


@pytest.mark.parametrize("source", ["sample", "generated"])
def test_attack_rates_equal_scanning_every_attempt(sample_report: Path, tmp_path: Path, source: str) -> None:
    import maillog_forensics as mf
    from maillog_forensics.report import analyse, attack_rates
    from tests.events.test_dask_ingest import generated

    if source == "sample":
        dataset = str(sample_report / "dataset")
    else:
        log = generated(tmp_path / "mail.log", lines=40000, start="2026-03-01T23:20:00", mtime=1772582400)
        dataset = str(tmp_path / "ds")
        mf.ingest([str(log)], dataset, tz="UTC")
    case = analyse(dataset)
    rates = attack_rates(case)
    cols = [
        "kind",
        "source",
        "failed logins",
        "active minutes",
        "per minute (peak)",
        "per active minute (mean)",
    ]
    got = rates[cols].to_numpy().tolist()
    want = _attack_rates_by_scanning(case)
    assert got == want
    assert len(want) > 3 and sum(r[2] for r in want) > 100


@pytest.mark.parametrize(
    "logs",
    [
        ("data/sample/mail.log",),
        ("corpus:postfix-lab/mail.postlogd.log", "corpus:postfix-lab/dovecot.native.log"),
        ("corpus:postfix-logsums-helga/mail.log.gz",),
    ],
)
def test_analysis_columns_give_the_same_tables_as_the_full_frame(
    tmp_path: Path, logs: tuple[str, ...]
) -> None:
    import pandas as pd

    import maillog_forensics as mf
    from maillog_forensics.detection.detect import findings
    from maillog_forensics.events.store import load_secrets
    from maillog_forensics.report import ANALYSIS_COLUMNS
    from maillog_forensics.tables.auth import auth_attempts_from_events
    from tests.corpus import corpus_path

    paths = [
        str(corpus_path(*p.removeprefix("corpus:").split("/"))) if p.startswith("corpus:") else str(REPO / p)
        for p in logs
    ]
    ds = tmp_path / "ds"
    mf.ingest(paths, ds, tz="UTC", year=2026)
    full = mf.load_events(ds)
    slim = mf.load_events(ds, columns=ANALYSIS_COLUMNS)
    assert "message" not in slim.columns and "ts_raw" not in slim.columns
    assert slim.memory_usage(deep=True).sum() < 0.85 * full.memory_usage(deep=True).sum()

    def tables(ev: pd.DataFrame) -> list[pd.DataFrame]:
        s = mf.sessions_from_events(ev)
        key = mf.load_or_create_key(ds)
        a = auth_attempts_from_events(ev, sessions=s, secrets=load_secrets(ds), hmac_key=key)
        m = mf.messages_from_events(ev)
        return [s, a, m, findings(ev, sessions=s, attempts=a, messages=m)]

    for got, want in zip(tables(slim), tables(full), strict=True):
        pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize(
    "logs",
    [
        ("data/sample/mail.log",),
        ("corpus:postfix-lab/mail.postlogd.log", "corpus:postfix-lab/dovecot.native.log"),
        ("corpus:postfix-logsums-helga/mail.log.gz",),
        ("given-passwords",),
    ],
)
def test_case_reads_each_tables_rows_only_and_gets_the_tables_of_the_full_frame(
    tmp_path: Path, logs: tuple[str, ...]
) -> None:
    import pandas as pd

    import maillog_forensics as mf
    from maillog_forensics.detection import detect
    from maillog_forensics.events.store import load_secrets
    from maillog_forensics.report import Case
    from maillog_forensics.tables import auth, messages, sessions
    from maillog_forensics.tables.fingerprint import EVENT_COLUMNS as FP_COLUMNS
    from maillog_forensics.tables.fingerprint import EVENT_ROWS as FP_ROWS
    from maillog_forensics.tables.fingerprint import fingerprint
    from tests.corpus import corpus_path

    if logs == ("given-passwords",):
        # Dovecot's auth_verbose_passwords: the findings read these lines' own columns
        given = tmp_path / "mail.log"
        given.write_text(
            (REPO / "data/sample/mail.log").read_text()
            + "Nov 27 23:00:04 mail dovecot: auth: passwd-file(victim@example.com,192.0.2.50): "
            "Password mismatch (given password: Secret-1)\n"
        )
        paths = [str(given)]
    else:
        paths = [
            str(corpus_path(*p.removeprefix("corpus:").split("/")))
            if p.startswith("corpus:")
            else str(REPO / p)
            for p in logs
        ]
    ds = tmp_path / "ds"
    mf.ingest(paths, ds, tz="UTC", year=2026)
    full = mf.load_events(ds)
    s = mf.sessions_from_events(full)
    a = auth.auth_attempts_from_events(
        full, sessions=s, secrets=load_secrets(ds), hmac_key=mf.load_or_create_key(ds)
    )
    m = mf.messages_from_events(full)
    f = detect.findings(full, sessions=s, attempts=a, messages=m)

    case = Case(str(ds))
    assert "events" not in vars(case)  # nothing loaded up front
    d = mf.deliveries_from_events(full)
    got_tables = [case.sessions, case.attempts, case.messages, case.deliveries, case.findings]
    for got, want in zip(got_tables, [s, a, m, d, f], strict=True):
        pd.testing.assert_frame_equal(got, want)
    if logs == ("given-passwords",):
        assert f["summary"].str.contains("auth_verbose_passwords").any()
    assert "events" not in vars(case)  # no step needed every event at once
    assert "timestamps" not in vars(case)  # counting the lines needs no column of every row
    assert case.event_count == len(case.timestamps) == len(full)
    for mod in (sessions, auth, messages, detect):
        part = case.load(columns=mod.EVENT_COLUMNS, rows=mod.EVENT_ROWS)
        assert len(part) < len(full)
        assert list(part.columns) == list(dict.fromkeys(mod.EVENT_COLUMNS))
    subset = case.load(columns=FP_COLUMNS, rows=FP_ROWS)
    assert fingerprint(subset, log_lines=len(full)) == fingerprint(full)


def test_load_events_rows_keep_any_of_daemon_kind_or_queue_id(tmp_path: Path) -> None:
    import maillog_forensics as mf
    from maillog_forensics.events.schema import EventRows

    ds = tmp_path / "ds"
    mf.ingest([str(REPO / "data/sample/mail.log")], ds, tz="UTC", year=2026)
    full = mf.load_events(ds, columns=["daemon", "kind", "queue_id"])
    rows = EventRows(daemons=("smtpd",), kinds=("daemon_started",), queue_id=True)
    got = mf.load_events(ds, columns=["daemon", "kind", "queue_id"], rows=rows)
    want = full[
        (full["daemon"] == "smtpd").fillna(False)
        | (full["kind"] == "daemon_started").fillna(False)
        | full["queue_id"].notna()
    ].reset_index(drop=True)
    assert 0 < len(got) < len(full)
    import pandas as pd

    pd.testing.assert_frame_equal(got, want, check_categorical=False)
    assert len(mf.load_events(ds, columns=["kind"], rows=EventRows())) == 0


def test_the_notebooks_share_tables_through_a_folder_the_run_removes(sample_report: Path) -> None:
    assert not (sample_report / ".tables").exists()
    for name in DEFAULT_NOTEBOOKS:
        nb = json.loads((sample_report / f"{name}.ipynb").read_text())
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        source = "".join(injected[0]["source"])
        # only the notebooks that declare it get it (ingest_quality builds no table)
        assert ("table_cache = " in source) == (name != "ingest_quality")


def test_a_table_cache_the_user_names_is_kept_and_used(tmp_path: Path) -> None:
    keep = tmp_path / "tables"
    sample = str(REPO / "data" / "sample" / "mail.log")
    for name in ("incident_report", "attack_timeline"):
        results = run_report(
            [sample] if name == "incident_report" else [str(tmp_path / "out" / "dataset")],
            str(tmp_path / "out"),
            tz="UTC",
            year=2026,
            quiet=True,
            notebooks=(name,),
            parameters={"table_cache": str(keep)},
        )
        assert [r.error for r in results] == [None]
        files = sorted(keep.iterdir())
        stored = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files}
        if name == "incident_report":
            first = stored
    assert sorted(p.name.split("-")[0] for p in files) == [
        "attempts",
        "findings",
        "mail_flow",
        "messages",
        "sessions",
    ]
    assert stored == first  # the second notebook read them; it wrote none again


def test_notebook_kernels_use_unix_sockets_not_tcp(tmp_path: Path) -> None:
    import nbformat
    import papermill as pm
    from jupyter_core.paths import jupyter_runtime_dir

    from maillog_forensics.report.runner import local_kernel_manager

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from ipykernel.kernelapp import IPKernelApp\n"
            "app = IPKernelApp.instance()\n"
            "print(app.transport, app.ip)"
        )
    ]
    out = pm.execute_notebook(
        nb,
        str(tmp_path / "t.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
        kernel_manager_class=local_kernel_manager(),
    )
    transport, ip = out.cells[0].outputs[0]["text"].split()
    assert transport == "ipc"
    # the sockets are in Jupyter's private runtime folder, not in the report's folder
    runtime = Path(jupyter_runtime_dir()).resolve()
    assert Path(ip).resolve().parent == runtime
    assert runtime.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.ipynb"]
    assert not [p for p in runtime.iterdir() if p.name.startswith(Path(ip).name)]  # removed at the end


def test_a_log_rewritten_in_place_gets_a_name_of_its_own_and_every_table(tmp_path: Path) -> None:
    # a log rewritten in place and ingested again: its new lines are "mail.log#2", so
    # (source_file, line_no) still names one line and the tables loaded apart are whole
    import pandas as pd

    import maillog_forensics as mf
    from maillog_forensics.report import Case
    from maillog_forensics.tables import messages, sessions

    lines = (REPO / "data" / "sample" / "mail.log").read_text().splitlines(keepends=True)
    log, ds = tmp_path / "mail.log", tmp_path / "ds"
    log.write_text("".join(lines[: len(lines) // 2]))
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    log.write_text("".join(lines[len(lines) // 2 :]))
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    smtpd = mf.load_events(ds, columns=sessions.EVENT_COLUMNS, rows=sessions.EVENT_ROWS)
    assert set(smtpd["source_file"]) == {str(log), f"{log}#2"}
    assert not smtpd.duplicated(["source_file", "line_no"]).any()
    case = Case(str(ds))
    pd.testing.assert_frame_equal(case.sessions, sessions.sessions_from_events(smtpd))
    whole = mf.load_events(ds, columns=messages.EVENT_COLUMNS, rows=messages.EVENT_ROWS)
    pd.testing.assert_frame_equal(case.messages, messages.messages_from_events(whole))
    assert len(case.sessions) > 10 and case.messages["session_id"].notna().sum() > 3
    assert case.attempts["session_id"].notna().all() and len(case.findings) > 5


def test_a_dataset_naming_two_files_alike_is_refused_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # datasets written before a new file at a read path got its own name
    import importlib

    import maillog_forensics as mf
    from maillog_forensics.cli import main
    from maillog_forensics.events.store import DatasetError
    from maillog_forensics.report import Case

    lines = (REPO / "data" / "sample" / "mail.log").read_text().splitlines(keepends=True)
    log, ds = tmp_path / "mail.log", tmp_path / "ds"
    log.write_text("".join(lines[:300]))
    mf.ingest([str(log)], ds, tz="UTC", year=2026, threads=1)
    log.write_text("".join(lines[300:]))
    ingest_module = importlib.import_module("maillog_forensics.events.run")  # the sequential loop
    monkeypatch.setattr(ingest_module, "source_name", lambda manifest, inp, prior: inp.path)
    mf.ingest([str(log)], ds, tz="UTC", year=2026, threads=1)
    with pytest.raises(DatasetError, match="ingest the logs again"):
        Case(str(ds))
    assert main(["findings", str(ds)]) == 2
    assert "both named" in capsys.readouterr().err
    assert len(mf.load_events(ds)) == len(lines)  # its events are still all there


def test_every_time_of_every_page_is_in_the_display_zone(tmp_path: Path) -> None:
    sample = str(REPO / "data" / "sample" / "mail.log")
    results = run_report(
        [sample], str(tmp_path), tz="UTC", year=2026, quiet=True, parameters={"tz_display": "Europe/Berlin"}
    )
    assert [r.error for r in results] == [None] * len(DEFAULT_NOTEBOOKS)
    for name in DEFAULT_NOTEBOOKS:
        page = (tmp_path / f"{name}.html").read_text()
        heads = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", page, re.S)
        # headings name the display zone; no page claims its times are UTC
        assert not [h for h in heads if "UTC" in h], (name, heads)
        assert "All times are UTC" not in page and "(UTC)" not in page, name
        for alt in re.findall(r'alt="([^"]*time \([^)]*\)[^"]*)"', page):
            assert "time (Europe/Berlin)" in alt, (name, alt)
    page = (tmp_path / "incident_report.html").read_text()
    assert "takeover login (Europe/Berlin)" in page
    # the takeover at 19:09:50 UTC reads 20:09:50 in Berlin (CET, UTC+1, in November)
    assert "2026-11-27 20:09:50" in page and "2026-11-27 19:09:50" not in page


def test_long_tables_show_their_first_rows_and_say_where_the_rest_are(tmp_path: Path) -> None:
    sample = str(REPO / "data" / "sample" / "mail.log")
    results = run_report(
        [sample],
        str(tmp_path),
        tz="UTC",
        year=2026,
        quiet=True,
        notebooks=("incident_report",),
        parameters={"rows_shown": 3},
    )
    assert [r.error for r in results] == [None]
    page = (tmp_path / "incident_report.html").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    findings = [f for f in summary["findings"] if f["severity"] != "info"]
    where = f"`maillog-forensics findings {tmp_path / 'dataset'}`"
    told = f"The first 3 of {len(findings)} rows; every finding: {where}."
    assert told in page
    assert f"The first 3 of {summary['attackers']} rows" in page
    # the evidence appendix quotes the lines of the three findings shown, no others
    appendix = page[page.index("The log lines behind each finding") :]
    quoted = set(re.findall(r"<td[^>]*>(\d+ of \d+ quoted)</td>", appendix))
    assert quoted and len(re.findall(r"<td[^>]*>1 of \d+ quoted</td>", appendix)) == 3
