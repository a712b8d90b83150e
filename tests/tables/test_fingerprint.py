"""Server facts read from the logs."""

from __future__ import annotations

import polars as pl

from maillog_forensics.events.parse import TimeContext, parse_lines
from maillog_forensics.tables.fingerprint import fingerprint
from tests.corpus import corpus_path, read_lines


def events(lines: list[str]):  # type: ignore[no-untyped-def]
    return parse_lines(
        pl.Series(lines), source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026)
    ).table.to_pandas()


def test_seed_reveals_soft_bounce_and_tls_level_4() -> None:
    fp = fingerprint(events(read_lines(corpus_path("seed", "mail.log"))))
    assert fp.soft_bounce and fp.tls_loglevel_min == 4 and fp.sasl_backend == "dovecot"
    assert fp.auth_on_port25 is True  # postfix/smtpd without a service name: the port-25 listener
    assert fp.evidence["soft_bounce"][0]["line_no"] == 40


def test_cyrus_backend_version_and_rate_limit() -> None:
    fp = fingerprint(
        events(
            [
                "Mar  1 10:00:00 mx postfix/master[1]: daemon started -- version 3.9.1, "
                "configuration /etc/postfix",
                "Mar  1 10:00:01 mx postfix/submission/smtpd[2]: warning: unknown[192.0.2.1]: SASL LOGIN "
                "authentication failed: authentication failure, sasl_username=bob",
                "Mar  1 10:00:02 mx postfix/submission/smtpd[2]: warning: AUTH command rate limit exceeded: "
                "11 from unknown[192.0.2.1] for service submission",
            ]
        )
    )
    assert (fp.postfix_version, fp.sasl_backend, fp.auth_rate_limit, fp.auth_on_port25) == (
        "3.9.1",
        "cyrus",
        True,
        False,
    )
    assert fp.soft_bounce is None and fp.tls_loglevel_min is None
