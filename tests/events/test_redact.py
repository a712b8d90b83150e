"""No secret in clear in any output: planted credentials in every known debug format.

Each case is a realistic whole line built from the format string in the program's source
(see ``maillog_forensics.events.secrets``) with a planted secret. After ingest the
secret must be in no output (event Parquet, manifest, ingest summary, exports, explain,
attempts), and in the owner-only side table (``--reveal-passwords`` reads it there).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillog_forensics.cli import main
from maillog_forensics.events import redact
from maillog_forensics.events import secrets as sec
from maillog_forensics.events.parse import TimeContext, parse_lines, reference_parse
from maillog_forensics.events.store import load_secrets

from ..corpus import corpus_path, jsonl, read_lines

H = "Feb 23 11:57:43 mail"
PF = f"{H} postfix/smtpd[4242]:"
PC = f"{H} postfix/smtp[4243]:"
DA = f"{H} dovecot: auth: Debug:"
DW = f"{H} dovecot: auth-worker(77): Debug:"
SA = f"{H} saslauthd[99]:"
TAB = "\t"
ESC = "#011"  # rsyslog's escape of a tab


def pw(name: str) -> str:
    """A unique planted password per case (letters and digits, no base64 look-alike of others)."""
    return "Pw" + hashlib.sha256(name.encode()).hexdigest()[:12] + "!x"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def plain(user: str, password: str) -> str:
    return b64(f"\0{user}\0{password}")


def kept(p: str, taken: list[str]) -> bool:
    """Whether a planted text is recoverable from the side table (as is, or base64-decoded)."""
    for t in taken:
        if p in t:
            return True
        with contextlib.suppress(ValueError):
            if p in base64.b64decode(t + "=" * (-len(t) % 4)).decode("utf-8", "replace"):
                return True
    return False


def crypt6(name: str) -> str:
    return (
        "$6$"
        + hashlib.sha256(name.encode()).hexdigest()[:16]
        + "$"
        + hashlib.sha512(name.encode()).hexdigest()[:86]
    )


def case(name: str, template: str, *, encode: str = "clear") -> tuple[str, str, list[str]]:
    """(id, line, planted texts): ``{s}`` is the clear password, ``{b}`` its base64 form,
    ``{p}`` an AUTH PLAIN blob holding it, ``{h}`` a SHA-512 crypt hash, ``{x}`` hex."""
    s = pw(name)
    values = {
        "s": s,
        "b": b64(s),
        "p": plain("bob@example.com", s),
        "h": crypt6(name),
        "x": hashlib.sha1(s.encode()).hexdigest(),
    }
    line = template.format(**values)
    planted = [v for k, v in values.items() if "{" + k + "}" in template]
    if any(k in template for k in ("{b}", "{p}")):
        planted.append(s)  # the clear password a decoder would show
    return name, line, planted


CASES = [
    # --- Postfix smtpd/smtp -v, debug_peer_list (xsasl_cyrus_*.c, smtp_sasl_glue.c, maps.c) -
    case("cyrus-decoded-response", f"{PF} xsasl_cyrus_server_next: decoded response: {{s}}"),
    case("cyrus-decoded-initial", f"{PF} xsasl_cyrus_server_first: decoded initial response {{s}}"),
    case("cyrus-get-passwd", f"{PC} xsasl_cyrus_client_get_passwd: {{s}}"),
    case("cyrus-uncoded-response", f"{PC} xsasl_cyrus_client_next: uncoded client response {{s}}"),
    case("cyrus-uncoded-initial", f"{PC} xsasl_cyrus_client_first: uncoded initial reply: \\0relay\\0{{s}}"),
    case(
        "smtp-passwd-lookup",
        f"{PC} smtp_sasl_passwd_lookup: host `mx.example.net' user `relay@example.com' pass `{{s}}'",
    ),
    case(
        "maps-find-password-maps",
        f"{PC} maps_find: smtp_sasl_password_maps: hash:/etc/postfix/sasl_passwd: [mx.example.net]:587 "
        "= relay@example.com:{s}",
    ),
    case("dovecot-init-response", f"{PF} xsasl_dovecot_server_first: sasl_method PLAIN, init_response {{p}}"),
    case(
        "cyrus-init-response-login", f"{PF} xsasl_cyrus_server_first: sasl_method LOGIN, init_response {{b}}"
    ),
    case("dialogue-server-auth-plain", f"{PF} < unknown[192.0.2.9]: AUTH PLAIN {{p}}"),
    case("dialogue-server-auth-login", f"{PF} < unknown[192.0.2.9]: AUTH LOGIN {{b}}"),
    case("dialogue-server-lowercase", f"{PF} < unknown[192.0.2.9]: auth plain {{p}}"),
    case("dialogue-server-continuation", f"{PF} < unknown[192.0.2.9]: {{b}}"),
    case("dialogue-client-auth-plain", f"{PC} > mx.example.net[198.51.100.7]:587: AUTH PLAIN {{p}}"),
    case("dialogue-client-continuation", f"{PC} > mx.example.net[198.51.100.7]:587: {{b}}"),
    case(
        "dialogue-submission",
        f"{H} postfix/submission/smtpd[4244]: < client.example[192.0.2.10]: AUTH PLAIN {{p}}",
    ),
    case("dialogue-xoauth2", f"{PF} < unknown[192.0.2.9]: AUTH XOAUTH2 {{b}}"),
    case("tls-read-auth-plain", f"{PF} Read 70 chars: AUTH PLAIN {{p}}??"),
    case("tls-read-continuation", f"{PF} Read 24 chars: {{b}}??"),
    case("tls-read-auth-login", f"{PF} Read 40 chars: AUTH LOGIN {{b}}??"),
    case("tls-write-client-auth", f"{PC} Write 70 chars: AUTH PLAIN {{p}}??"),
    case("tls-write-client-continuation", f"{PC} Write 24 chars: {{b}}??"),
    case("tls-read-pipelined-login", f"{PF} Read 60 chars: AUTH LOGIN??{b64('bob')}??{{b}}??"),
    case("tls-read-pipelined-plain", f"{PF} Read 60 chars: AUTH PLAIN??{{p}}??"),
    case("dialogue-pipelined-login", f"{PF} < unknown[192.0.2.9]: AUTH LOGIN??{b64('bob')}??{{b}}"),
    case("tls-lmtp-read", f"{H} postfix/lmtp[4245]: Read 70 chars: AUTH PLAIN {{p}}??"),
    # --- Dovecot auth_debug_passwords (auth-client-connection.c, auth-request.c, passdb*.c) --
    case(
        "dovecot-client-in-resp-tab",
        f"{DA} client in: AUTH{TAB}1{TAB}PLAIN{TAB}service=smtp{TAB}nologin{TAB}lip=192.0.2.1{TAB}"
        f"rip=192.0.2.9{TAB}secured{TAB}resp={{p}} (previous base64 data may contain sensitive data)",
    ),
    case(
        "dovecot-client-in-resp-rsyslog",
        f"{DA} client in: AUTH{ESC}1{ESC}PLAIN{ESC}service=smtp{ESC}nologin{ESC}lip=192.0.2.1{ESC}"
        f"rip=192.0.2.9{ESC}secured{ESC}resp={{p}}",
    ),
    case(
        "dovecot-client-in-resp-middle",
        f"{DA} client in: AUTH{ESC}1{ESC}PLAIN{ESC}service=imap{ESC}resp={{p}}{ESC}session=abc",
    ),
    case(
        "dovecot-cont-tab",
        f"{DA} client in: CONT{TAB}2{TAB}{{b}} (previous base64 data may contain sensitive data)",
    ),
    case("dovecot-cont-rsyslog", f"{DA} client in: CONT{ESC}2{ESC}{{b}}"),
    case("dovecot-scheme-mismatch", f"{DA} passwd-file(bob,192.0.2.9): SHA512-CRYPT({{s}}) != '{{h}}'"),
    case(
        "dovecot-scheme-try",
        f"{DW} sql(bob,192.0.2.9,<abc>): CRYPT({{s}}) != '{{h}}', try SHA512-CRYPT scheme instead",
    ),
    case("dovecot-plain-mismatch", f"{DA} ldap(bob,192.0.2.9): PLAIN({{s}}) != 'x{{x}}'"),
    case(
        "dovecot-generating",
        f"{DA} passwd-file(bob,192.0.2.9): Generating PLAIN-MD5 from user 'bob', password '{{s}}'",
    ),
    case("dovecot-cache-hit-hash", f"{DA} passwd-file(bob,192.0.2.9): cache hit: {{{{SHA512-CRYPT}}}}{{h}}"),
    case("dovecot-cache-hit-plain", f"{DA} sql(bob,192.0.2.9): cache hit: {{s}}{ESC}uid=1000"),
    case("dovecot-credentials", f"{DA} passwd-file(bob,192.0.2.9): Credentials: {{x}}"),
    case(
        "dovecot-invalid-password",
        f"{H} dovecot: auth: Error: passwd-file(bob,192.0.2.9): Invalid password '{{s}}' in passdb: "
        "Unknown scheme FOO",
    ),
    case("dovecot-passdb-out-password", f"{DA} passdb out: PASS{TAB}1{TAB}user=bob{TAB}password={{s}}"),
    case("dovecot-passdb-out-pass", f"{DA} passdb out: PASS{ESC}1{ESC}user=bob{ESC}pass={{s}}{ESC}uid=1000"),
    case("dovecot-client-passdb-out", f"{DA} client passdb out: OK{TAB}1{TAB}user=bob{TAB}pass={{s}}"),
    case("dovecot-auth-token", f"{DA} client out: OK{ESC}1{ESC}user=bob{ESC}auth_token={{x}}"),
    case("dovecot-password-with-space", f"{DA} passdb out: PASS{ESC}1{ESC}user=bob{ESC}password={{s}} two"),
    # --- Dovecot auth_verbose_passwords (auth-request.c) --------------------------------------
    case(
        "dovecot-given-password",
        f"{H} dovecot: auth: passwd-file(bob,192.0.2.9): Password mismatch (given password: {{s}})",
    ),
    case(
        "dovecot-given-sha1",
        f"{H} dovecot: auth: passwd-file(bob,192.0.2.9): Password mismatch (SHA1 of given password: {{x}})",
    ),
    case(
        "dovecot-native-given",
        "2026-02-23 11:57:43 auth: Info: passwd-file(bob,192.0.2.9): Password mismatch (given password: {s})",
    ),
    case(
        "dovecot-pam-given",
        f"{H} dovecot: auth-worker(77): pam(bob,192.0.2.9): Password mismatch (given password: {{s}})",
    ),
    case(
        "dovecot-given-with-paren",
        f"{H} dovecot: auth: sql(bob,192.0.2.9): Password mismatch (given password: {{s}}) (x))",
    ),
    # --- saslauthd -V (auth_rimap.c, auth_shadow.c, auth_httpform.c) ------------------------
    case("saslauthd-rimap", f'{SA} auth_rimap: sending saslauthd LOGIN "bob" "{{s}}"'),
    case("saslauthd-shadow-quoted", f"{SA} DEBUG: auth_shadow: pw mismatch: '{{h}}' != '$6$zz${{x}}'"),
    case("saslauthd-shadow-plain", f"{SA} auth_shadow: pw mismatch: {{s}} != {{h}}"),
    case(
        "saslauthd-httpform",
        f"{SA} auth_httpform: sending auth.example.com /login user=bob&password={{s}}&realm=",
    ),
    # --- stored hashes anywhere ---------------------------------------------------------------
    case("hash-blf-crypt", f"{DW} sql(bob,192.0.2.9): result: password={{{{BLF-CRYPT}}}}$2y$05${{x}}"),
    case("hash-bcrypt-bare", f"{H} dovecot: auth: Warning: odd stored value $2y$10${{x}}"),
    case("hash-sha512-crypt-bare", f"{H} dovecot: auth: Warning: userdb has {{h}} for bob"),
    case("hash-ssha", f"{DA} ldap(bob,192.0.2.9): userPassword={{{{SSHA}}}}{{b}}"),
    # --- lines no kind knows, unparsed lines, derived columns ------------------------------
    case("unparsed-no-header", "garbage line with pass={s} in it"),
    case("other-program-password", f"{H} webmail[12]: login user=bob password={{s}} ok"),
    case("other-program-passwd", f"{H} fetchmail[13]: polling with passwd={{s}}"),
    case("other-program-json", f'{H} api[14]: {{{{"user": "bob", "password": "{{s}}"}}}}'),
    case("other-program-api-key", f"{H} hook[15]: call api_key={{s}}"),
    case("other-program-auth-plain", f"{H} proxy[16]: relayed AUTH PLAIN {{p}} for bob"),
    case("postfix-warning-pwd", f"{PF} warning: strange client text pwd={{s}}"),
    case(
        "helo-column",
        f"{PF} NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <x@example.org>: "
        "Relay access denied; from=<a@example.com> to=<x@example.org> proto=ESMTP helo=<password={s}>",
    ),
    case(
        "sasl-failed-reason",
        f"{PF} warning: unknown[192.0.2.9]: SASL PLAIN authentication failed: bad pass={{s}}",
    ),
    case(
        "repeated-given-password",
        f"{H} dovecot: message repeated 2 times: [ auth: passwd-file(bob,192.0.2.9): Password mismatch "
        "(given password: {s})]",
    ),
    case(
        "rfc5424-cont",
        f"<38>1 2026-02-23T11:57:43Z mail dovecot - - - auth: Debug: client in: CONT{ESC}3{ESC}{{b}}",
    ),
    case("oauth-token", f"{H} dovecot: auth: Debug: oauth2(bob,192.0.2.9): introspection token={{x}}"),
]
IDS = [c[0] for c in CASES]
LINES = [c[1] for c in CASES]


def test_enough_formats() -> None:
    assert len(CASES) >= 60 and len(set(IDS)) == len(IDS)


def _parse_both(lines: list[str]) -> tuple[Any, Any]:
    fast = parse_lines(
        pl.Series(lines, dtype=pl.String), source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026)
    )
    ref = reference_parse(lines, source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026))
    return fast, ref


@pytest.mark.parametrize(("name", "line", "planted"), CASES, ids=IDS)
def test_parsers_cut_the_secret_out_of_every_column(name: str, line: str, planted: list[str]) -> None:
    fast, ref = _parse_both([line])
    rows = fast.table.to_pylist()
    assert rows == ref.table.to_pylist()
    assert fast.secrets == ref.secrets
    assert len(rows) == 1 and fast.secrets, f"{name}: no secret found"
    text = json.dumps(rows[0], default=str, ensure_ascii=False)
    for p in planted:
        assert p not in text, f"{name}: {p!r} left in {rows[0]}"
        assert kept(p, [s for _, _, s in fast.secrets]), f"{name}: {p!r} not kept for --reveal-passwords"
    assert "<redacted:" in rows[0]["message"] and rows[0]["secret_length"] is not None


# ---------------------------------------------------------------------------- whole tool


def _run(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("redact")
    log = tmp / "mail.log"
    log.write_text("\n".join(LINES) + "\n")
    ds = tmp / "ds"
    texts: dict[str, str] = {
        "ingest": _run(["ingest", str(log), "-o", str(ds), "--tz", "UTC", "--year", "2026"])
    }
    for table in ("events", "attempts", "timeline"):
        for fmt in ("csv", "json"):
            out = tmp / f"{table}.{fmt}"
            _run(["export", table, str(ds), "--format", fmt, "-o", str(out)])
            texts[f"{table}.{fmt}"] = out.read_text()
    texts["explain"] = _run(["explain", str(log)])
    for f in ds.rglob("*"):
        if not f.is_file() or "secrets" in f.relative_to(ds).parts:
            continue
        raw = f.read_bytes()
        texts[str(f.relative_to(ds))] = raw.decode("utf-8", "replace")
        if f.suffix == ".parquet":  # the values themselves (pages may be compressed)
            texts[f"{f.name} (values)"] = json.dumps(
                pq.read_table(f).to_pylist(), default=str, ensure_ascii=False
            )
    assert "manifest.json" in texts
    return {"texts": texts, "secrets": list(load_secrets(ds)["secret"]), "ds": ds, "log": log}


@pytest.mark.parametrize(("name", "line", "planted"), CASES, ids=IDS)
def test_no_output_shows_the_secret(
    outputs: dict[str, Any], name: str, line: str, planted: list[str]
) -> None:
    for where, text in outputs["texts"].items():
        for p in planted:
            assert p not in text, f"{name}: {p!r} in {where}"
            assert json.dumps(p)[1:-1] not in text, f"{name}: {p!r} (escaped) in {where}"
    for p in planted:
        assert kept(p, outputs["secrets"]), f"{name}: {p!r} not in the side table"


def test_rows_equal_lines_and_unparsed_examples_redacted(outputs: dict[str, Any]) -> None:
    manifest = json.loads(outputs["texts"]["manifest.json"])
    assert sum(int(i["lines"]) for i in manifest["inputs"]) == len(LINES)
    examples = manifest.get("unparsed_examples", [])
    assert any("<redacted:" in e for e in examples)


def test_attempt_mechanism_of_a_pipelined_login_is_the_mechanism(outputs: dict[str, Any]) -> None:
    attempts = json.loads(outputs["texts"]["attempts.json"])
    rows = attempts if isinstance(attempts, list) else attempts.get("rows", [])
    mechs = {r.get("mechanism") for r in rows if r.get("mechanism")}
    assert all("?" not in str(m) and "<" not in str(m) for m in mechs), mechs


def test_explain_reveals_only_when_asked(outputs: dict[str, Any]) -> None:
    line = CASES[IDS.index("tls-read-continuation")]
    hidden = _run(["explain", line[1]])
    shown = _run(["explain", "--reveal-passwords", line[1]])
    s = pw("tls-read-continuation")
    assert s not in hidden and "redacted" in hidden
    assert s in shown


def test_explain_splits_on_newline_only(tmp_path: Path) -> None:
    text = f"{PF} connect from a\u2028b[192.0.2.1]\n{PF} x\x0cy\n{PF} z\u0085w\n"
    f = tmp_path / "three.log"
    f.write_text(text)
    out = _run(["explain", str(f)])
    numbered = [ln for ln in out.splitlines() if ln[:2] in ("1.", "2.", "3.", "4.")]
    assert [ln[:2] for ln in numbered] == ["1.", "2.", "3."]


# ---------------------------------------------------------------------------- no false positives

LOG_FILES = [
    ("seed", "mail.log"),
    ("postfix-lab", "mail.syslog-traditional.log"),
    ("postfix-lab", "mail.syslog-rfc3339.log"),
    ("postfix-lab", "mail.postlogd.log"),
    ("postfix-lab", "dovecot.syslog.log"),
    ("postfix-lab", "dovecot.native.log"),
    ("postfix-logsums-helga", "mail.log.gz"),
    ("sshguard", "mail_tests.txt"),
]


@pytest.mark.parametrize(("folder", "name"), LOG_FILES)
def test_detector_leaves_ordinary_corpus_lines_alone(folder: str, name: str) -> None:
    lines = read_lines(corpus_path(folder, name))
    fast = parse_lines(
        pl.Series(lines, dtype=pl.String), source_file="t", first_line_no=1, ctx=TimeContext("UTC", 2026)
    )
    rows = fast.frame
    assert rows.height == len(lines)
    taken = {ln: kind for ln, kind, _ in fast.secrets}
    for ln, message in zip(rows.get_column("line_no"), rows.get_column("message"), strict=True):
        if ln in taken:
            # only the AUTH exchanges the lab logged at TLS level 4 / -v, as before the detector
            assert taken[ln] in redact.SECRET_KINDS, lines[ln - 1]
            continue
        assert sec.find_secrets(message) == [], lines[ln - 1]
        assert "<redacted:" not in (message or ""), lines[ln - 1]
    for ln, line in enumerate(lines, 1):
        if ln not in taken:
            assert sec.find_secrets(line) == [], line


def test_detector_leaves_grok_and_sshguard_samples_alone() -> None:
    data = [c["data"] for c in jsonl(corpus_path("postfix-grok-patterns", "cases.jsonl"))]
    data += [c.get("line", c.get("data", "")) for c in jsonl(corpus_path("sshguard", "mail_cases.jsonl"))]
    assert len(data) > 50
    assert [d for d in data if sec.find_secrets(d)] == []


# --- the trigger misses no secret ----------------------------------------------------------
# Ingest runs the Python rules only on lines the polars trigger lets through; texts built
# from the words the rules look for, in any case, around any separator, must never hold a
# secret that the trigger misses (in Python's re, nor in polars, which ingest uses).
_WORDS = [
    "pass",
    "PASS",
    "Password",
    "passwd",
    "pwd",
    "userpassword",
    "user_password",
    "SPF_PASS",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "resp",
    "auth_token",
    "token",
    "AUTH",
    "auth",
    "PLAIN",
    "login",
    "XOAUTH2",
    "CONT",
    "cache hit:",
    "Credentials:",
    "given password:",
    "Invalid password",
    "decoded response:",
    "xsasl_cyrus_server_next:",
    "maps_find:",
    "smtp_sasl_password_maps:",
    "pw mismatch:",
    "auth_shadow:",
    "{SHA512-CRYPT}",
    "{PLAIN}",
    "{RelayedInbound}",
    "$6$",
    "$2y$",
    "Read 12 chars:",
    "<",
    ">",
    "host:",
    "İ",
    "ı",
    "ſ",
]
_GLUE = ["=", ": ", " ", "'", '"', "`", "\t", "#011", "_", "(", ") != '", "??", "", ", "]
_TOKENS = st.from_regex(r"[A-Za-z0-9+/]{1,12}={0,2}", fullmatch=True)


_PIECE = st.tuples(st.sampled_from(_GLUE), st.sampled_from(_WORDS), st.sampled_from(_GLUE), _TOKENS).map(
    "".join
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECE, min_size=1, max_size=3))
def test_the_trigger_lets_through_every_line_that_holds_a_secret(pieces: list[str]) -> None:
    text = "".join(pieces)
    if not sec.find_secrets(text, gate=False):
        return
    assert sec.TRIGGER_RE.search(text) is not None, text
    assert pl.Series([text]).str.contains(sec.TRIGGER).item(), text


def test_the_trigger_skips_spamassassin_scores_and_amavis_tags() -> None:
    line = (
        "(237978-11) Passed CLEAN {RelayedInbound}, [185.31.160.120]:41695 Tests: [SPF_HELO_NONE=0.001,"
        "SPF_PASS=-0.001,URIBL_ABUSE_SURBL=1.25], autolearn=no"
    )
    assert sec.TRIGGER_RE.search(line) is None and sec.find_secrets(line, gate=False) == []
