"""'Cannot tell': a dataset the tool does not understand never gets an all-clear."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import maillog_forensics as mf
from maillog_forensics.cli import main
from maillog_forensics.events.coverage import MAX_UNKNOWN_SHARE, input_coverage
from maillog_forensics.report import analyse, answer, summary

NOT_MAIL = [
    "Nov 27 19:08:30 web nginx[812]: 203.0.113.5 - - GET /index.html 200",
    "Nov 27 19:08:31 web sshd[900]: Accepted publickey for root from 198.51.100.7 port 5022",
    "Nov 27 19:08:32 web CRON[901]: (root) CMD (run-parts /etc/cron.hourly)",
]
GARBAGE = ["\x00\x01 definitely not syslog", "Traceback (most recent call last):", "  File x"]
MAIL = [
    "Nov 27 19:08:30 mail postfix/smtpd[25458]: connect from unknown[192.0.2.2]",
    "Nov 27 19:08:32 mail postfix/smtpd[25458]: warning: unknown[192.0.2.2]: "
    "SASL LOGIN authentication failed: (reason unavailable), sasl_username=test",
    "Nov 27 19:08:32 mail postfix/smtpd[25458]: disconnect from unknown[192.0.2.2] "
    "ehlo=1 auth=0/1 commands=1/2",
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (1795800000, 1795800000))
    return path


@pytest.mark.parametrize(
    ("counts", "answerable"),
    [
        ({}, False),
        ({"other_program": 10}, False),
        ({"unparsed": 10}, False),
        ({"sasl_failed": 1, "unparsed": 2}, False),  # 2/3 unknown
        ({"sasl_failed": 1, "unparsed": 1}, True),  # exactly the bar is still answerable
        ({"connect": 5, "disconnect": 5}, False),  # mail, but no login of any kind
        ({"sasl_failed": 1, "other_program": 1000}, True),  # other programs do not count
    ],
)
def test_answerable_follows_the_kind_counts(counts: dict[str, int], answerable: bool) -> None:
    cov = input_coverage(counts)
    assert cov.answerable is answerable
    assert (cov.problem is None) is answerable
    assert cov.unknown_share <= 1.0
    if counts.get("unparsed") and not answerable and "sasl_failed" in counts:
        assert cov.unknown_share > MAX_UNKNOWN_SHARE


def test_attempts_count_as_logins_when_given() -> None:
    # Postfix successes have no kind of their own: the attempts table sees them
    assert not input_coverage({"connect": 3}).answerable
    assert input_coverage({"connect": 3}, attempts=1).answerable


@pytest.mark.parametrize("lines", [NOT_MAIL, GARBAGE, NOT_MAIL + GARBAGE])
def test_a_folder_of_no_mail_log_gets_cannot_tell_everywhere(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    write(folder / "syslog", lines)
    write(folder / "other.log", lines[::-1])
    ds = tmp_path / "ds"
    stats = mf.ingest([str(folder)], ds, tz="UTC", quiet=True)
    assert stats.summary().startswith("WARNING: this does not look like a Postfix/Dovecot log")

    case = analyse(str(ds))
    text = answer(case)
    assert text.startswith("CANNOT TELL: ") and "No account" not in text and "No." not in text
    s = summary(case)
    assert s["answerable"] is False and "does not look like" in s["problem"]
    assert s["compromised_accounts"] == []

    capsys.readouterr()
    assert main(["summary", str(ds)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("CANNOT TELL: ")


def test_a_mail_log_with_logins_is_answered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    mf.ingest([str(write(tmp_path / "mail.log", MAIL + NOT_MAIL))], ds, tz="UTC", quiet=True)
    case = analyse(str(ds))
    text = answer(case)
    assert text.startswith(
        "No. No account shows a suspicious successful login. 1 failed login from 1 address"
    )
    assert summary(case)["answerable"] is True and summary(case)["problem"] is None
    capsys.readouterr()
    assert main(["summary", str(ds)]) == 0
    assert "CANNOT TELL" not in capsys.readouterr().out


def test_a_mail_log_without_logins_cannot_say_nobody_tried(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    quiet_session = [MAIL[0], MAIL[2].replace("auth=0/1 commands=1/2", "quit=1 commands=2")]
    mf.ingest([str(write(tmp_path / "mail.log", quiet_session))], ds, tz="UTC", quiet=True)
    text = answer(analyse(str(ds)))
    assert text.startswith("CANNOT TELL: the logs hold no login")
