"""Which lines count as what (flow_lines), on small logs with one line of each case."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maillog_forensics.tables import mail_flow
from maillog_forensics.tables.mail_flow import accounts, parties, problems, traffic

from .pflogsumm import grand_totals_of, our_flow, run_pflogsumm

H = "Mar 14 10:00:0{s} mx postfix/{p}[{pid}]: "
LOG = [
    # received over submission (counts), re-injected by a content filter (does not)
    H + "3F2A1B0C9D: client=laptop.example.org[192.0.2.5], sasl_method=PLAIN, sasl_username=alice",
    H + "3F2A1B0C9E: client=localhost[127.0.0.1]",
    H + "3F2A1B0C9D: from=<Alice@Example.ORG>, size=1000, nrcpt=2 (queue active)",
    H + "3F2A1B0C9E: from=<alice@example.org>, size=1200, nrcpt=1 (queue active)",
    H + "3F2A1B0C9D: to=<bob@Example.NET>, relay=mx.example.net[192.0.2.9]:25, delay=1.5, "
    "delays=0.1/0/1/0.4, dsn=2.0.0, status=sent (250 ok)",
    H + "3F2A1B0C9D: to=<carol@example.net>, relay=mx.example.net[192.0.2.9]:25, delay=30, "
    "delays=0.1/0/30/0, dsn=4.4.1, status=deferred "
    "(connect to mx.example.net[192.0.2.9]:25: Connection timed out)",
    H + "3F2A1B0C9E: to=<dave@example.com>, relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, "
    "status=sent (forwarded as 3F2A1B0CA1)",
    H + "3F2A1B0C9E: to=<erin@example.com>, relay=none, delay=0.2, delays=0.1/0/0/0.1, dsn=5.1.1, "
    'status=bounced (unknown user: "erin")',
    H + "3F2A1B0CA0: uid=0 from=<root>",
    H + "NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 Service unavailable; Client host "
    "[198.51.100.7] blocked using zen.spamhaus.org; from=<x@spam.example> to=<bob@example.com> "
    "proto=ESMTP helo=<a>",
    H
    + "NOQUEUE: reject_warning: RCPT from unknown[198.51.100.8]: 450 4.7.1 <a>: Helo command rejected: Host "
    "not found; from=<x@spam.example> to=<bob@example.com> proto=ESMTP helo=<a>",
    H + "NOQUEUE: reject: RCPT from unknown[198.51.100.9]: 554 5.7.1 <y@elsewhere.example>: "
    "Relay access denied; from=<x@spam.example> to=<y@elsewhere.example> proto=ESMTP helo=<a>",
    H + "3F2A1B0CA2: warning: header Subject: cheap pills from unknown[198.51.100.7]; from=<x@spam.example> "
    "to=<bob@example.com> proto=ESMTP helo=<a>",
    H + "3F2A1B0CA3: hold: header Subject: invoice from unknown[198.51.100.7]; from=<x@spam.example> "
    "to=<bob@example.com> proto=ESMTP helo=<a>",
    H + "3F2A1B0CA4: discard: body spam words from unknown[198.51.100.7]; from=<x@spam.example> "
    "to=<bob@example.com> proto=ESMTP helo=<a>",
    H + "warning: hostname bad.example does not resolve to address 198.51.100.7",
    H + "fatal: open database /etc/postfix/virtual.db: No such file or directory",
    H + "daemon started -- version 3.7.11, configuration /etc/postfix",
]
PROGRAMS = [
    "submission/smtpd",
    "10025/smtpd",
    "qmgr",
    "qmgr",
    "smtp",
    "smtp",
    "local",
    "local",
    "pickup",
    "smtpd",
    "smtpd",
    "smtpd",
    "cleanup",
    "cleanup",
    "cleanup",
    "smtpd",
    "qmgr",
    "master",
]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "mail.log"
    lines = [
        tpl.format(s=i % 10, p=p, pid=100 + i) for i, (tpl, p) in enumerate(zip(LOG, PROGRAMS, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def flow(log: Path) -> pd.DataFrame:
    return our_flow(log, log.parent / "ds")


def test_each_line_counts_as_what_pflogsumm_counts_it(flow: pd.DataFrame) -> None:
    got = flow.set_index("line_no")["event"].to_dict()
    assert got == {
        1: "received",  # submission/smtpd is smtpd
        3: "queued",
        4: "queued",  # the re-injected message's size line: queued, not received
        5: "delivered",
        6: "deferred",
        7: "forwarded",
        8: "bounced",
        9: "received",  # pickup
        10: "rejected",
        11: "reject_warning",
        12: "rejected",
        13: "reject_warning",  # cleanup header WARN
        14: "held",
        15: "discarded",
        16: "warning",
        17: "fatal",
        18: "master",
    }
    assert flow.loc[flow["line_no"] == 1, "sasl_username"].tolist() == ["alice"]
    assert flow.loc[flow["line_no"] == 3, "address"].tolist() == ["Alice@example.org"]
    assert flow.loc[flow["line_no"] == 5, ["address", "domain"]].values.tolist() == [
        ["bob@example.net", "example.net"]
    ]


def test_grand_totals(flow: pd.DataFrame, log: Path) -> None:
    totals = mail_flow.grand_totals(flow)
    assert totals == {
        "received": 2,
        "delivered": 1,
        "forwarded": 1,
        "deferred": 1,
        "bounced": 1,
        "rejected": 2,
        "reject_warnings": 2,
        "held": 1,
        "discarded": 1,
        "bytes_received": 1000,  # the re-injected copy is not received again
        "bytes_delivered": 1000,
        "senders": 1,
        "sending_hosts": 1,
        "recipients": 1,
        "recipient_hosts": 1,
    }
    assert {k: str(v) for k, v in totals.items()} == grand_totals_of(run_pflogsumm(log))
    assert mail_flow.rejected_percent(totals) == 50  # of delivered + rejected + discarded


def test_sections(flow: pd.DataFrame) -> None:
    table = problems.rejects(flow)
    by_reason = problems.rejects_by_reason(table)
    assert by_reason[["reason", "category", "count"]].values.tolist() == [
        ["Relay access denied", "relay denied", 1],
        ["blocked using zen.spamhaus.org", "RBL", 1],
    ]
    assert problems.rejects_by_client(table)["count"].to_dict() == {
        "unknown[198.51.100.7]": 1,
        "unknown[198.51.100.9]": 1,
    }
    deferrals = problems.deferrals_by_reason(flow)
    assert deferrals[["command", "reason", "count"]].values.tolist() == [
        ["smtp", "mx.example.net[192.0.2.9]:25: Connection timed out", 1]
    ]
    assert problems.bounces_by_reason(flow)[["relay", "count"]].values.tolist() == [["none", 1]]
    assert problems.warnings_by_text(flow, level="fatal")["command"].tolist() == ["qmgr"]
    assert problems.master_messages(flow)["text"].tolist() == [
        "daemon started -- version 3.7.11, configuration /etc/postfix"
    ]
    domains = parties.delivery_domains(flow)
    assert domains.loc["example.net"].to_dict() == {
        "sent": 1,
        "bytes": 1000,
        "defers": 1,
        "avg_delay": 1.5,
        "max_delay": 30.0,
    }
    largest = parties.largest_messages(flow, top=1)
    assert largest[["queue_id", "size", "received"]].values.tolist() == [["3F2A1B0C9E", 1200, False]]
    assert traffic.per_hour(flow).loc[10].to_dict() == {
        "received": 2,
        "delivered": 1,
        "deferred": 1,
        "bounced": 1,
        "rejected": 6,
    }


def test_outbound_by_account_splits_at_the_takeover(flow: pd.DataFrame) -> None:
    all_of = accounts.outbound_by_account(flow)
    assert all_of[
        ["sasl_username", "period", "messages", "recipients", "delivered", "deferred"]
    ].values.tolist() == [["alice", "all", 1, 2, 1, 1]]
    split = accounts.outbound_by_account(
        flow, compromised={"alice": pd.Timestamp("2026-03-14 10:00:01", tz="UTC")}
    )
    assert split["period"].tolist() == ["before"]
    split = accounts.outbound_by_account(
        flow, compromised={"alice": pd.Timestamp("2026-03-14 09:00", tz="UTC")}
    )
    assert split[["period", "bytes", "recipient_domains"]].values.tolist() == [["after", 1000, 1]]


def test_repeated_lines_count_n_times_where_pflogsumm_skips_them(tmp_path: Path) -> None:
    """rsyslog's "message repeated N times: [text]" stands for N more lines; pflogsumm reads
    it as a message of its own and counts nothing."""
    reject = (
        "NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 Service unavailable; Client host "
        "[198.51.100.7] blocked using zen.spamhaus.org; from=<x@spam.example> to=<bob@example.com> "
        "proto=ESMTP helo=<a>"
    )
    log = tmp_path / "mail.log"
    log.write_text(
        f"Mar 14 10:00:00 mx postfix/smtpd[7]: {reject}\n"
        f"Mar 14 10:00:09 mx postfix/smtpd[7]: message repeated 3 times: [ {reject}]\n"
    )
    flow = our_flow(log, tmp_path / "ds")
    assert mail_flow.grand_totals(flow)["rejected"] == 4
    assert mail_flow.grand_totals(flow, count_repeats=False)["rejected"] == 1
    assert grand_totals_of(run_pflogsumm(log))["rejected"] == "1"


def test_other_instances_are_not_read() -> None:
    assert mail_flow.pflogsumm_command("postfix/smtps/smtpd") == "smtpd"
    assert mail_flow.pflogsumm_command("postfix-out/smtp") is None
    assert mail_flow.pflogsumm_command("postfix/postfix-script") == "postfix-script"
    assert mail_flow.pflogsumm_command("dovecot") is None


def test_no_password_of_the_lab_reaches_the_mail_flow(tmp_path: Path) -> None:
    """The lab logs passwords (TLS log level 4, debug_peer_list); none is in any flow table."""
    import json

    from ...corpus import corpus_path

    log = corpus_path("postfix-lab", "mail.syslog-traditional.log")
    truth = corpus_path("postfix-lab", "ground-truth.syslog.jsonl").read_text().splitlines()
    passwords = {json.loads(x).get("password") for x in truth if '"password"' in x}
    # one guess is the mail domain itself, which every table names
    passwords = {p for p in passwords if p and len(p) >= 6 and p != "lab.example"}
    assert "Spring2024!" in passwords
    flow = our_flow(log, tmp_path / "ds")
    tables = [
        flow,
        problems.warnings_by_text(flow),
        problems.rejects(flow),
        parties.senders(flow).reset_index(),
        accounts.outbound_by_account(flow),
    ]
    text = "\n".join(t.astype(str).to_csv() for t in tables)
    assert "SASL" in text  # the warnings are there, without what the clients typed
    assert [p for p in passwords if p in text] == []
