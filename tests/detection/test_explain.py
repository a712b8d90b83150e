"""`explain`: the seed question answered in one command, passwords redacted."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from maillog_forensics.detection.explain import explain_lines
from tests.corpus import corpus_path

SEED = [
    "Feb 23 11:57:43 postfix/smtpd[32451]: Read 45 chars: AUTH PLAIN AGFkbWluQGZpcGljay5jb20Ad2lsb",
    "Feb 23 11:57:45 postfix/smtpd[32451]: warning: unknown[]: SASL PLAIN authentication failed: ",
    "Feb 23 11:57:45 postfix/smtpd[32451]: Write 42 chars: 435 4.7.8 Error: authentication failed: ",
]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maillog_forensics.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_seed_lines_explained() -> None:
    text = explain_lines(SEED, year=2026)
    assert "username 'admin@fipick.com' (complete)" in text
    assert "a password of 4-6 characters, 3 of them visible" in text
    assert "wil" not in text
    assert "soft_bounce = yes" in text and "smtpd_tls_loglevel = 4" in text and "unknown[]" in text


def test_reveal_is_explicit() -> None:
    text = explain_lines(SEED, year=2026, reveal_passwords=True)
    assert "password 'wil'..." in text and "between 'l' and 'o'" in text


def test_cli_explain_from_arguments_file_and_stdin(tmp_path: Path) -> None:
    res = run("explain", *SEED)
    assert res.returncode == 0 and "admin@fipick.com" in res.stdout and "wil" not in res.stdout
    seed = corpus_path("seed", "mail.log")
    res = run("explain", str(seed), "--year", "2026")
    assert res.returncode == 0 and "Not a log line" in res.stdout and "admin@fipick.com" in res.stdout
    res = run("explain", "-", stdin="\n".join(SEED) + "\n")
    assert res.returncode == 0 and "FAILED" in res.stdout
    res = run("explain", *SEED, "--reveal-passwords")
    assert "wil" in res.stdout and "clear text" in res.stderr


def test_planted_password_never_printed_by_default(tmp_path: Path) -> None:
    planted = "Plant3d-Secret"
    blob = base64.b64encode(f"\0victim@example.com\0{planted}".encode()).decode()
    log = tmp_path / "mail.log"
    log.write_text(
        "Nov 27 10:00:00 mail postfix/smtpd[7]: connect from unknown[192.0.2.50]\n"
        f"Nov 27 10:00:01 mail postfix/smtpd[7]: < unknown[192.0.2.50]: AUTH PLAIN {blob}\n"
        "Nov 27 10:00:03 mail postfix/smtpd[7]: warning: unknown[192.0.2.50]: SASL PLAIN authentication "
        "failed: (reason unavailable), sasl_username=victim@example.com\n"
        "Nov 27 10:00:03 mail postfix/smtpd[7]: > unknown[192.0.2.50]: "
        "535 5.7.8 Error: authentication failed\n"
        "Nov 27 10:00:04 mail dovecot: auth: passwd-file(victim@example.com,192.0.2.50): Password mismatch "
        f"(given password: {planted})\n"
        "Nov 27 10:00:04 mail postfix/smtpd[7]: disconnect from unknown[192.0.2.50] "
        "ehlo=1 auth=0/1 commands=1/2\n"
    )
    ds = tmp_path / "ds"
    res = run("ingest", str(log), "-o", str(ds), "--tz", "UTC", "--year", "2026")
    assert res.returncode == 0 and planted not in res.stdout + res.stderr
    outputs = []
    for table in ("events", "sessions", "attempts"):
        for fmt in ("csv", "jsonl"):
            r = run("export", table, str(ds), "--format", fmt)
            assert r.returncode == 0, r.stderr
            outputs.append(r.stdout + r.stderr)
    r = run("explain", str(log), "--year", "2026")
    outputs.append(r.stdout)
    for text in outputs:
        assert planted not in text and blob not in text
    for f in (ds / "events").rglob("*.parquet"):
        assert planted.encode() not in f.read_bytes()
    attempts = run("export", "attempts", str(ds), "--format", "jsonl").stdout
    assert '"username": "victim@example.com"' in attempts and '"password_length_min": 14' in attempts
    shown = run("export", "attempts", str(ds), "--format", "jsonl", "--reveal-passwords")
    assert planted in shown.stdout and "clear text" in shown.stderr


#: the README's lines as admins paste them: without the syslog time stamp and host
PASTED = [line.split(" ", 3)[3] for line in SEED]


def test_pasted_lines_without_time_stamps_are_explained_verdict_first() -> None:
    text = explain_lines(PASTED, year=2026)
    first, *rest = text.splitlines()
    assert first.startswith("In short: 1 failed login from an address the log does not show")
    assert "'admin@fipick.com'" in first and "no successful login in these lines" in first
    assert "change that password" in first
    assert not any("Not a log line" in line for line in rest)
    assert "username 'admin@fipick.com' (complete)" in text and "wil" not in text
    assert text.count("(pasted without its time stamp)") == 3


def test_verdict_counts_successes_and_server_errors_apart() -> None:
    lines = [
        "dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.9, lip=10.0.0.1",
        "postfix/smtpd[7]: warning: unknown[192.0.2.8]: SASL LOGIN authentication failed: "
        "Connection lost to authentication server",
    ]
    first = explain_lines(lines, year=2026).splitlines()[0]
    assert "1 successful login" in first and "failed login" not in first
    assert "authentication backend did not answer" in first


def test_no_mail_line_is_cannot_tell_not_an_all_clear() -> None:
    first = explain_lines(["hello world", "GET / HTTP/1.1"], year=2026).splitlines()[0]
    assert first.startswith("In short: cannot tell.") and "no login attempt" not in first
