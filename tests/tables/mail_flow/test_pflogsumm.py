"""Our Grand Totals and sections against pflogsumm 1.1.5's own output on real logs.

Each log is ingested and summarised by us, and run through ``/usr/sbin/pflogsumm``; the
Grand Totals must be equal (as pflogsumm prints them: ``27825k``). Where pflogsumm is wrong
the test says so and checks the difference itself.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from maillog_forensics.tables import mail_flow
from maillog_forensics.tables.mail_flow import connections, parties, problems, traffic

from ...corpus import REPO, corpus_path
from .pflogsumm import (
    grand_totals_of,
    grok_log,
    helga_log,
    our_flow,
    pflogsumm_units,
    run_pflogsumm,
    sshguard_log,
    wazuh_log,
)

SAMPLE = REPO / "data" / "sample" / "mail.log"


def _log(name: str, folder: Path) -> Path:
    if name == "sample":
        return SAMPLE
    if name.startswith("lab-"):
        return corpus_path("postfix-lab", name.removeprefix("lab-"))
    corpus_path("SOURCES.md")
    return {"helga": helga_log, "wazuh": wazuh_log, "sshguard": sshguard_log, "grok": grok_log}[name](folder)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pflogsumm")


@pytest.fixture(scope="module")
def helga(folder: Path) -> tuple[Path, pd.DataFrame]:
    log = _log("helga", folder)
    return log, our_flow(log, folder / "helga-ds", tz="Europe/Berlin")


def _ours(flow: pd.DataFrame) -> dict[str, str]:
    # pflogsumm reads no "message repeated" line; none of these logs has one
    return {k: pflogsumm_units(v) for k, v in mail_flow.grand_totals(flow, count_repeats=False).items()}


@pytest.mark.parametrize(
    "name",
    [
        "sample",
        "lab-mail.syslog-rfc3339.log",
        "lab-mail.postlogd.log",
        "helga",
        "wazuh",
        "sshguard",
    ],
)
def test_grand_totals_equal_pflogsumm(name: str, folder: Path) -> None:
    log = _log(name, folder)
    flow = our_flow(log, folder / f"{name}-ds")
    assert _ours(flow) == grand_totals_of(run_pflogsumm(log))


def test_real_logs_have_traffic_to_compare(folder: Path) -> None:
    # the comparison above would pass on empty logs: these have all kinds of traffic
    totals = mail_flow.grand_totals(our_flow(_log("helga", folder), folder / "helga-ds2"))
    assert totals["received"] == 183 and totals["delivered"] == 361 and totals["rejected"] == 116
    assert totals["forwarded"] == 3 and totals["bounced"] == 1 and totals["bytes_received"] == 28493271
    sample = mail_flow.grand_totals(our_flow(SAMPLE, folder / "sample-ds2"))
    assert sample["received"] == 14 and sample["rejected"] == 6 and sample["recipients"] == 16
    wazuh = mail_flow.grand_totals(our_flow(_log("wazuh", folder), folder / "wazuh-ds2"))
    assert wazuh["rejected"] == 58 and wazuh["deferred"] == 1


def test_pflogsumm_misses_deliveries_with_tls_feature_or_without_brackets(folder: Path) -> None:
    """pflogsumm's delivery pattern has no ``tls=`` field (Postfix 3.10 logs it before
    ``dsn=``) and wants ``to=<...>``: those deliveries are missing from its totals."""
    log = _log("grok", folder)
    flow = our_flow(log, folder / "grok-ds")
    ours = mail_flow.grand_totals(flow, count_repeats=False)
    theirs = {k: int(v) for k, v in grand_totals_of(run_pflogsumm(log)).items()}
    text = log.read_text().splitlines()
    sent = flow[flow["event"] == "delivered"]
    tls = sum(", tls=" in text[n - 1] for n in sent["line_no"])
    bare = sum("to=<" not in text[n - 1] for n in sent["line_no"])
    assert tls == 6 and bare == 1
    assert ours["delivered"] - theirs["delivered"] == tls + bare
    bounced_bare = sum("to=<" not in text[n - 1] for n in flow.loc[flow["event"] == "bounced", "line_no"])
    assert ours["bounced"] - theirs["bounced"] == bounced_bare == 1
    same = ["received", "deferred", "rejected", "reject_warnings", "held", "discarded", "bytes_received"]
    assert {k: ours[k] for k in same} == {k: theirs[k] for k in same}


def test_days_keep_their_year_where_pflogsumm_uses_this_year(helga: tuple[Path, pd.DataFrame]) -> None:
    """pflogsumm labels every day with the current year (the year before for a later month):
    the 2023 log's first day reads "Mar 14 <this year>". Ours is 2023-03-14."""
    log, flow = helga
    report = run_pflogsumm(log)
    labels = re.findall(r"^    (Mar 1[4-6]) ([0-9]{4})  ", report, re.MULTILINE)
    today = dt.date.today()
    wrong_year = today.year if today.month >= 3 else today.year - 1
    assert labels == [("Mar 14", str(wrong_year)), ("Mar 15", str(wrong_year)), ("Mar 16", str(wrong_year))]
    days = traffic.per_day(flow, tz="Europe/Berlin")
    assert [d.isoformat() for d in days.index] == ["2023-03-14", "2023-03-15", "2023-03-16"]


def _section(report: str, title: str) -> list[str]:
    """The data lines of a pflogsumm section (its title, underline and headings left out)."""
    body = report.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    heading = re.compile(r"^ *(?:date|time|sent cnt|msg cnt) |^ *-+")
    return [line for line in body if line.strip() and not heading.match(line)]


def test_per_day_and_per_hour_equal_pflogsumm(helga: tuple[Path, pd.DataFrame]) -> None:
    log, flow = helga
    report = run_pflogsumm(log)
    days = traffic.per_day(flow, tz="Europe/Berlin")
    rows = [line.split()[3:] for line in _section(report, "Per-Day Traffic Summary")]
    assert [[int(x) for x in r] for r in rows] == days.to_numpy().tolist()
    hours = traffic.per_hour_average(traffic.per_hour(flow, tz="Europe/Berlin"), len(days))
    rows = [line.split()[1:] for line in _section(report, "Per-Hour Traffic Daily Average")]
    assert [[int(x) for x in r] for r in rows] == hours.to_numpy().tolist()
    assert hours["received"].sum() > 0


def test_domain_summaries_equal_pflogsumm(helga: tuple[Path, pd.DataFrame]) -> None:
    log, flow = helga
    report = run_pflogsumm(log)
    delivery = parties.delivery_domains(flow)
    got = [
        [pflogsumm_units(int(r.sent)), pflogsumm_units(int(r.bytes)), str(int(r.defers)), dom]
        for dom, r in delivery.iterrows()
    ]
    rows = _section(report, "Host/Domain Summary: Message Delivery ")
    want = [[p[0], p[1], p[2], p[-1]] for p in (line.split() for line in rows)]
    assert got == want
    received = parties.received_domains(flow)
    rows = _section(report, "Host/Domain Summary: Messages Received ")
    want_counts = {p[-1]: (p[0], p[1]) for p in (line.split() for line in rows)}
    got_counts = {
        d: (pflogsumm_units(int(r.messages)), pflogsumm_units(int(r.bytes))) for d, r in received.iterrows()
    }
    assert got_counts == want_counts and len(got_counts) == 56


def test_senders_and_recipients_equal_pflogsumm(helga: tuple[Path, pd.DataFrame]) -> None:
    log, flow = helga
    report = run_pflogsumm(log)
    for title, table in (
        ("Senders by message count", parties.senders(flow)["messages"]),
        ("Recipients by message count", parties.recipients(flow)["messages"]),
        ("Senders by message size", parties.senders(flow, by="bytes")["bytes"]),
        ("Recipients by message size", parties.recipients(flow, by="bytes")["bytes"]),
    ):
        rows = [line.split() for line in _section(report, title)]
        assert {r[1]: r[0] for r in rows} == {k: pflogsumm_units(int(v)) for k, v in table.items()}, title


def test_reject_detail_equals_pflogsumm(helga: tuple[Path, pd.DataFrame]) -> None:
    log, flow = helga
    report = run_pflogsumm(log)
    block = report.split("message reject detail\n", 1)[1].split("\n\n", 1)[0]
    want = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^    (.+) \(total: ([0-9]+)\)$", block, re.MULTILINE)
    }
    table = problems.rejects_by_reason(problems.rejects(flow))
    assert dict(zip(table["reason"], table["count"], strict=True)) == want
    assert want["blocked using zen.spamhaus.org"] == 84
    assert want["Sender address rejected: Domain not found"] == 19


def test_warnings_equal_pflogsumm(helga: tuple[Path, pd.DataFrame]) -> None:
    log, flow = helga
    report = run_pflogsumm(log)
    block = report.split("\nWarnings\n", 1)[1].split("\n\n", 1)[0]
    totals = {m.group(1): int(m.group(2)) for m in re.finditer(r"^  (\S+) \(total: ([0-9]+)\)$", block, re.M)}
    table = problems.warnings_by_text(flow)
    assert (
        table.groupby("command")["count"].sum().to_dict()
        == totals
        == {
            "postscreen": 7,
            "smtpd": 11,
            "tlsproxy": 7,
        }
    )
    # the HTTP probes are there, as pflogsumm shows them
    assert table["text"].str.contains("non-SMTP command from unknown\\[134.122.81.18\\]: GET /").sum() == 7


def test_smtpd_connections_equal_pflogsumm_but_for_ipv6_clients(helga: tuple[Path, pd.DataFrame]) -> None:
    """pflogsumm reads the client of a disconnect from the whole line, counters included; an
    IPv6 client's ``commands=N/M`` then reads as an old ``name/address`` form, so IPv6 clients
    are not counted as hosts of their own (110 instead of our 112)."""
    log, flow = helga
    report = run_pflogsumm(log, "--smtpd-stats")
    table = connections.connections(flow)
    got = connections.connection_summary(table)
    block = report.split("\nsmtpd\n", 1)[1]
    assert re.search(r"^ +([0-9]+)   connections$", block, re.M).group(1) == str(got["connections"]) == "5161"
    h, m, s = re.search(r"^ +([0-9]+):([0-9]{2}):([0-9]{2})  total connect time$", block, re.M).groups()
    assert int(h) * 3600 + int(m) * 60 + int(s) == got["total_connect_seconds"]
    hosts = int(re.search(r"^ +([0-9]+)   hosts/domains$", block, re.M).group(1))
    v6 = table["domain"].str.contains(":").sum()
    assert (hosts, got["hosts"], v6) == (110, 112, 2)


def test_host_less_lines_are_read_where_pflogsumm_reads_none(folder: Path) -> None:
    """pflogsumm wants a host name after the time stamp; the seed log has none, so its
    report is empty. Ours lists the SASL failure warning."""
    log = corpus_path("seed", "mail.log")
    flow = our_flow(log, folder / "seed-ds")
    report = run_pflogsumm(log)
    assert "Warnings: none" in report
    warnings = problems.warnings_by_text(flow)
    assert warnings["text"].str.contains("SASL PLAIN authentication failed").sum() == 1
