"""The native core (``native/``): the same batches as the polars path and the reference parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maillog_forensics.events import native, parse
from maillog_forensics.events.parse import TimeContext, polars_parse_lines, reference_parse
from tests.corpus import REPO, corpus_path, jsonl, read_lines
from tests.events.test_parse import BODIES, CORPUS_FILES, HEADERS, LINE_ALPHABET, WRAPPERS

maillog_native = pytest.importorskip("maillog_native")


def three(lines: list[str], *, tz: str = "UTC", year: int = 2026, last_month: int | None = None) -> None:
    """native == polars == reference, row for row and column for column, types and secrets."""
    series = pl.Series(lines, dtype=pl.String)
    kw: dict[str, Any] = {"source_file": "t", "first_line_no": 1}
    ctxs = [TimeContext(tz, year, last_month) for _ in range(3)]
    nat = native.parse_lines(series, ctx=ctxs[0], **kw)
    fast = polars_parse_lines(series, ctx=ctxs[1], **kw)
    ref = reference_parse(lines, ctx=ctxs[2], **kw)
    a, b, c = nat.table, fast.table, ref.table
    assert a.schema == b.schema == c.schema
    if not a.equals(b):
        for name in a.column_names:
            x, y = a[name].to_pylist(), b[name].to_pylist()
            bad = [i for i in range(len(x)) if x[i] != y[i]]
            if bad:
                i = bad[0]
                pytest.fail(f"{name}, line {i + 1} {lines[i]!r}: native {x[i]!r} != polars {y[i]!r}")
    assert b.equals(c)
    assert nat.secrets == fast.secrets == ref.secrets
    assert ctxs[0] == ctxs[1] == ctxs[2]


@pytest.mark.parametrize(("folder", "name"), CORPUS_FILES)
def test_native_equals_polars_and_reference_on_corpus(folder: str, name: str) -> None:
    three(read_lines(corpus_path(folder, name)))


def test_native_on_the_sample_and_the_rule_corpora() -> None:
    three(read_lines(REPO / "data" / "sample" / "mail.log"))
    lines = []
    for case in jsonl(corpus_path("postfix-grok-patterns", "cases.jsonl")):
        daemon = Path(case["file"]).name.rsplit("_", 1)[0]
        lines.append(f"Oct 26 18:13:50 mx postfix/{daemon}[1]: {case['data']}")
    for case in jsonl(corpus_path("sshguard", "mail_cases.jsonl")):
        lines.append(f"Oct 26 18:13:50 mx dovecot: {case['line']}")
        lines.append(f"Oct 26 18:13:50 mx postfix/smtpd[2]: {case['line']}")
    for ini in ("0030-postfix.ini", "0155-dovecot.ini"):
        for text in corpus_path("wazuh-ruleset", ini).read_text(errors="replace").splitlines():
            if text.startswith("log ") and " = " in text:
                lines.append(text.split(" = ", 1)[1])
    three(lines)


def test_year_rolls_over_and_zones() -> None:
    lines = ["Dec 31 23:59:59 mx postfix/qmgr[1]: x", "Jan  1 00:00:01 mx postfix/qmgr[1]: y"]
    three(lines, tz="Europe/Berlin", year=2025, last_month=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(WRAPPERS, HEADERS, BODIES, st.text(LINE_ALPHABET, max_size=60)), min_size=1, max_size=20
    )
)
def test_native_equals_on_generated_lines(parts: list[tuple[str, str, str, str]]) -> None:
    three([w + h + b + t for w, h, b, t in parts])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(LINE_ALPHABET, max_size=80), min_size=1, max_size=30))
def test_native_equals_on_arbitrary_text(lines: list[str]) -> None:
    three(lines)


def test_nul_bytes_and_rfc5424_lines() -> None:
    three(
        [
            "Feb  3 11:57:42 mx post\x00fix/smtpd[1]: connect from a[1.2.3.4]",
            "<22>1 2026-02-03T11:57:42Z mx postfix/smtpd 42 - - connect from a[1.2.3.4]",
            "<22>1 - - - - - -",
            "",
        ]
    )


def test_kind_rust_cannot_compile_falls_back_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    config = native.config()
    bad = next(k for k in config["kinds"] if k["name"] == "connect")
    bad["pattern"] = "^(?<=x)?" + bad["pattern"][1:]  # look-behind: Python only
    core = maillog_native.Core(config, native.syslog.parse_tag, native.syslog.local_offset_seconds)
    assert [k for k, _ in core.fallbacks()] == ["connect"]
    monkeypatch.setattr(native, "_core", core)
    three(read_lines(corpus_path("postfix-lab", "mail.syslog-traditional.log")))


def test_the_catalog_compiles_whole_in_rust() -> None:
    assert native.fallbacks() == []


def test_without_the_extension_ingest_says_so_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(native, "_core", None)
    monkeypatch.setattr(native, "_import_error", "No module named 'maillog_native'")
    monkeypatch.setattr(native, "_warned", False)
    monkeypatch.setenv("MAILLOG_FORENSICS_NATIVE", "auto")
    lines = pl.Series(["Feb  3 11:57:42 mx postfix/smtpd[1]: connect from a[1.2.3.4]"])
    for _ in range(2):
        batch = parse.parse_lines(lines, source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026))
        assert batch.frame.get_column("kind").to_list() == ["connect"]
    assert capsys.readouterr().err.count("native core not available") == 1
    monkeypatch.setenv("MAILLOG_FORENSICS_NATIVE", "1")
    with pytest.raises(RuntimeError, match="not built"):
        parse.parse_lines(lines, source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026))


def test_config_is_json_and_names_every_kind() -> None:
    config = native.config()
    json.dumps(config)
    assert [k["name"] for k in config["kinds"]] == [k.name for k in native.catalog.KINDS]
