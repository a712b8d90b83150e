"""Authentication attempts against the lab's ground truth, and password redaction."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.events.store import load_secrets
from maillog_forensics.tables.auth import auth_attempts_from_events
from maillog_forensics.tables.credentials import load_or_create_key
from tests.corpus import corpus_path, jsonl

# ground-truth outcome → ours
OUTCOME = {
    "success": {"succeeded"},
    "fail": {"failed"},
    "tempfail": {"server_error", "rate_limited"},
    "rejected": {"rejected", "aborted"},
}
LAB_PASSWORDS = ["Spring2024!", "info@2024"]  # planted in the lab's attack: must never show by default


def lab(tmp_path_factory: pytest.TempPathFactory, *logs: str) -> Path:
    ds = tmp_path_factory.mktemp("lab") / "ds"
    mf.ingest([str(corpus_path("postfix-lab", log)) for log in logs], ds, tz="UTC", year=2026)
    return ds


@pytest.fixture(
    scope="module",
    params=[
        (("mail.syslog-traditional.log",), "syslog"),
        (("mail.postlogd.log", "dovecot.native.log"), "postlogd"),  # Postfix's own log + Dovecot's
    ],
)
def lab_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    logs, phase = request.param
    return lab(tmp_path_factory, *logs), phase


def attempts_of(ds: Path, **kw: object) -> pd.DataFrame:
    return auth_attempts_from_events(
        mf.load_events(ds), secrets=load_secrets(ds), hmac_key=load_or_create_key(ds), **kw
    )


def test_every_ground_truth_attempt_is_one_row(lab_case: tuple[Path, str]) -> None:
    ds, phase = lab_case
    truth = [
        r for r in jsonl(corpus_path("postfix-lab", f"ground-truth.{phase}.jsonl")) if r["event"] == "auth"
    ]
    a = attempts_of(ds)
    assert len(a) == len(truth) == 195
    assert isinstance(a["ts"].dtype, pd.DatetimeTZDtype) and str(a["ts"].dtype.tz) == "UTC"
    # per address: the same number of attempts of each outcome class
    want = Counter((t["src_ip"], t["outcome"]) for t in truth)
    got: Counter[tuple[str, str]] = Counter()
    for ip, outcome, reason in zip(a["client_ip"], a["outcome"], a["reason"].fillna(""), strict=True):
        cls = next(k for k, v in OUTCOME.items() if outcome in v)
        if reason.startswith("too many errors"):
            cls = "tempfail"  # the lab counts the 421 error-limit reply as a temporary failure
        got[(ip, cls)] += 1
    assert got == want
    # per address: mechanisms, where the log names one
    named = a[a["mechanism"].notna()]
    want_mech = Counter((t["src_ip"], t["mechanism"]) for t in truth)
    got_mech = Counter(zip(named["client_ip"], named["mechanism"], strict=True))
    assert all(got_mech[k] <= want_mech[k] for k in got_mech), got_mech - want_mech
    assert len(named) >= 180
    # user names: never a guess; each one is a name that address really tried
    tried = Counter((t["src_ip"], t["username"].lower()) for t in truth)
    known = a[a["username_source"] != "none"]
    wrong = Counter(zip(known["client_ip"], known["username"].str.lower(), strict=True)) - tried
    assert not wrong, wrong
    # ... and every attempt whose name the logs do carry (a Dovecot line; a success) has it
    aligned = list(jsonl(corpus_path("postfix-lab", f"alignment.{phase}.jsonl")))
    carried = sum(1 for r in aligned if r["dovecot_line"]) + sum(
        1 for t in truth if t["outcome"] == "success"
    )
    assert (a["username_source"] != "none").sum() >= carried


def test_compromise_and_account_oracle(lab_case: tuple[Path, str]) -> None:
    a = attempts_of(lab_case[0])
    ok = a[a["outcome"] == "succeeded"]
    assert Counter(ok["username"].dropna()) == Counter(
        {"alice@lab.example": 3, "bob@lab.example": 1, "carol@lab.example": 1}
    )
    dov = a[a["username_source"] == "dovecot"]
    assert set(dov.loc[dov["account_exists"] == True, "username"]) <= {  # noqa: E712
        "alice@lab.example",
        "bob@lab.example",
        "carol@lab.example",
        "postmaster@lab.example",
        "abuse@lab.example",
    }
    assert (dov["account_exists"] == False).sum() > 50  # noqa: E712
    assert (a["outcome"] == "server_error").sum() == (
        a["reason"] == "Connection lost to authentication server"
    ).sum()


def test_decoded_dialogue_without_clear_passwords(lab_case: tuple[Path, str]) -> None:
    a = attempts_of(lab_case[0])
    seed = a[a["client_ip"].isin(["127.0.0.13", "127.0.0.14", "127.0.0.9"])]
    assert len(seed) == 5 and seed["password_hmac"].notna().all()
    assert seed["password"].isna().all()
    cut = seed[seed["password_truncated"] == True]  # noqa: E712
    assert len(cut) == 2 and (cut["password_length_max"] > cut["password_length_min"]).all()
    text = a.astype(str).to_csv()
    assert not any(p in text for p in LAB_PASSWORDS)


def test_reveal_passwords_is_explicit_and_warns(lab_case: tuple[Path, str]) -> None:
    with pytest.warns(UserWarning, match="clear text"):
        a = attempts_of(lab_case[0], reveal_passwords=True)
    shown = a["password"].dropna()
    assert len(shown) == 5 and shown.str.endswith("…").sum() == 2


def test_same_password_same_hmac(lab_case: tuple[Path, str]) -> None:
    a = attempts_of(lab_case[0])
    with pytest.warns(UserWarning):
        clear = attempts_of(lab_case[0], reveal_passwords=True)
    pairs = clear.dropna(subset=["password"]).assign(h=a["password_hmac"])
    for _, grp in pairs.groupby("password"):
        assert grp["h"].nunique() == 1


def test_seed_excerpt(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    mf.ingest([str(corpus_path("seed", "mail.log"))], ds, tz="UTC", year=2026)
    (row,) = attempts_of(ds).to_dict("records")
    assert (row["mechanism"], row["username"], row["username_source"], row["outcome"]) == (
        "PLAIN",
        "admin@fipick.com",
        "decoded",
        "failed",
    )
    assert (row["password_length_min"], row["password_length_max"], row["password_truncated"]) == (4, 6, True)
    assert row["client_ip"] == "" and len(row["evidence"]) >= 2
    assert row["tls"] == "TLSv1.2" and row["credentials_logged"]


def test_dovecot_24_format_and_worker_duplicate(tmp_path: Path) -> None:
    log = tmp_path / "dovecot.log"
    log.write_text(
        "Jun 23 00:10:49 auth-worker(info@example.com,192.0.2.4)<4001084><CvN+E95Uf4e7eEnj>: request [12]: "
        "Info: sql: Password mismatch (given password: Xx-planted-9)\n"
        "Jun 23 00:10:49 auth(info@example.com,192.0.2.4,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: "
        "Password mismatch (given password: Xx-planted-9)\n"
        "Jun 23 00:10:52 auth(nobody@example.com,192.0.2.4,sasl:plain)<AbC+E95Uf4e7eEnj>: Info: passwd-file: "
        "unknown user\n"
        "Jun 23 00:11:05 imap-login: Info: Login aborted: Connection closed "
        "(auth failed, 3 attempts in 16 secs) "
        "(auth_failed): user=<info@example.com>, method=PLAIN, rip=192.0.2.4, lip=198.51.100.5, TLS, "
        "session=<CvN+E95Uf4e7eEnj>\n"
    )
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    a = attempts_of(ds)
    # the worker copy is dropped; info's verdict is one of the imap summary's 3 attempts
    # (same address and user, before it), nobody's (another user) stays an attempt of its own
    passdb = a[a["service"] == "dovecot"]
    assert list(passdb["username"]) == ["nobody@example.com"]
    assert list(passdb["account_exists"]) == [False]
    imap = a[a["service"] == "imap"]
    assert len(imap) == 3 and set(imap["username"]) == {"info@example.com"}
    assert list(imap["account_exists"]).count(True) == 1 and len(a) == 4
    assert "Xx-planted-9" not in a.astype(str).to_csv()


def test_cyrus_repeats_are_real_names_and_backend_errors_are_stale(tmp_path: Path) -> None:
    # Cyrus names the attempted user on every failure: two guesses for one account in one
    # session are two named attempts (found by tests/e2e against a real Postfix + Cyrus).
    # After "Connection lost to authentication server" Postfix repeats the previous name.
    log = tmp_path / "mail.log"
    sd = "Nov 27 22:19:39 mail postfix/smtpd[12611]:"
    log.write_text(
        f"{sd} connect from unknown[192.0.2.2]\n"
        f"{sd} warning: SASL authentication failure: Password verification failed\n"
        f"{sd} warning: unknown[192.0.2.2]: SASL PLAIN authentication failed: authentication failure, "
        "sasl_username=admin@example.com\n"
        f"{sd} warning: unknown[192.0.2.2]: SASL LOGIN authentication failed: authentication failure, "
        "sasl_username=admin@example.com\n"
        f"{sd} warning: unknown[192.0.2.2]: SASL LOGIN authentication failed: Connection lost to "
        "authentication server, sasl_username=admin@example.com\n"
        f"{sd} disconnect from unknown[192.0.2.2] ehlo=1 auth=0/3 quit=1 commands=2/5\n"
    )
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    a = attempts_of(ds)
    assert list(a["username"].fillna("-")) == ["admin@example.com", "admin@example.com", "-"]
    assert list(a["outcome"]) == ["failed", "failed", "server_error"]


# --------------------------------------------------------------- pairing with Dovecot's lines


#: auth_debug output of one request, 2.3 shapes (core 2.3.21 src/auth/auth-request.c,
#: db-passwd-file.c, auth-client-connection.c, auth-master-connection.c), the 2.4 shape of
#: the same (process prefix "auth(u,ip,sasl:plain)<session>:"), and 2.2's debug_passwords line
_DEBUG_23 = [
    "auth: Debug: client in: AUTH\t1\tPLAIN\tservice=smtp\tlip=198.51.100.1\trip=192.0.2.7",
    "auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): Performing passdb lookup",
    "auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): lookup: user=alice file=/etc/dovecot/users",
    "auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): SSHA(Planted-pw-5) != '{SSHA}xyz'",
    "auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): Finished passdb lookup",
    "auth: Debug: auth(alice,192.0.2.7,<kX9d>): Auth request finished",
    "auth(alice,192.0.2.7,sasl:plain)<kX9d>: Debug: passwd-file: Performing passdb lookup",
    "auth: Debug: client passdb out: FAIL\t1\tuser=alice",
]


def _attempts_of_lines(tmp_path: Path, lines: list[str]) -> pd.DataFrame:
    log = tmp_path / "mail.log"
    log.write_text("".join(f"Nov 27 10:00:{i:02d} mx dovecot: {text}\n" for i, text in lines))
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    return attempts_of(ds)


@pytest.mark.parametrize("n_debug", [0, 1, len(_DEBUG_23)])
def test_one_passdb_failure_and_debug_lines_are_one_attempt(tmp_path: Path, n_debug: int) -> None:
    lines = [(1, text) for text in _DEBUG_23[:n_debug]]
    lines.append((2, "auth: passwd-file(alice,192.0.2.7,<kX9d>): Password mismatch"))
    a = _attempts_of_lines(tmp_path, lines)
    assert list(a["outcome"]) == ["failed"]
    assert (a["username"].iloc[0], a["client_ip"].iloc[0], a["account_exists"].iloc[0]) == (
        "alice",
        "192.0.2.7",
        True,
    )
    assert "Planted-pw" not in a.astype(str).to_csv()


def test_one_imap_failure_and_debug_lines_are_one_attempt(tmp_path: Path) -> None:
    lines = [(1, text) for text in _DEBUG_23]
    lines.append(
        (
            3,
            "imap-login: Disconnected: Connection closed: read(size=7902) failed: Connection reset by peer "
            "(auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=192.0.2.7, "
            "lip=198.51.100.1, TLS, session=<kX9d>",
        )
    )
    a = _attempts_of_lines(tmp_path, lines)
    assert list(a["outcome"]) == ["failed"] and list(a["service"]) == ["imap"]
    assert (a["username"].iloc[0], a["client_ip"].iloc[0], a["mechanism"].iloc[0]) == (
        "alice",
        "192.0.2.7",
        "PLAIN",
    )


def test_master_user_login_with_debug_lines_is_one_success(tmp_path: Path) -> None:
    # 2.2 auth-request.c: "Master user logging in as %s" (Info) and the debug lookups;
    # login-common "Login: user=<bob>, ..." is the one login
    lines = [
        (1, "auth: Debug: client in: AUTH\t1\tPLAIN\tservice=imap\tlip=198.51.100.1\trip=192.0.2.7"),
        (
            1,
            "auth: Debug: passwd-file(master,192.0.2.7,master,<kX9d>): lookup: user=master file=/etc/masters",
        ),
        (1, "auth: Debug: passwd-file(master,192.0.2.7,master,<kX9d>): Master user lookup for login: bob"),
        (1, "auth: passwd-file(master,192.0.2.7,master,<kX9d>): Master user logging in as bob"),
        (1, "auth: Debug: passwd-file(bob,192.0.2.7,<kX9d>): lookup: user=bob file=/etc/dovecot/users"),
        (1, "auth: Debug: client passdb out: OK\t1\tuser=bob"),
        (2, "imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, mpid=4712, TLS"),
    ]
    a = _attempts_of_lines(tmp_path, lines)
    assert list(a["outcome"]) == ["succeeded"]
    assert (a["username"].iloc[0], a["client_ip"].iloc[0], a["service"].iloc[0]) == (
        "bob",
        "192.0.2.7",
        "imap",
    )


@pytest.mark.parametrize(
    ("summary", "outcomes", "user"),
    [
        # 2.4: three failures in one connection
        (
            "imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) "
            "(auth_failed): "
            "user=<alice>, method=PLAIN, rip=192.0.2.7, lip=198.51.100.1, TLS, session=<kX9d>",
            ["failed"] * 3,
            "alice",
        ),
        (
            "pop3-login: Disconnected: Inactivity (auth failed, 2 attempts in 180 secs): user=<alice>, "
            "method=PLAIN, rip=192.0.2.7, lip=198.51.100.1",
            ["failed"] * 2,
            "alice",
        ),
        (
            "submission-login: Disconnected (proxy dest auth failed): user=<alice>, method=PLAIN, "
            "rip=192.0.2.7, lip=198.51.100.1",
            ["failed"],
            "alice",
        ),
        # refused before any password check: a rejected attempt without a name
        (
            "imap-login: Disconnected (tried to use disallowed plaintext auth): user=<>, rip=192.0.2.7, "
            "lip=198.51.100.1, session=<kX9d>",
            ["rejected"],
            None,
        ),
        ("imap-login: Login: user=<alice>, PID=4712", ["succeeded"], "alice"),
        # core 2.2-2.4 src/login-common/client-common.c: the auth process did not answer (the
        # server's fault, not a guess); a client that gave up mid-exchange; malformed ones
        (
            "imap-login: Disconnected (auth process communication failure): user=<alice>, method=PLAIN, "
            "rip=192.0.2.7, lip=198.51.100.1",
            ["server_error"],
            "alice",
        ),
        (
            "imap-login: Login aborted: Connection closed (auth process communication failure, "
            "2 attempts in 3 secs) (auth_process_comm_fail): user=<alice>, method=PLAIN, rip=192.0.2.7, "
            "lip=198.51.100.1",
            ["server_error"] * 2,
            "alice",
        ),
        (
            "submission-login: Login aborted: Connection closed (proxy dest temporary authentication "
            "failure, 1 attempts in 1 secs) (proxy_dest_auth_temp_failed): user=<alice>, method=PLAIN, "
            "rip=192.0.2.7, lip=198.51.100.1",
            ["server_error"],
            "alice",
        ),
        (
            "imap-login: Disconnected (aborted authentication): user=<>, method=LOGIN, rip=192.0.2.7, "
            "lip=198.51.100.1",
            ["aborted"],
            None,
        ),
        (
            "pop3-login: Disconnected (sent invalid base64 in response): user=<>, method=PLAIN, "
            "rip=192.0.2.7, lip=198.51.100.1",
            ["rejected"],
            None,
        ),
        (
            "imap-login: Disconnected (tried to use unsupported auth mechanism): user=<>, rip=192.0.2.7, "
            "lip=198.51.100.1",
            ["rejected"],
            None,
        ),
        # neither a login nor an attempt
        (
            "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=192.0.2.7, lip=198.51.100.1",
            [],
            None,
        ),
        (
            "imap-login: Login failed: Plaintext authentication disabled: user=<>, rip=192.0.2.7, "
            "lip=198.51.100.1",
            [],
            None,
        ),
    ],
)
def test_login_summary_outcomes(tmp_path: Path, summary: str, outcomes: list[str], user: str | None) -> None:
    a = _attempts_of_lines(tmp_path, [(1, "imap-login: Debug: SSL: elliptic curve secp384r1"), (2, summary)])
    assert list(a["outcome"]) == outcomes
    assert all((u if pd.notna(u) else None) == user for u in a["username"])
    if outcomes and "rip=" in summary:
        assert set(a["client_ip"]) == {"192.0.2.7"}


def test_passdb_lines_of_an_imap_failure_are_its_summary_attempts(tmp_path: Path) -> None:
    # Dovecot 2.3 with auth_verbose: the auth process's verdict per attempt, then the login
    # process's summary at disconnect; carol's verdict is of another client: its own attempt
    lines = [
        (1, "auth: Debug: passwd-file(alice,192.0.2.7,<kX9d>): Performing passdb lookup"),
        (1, "auth: passwd-file(alice,192.0.2.7,<kX9d>): Password mismatch"),
        (2, "auth: passwd-file(nobody,192.0.2.7,<kX9d>): unknown user"),
        (3, "auth: passwd-file(carol,192.0.2.99,<Zz1>): unknown user"),
        (
            9,
            "imap-login: Disconnected (auth failed, 2 attempts in 8 secs): user=<>, method=PLAIN, "
            "rip=192.0.2.7, lip=198.51.100.1, TLS, session=<kX9d>",
        ),
    ]
    a = _attempts_of_lines(tmp_path, lines)
    imap = a[a["service"] == "imap"]
    assert list(a["outcome"]) == ["failed"] * 3
    assert sorted(imap["username"]) == ["alice", "nobody"] and set(imap["username_source"]) == {"dovecot"}
    assert sorted(imap["account_exists"].map(bool)) == [False, True]
    assert all(len(ev) == 2 for ev in imap["evidence"])  # the verdict line and the summary
    assert list(a.loc[a["service"] == "dovecot", "username"]) == ["carol"]


# ---------------------------------------------- Postfix < 3.0 successes, Cyrus saslauthd


def _attempts_of_text(tmp_path: Path, text: str) -> pd.DataFrame:
    log = tmp_path / "mail.log"
    log.write_text(text)
    ds = tmp_path / "ds"
    mf.ingest([str(log)], ds, tz="UTC", year=2026)
    return attempts_of(ds)


@pytest.mark.parametrize(
    ("session", "last"),
    [
        # Postfix 2.x: "disconnect from %s" without counters (smtpd.c v2.11)
        (["connect from unknown[192.0.2.1]:55729", "disconnect from unknown[192.0.2.1]:55729"], 4),
        # the disconnect is outside the file
        (["connect from unknown[192.0.2.1]:55729"], 3),
        # Postfix 3.x: the counter and the client= line tell of the same login
        (["connect from unknown[192.0.2.1]:55729", "disconnect from unknown[192.0.2.1]:55729 ehlo=1 auth=1 "
          "mail=1 rcpt=1 data=1 quit=1 commands=6"], 4),
    ],
)  # fmt: skip
def test_client_line_alone_is_a_named_success(tmp_path: Path, session: list[str], last: int) -> None:
    sd = "Nov 27 10:00:0{} mx postfix/smtpd[100]: {}\n"
    lines = [
        session[0],
        "ABCDEF1234: client=unknown[192.0.2.1]:55729, sasl_method=login, sasl_username=alice@example.com",
        "BCDEF12345: client=unknown[192.0.2.1]:55729, sasl_method=login, sasl_username=alice@example.com",
        *session[1:],
    ]
    a = _attempts_of_text(tmp_path, "".join(sd.format(i, t) for i, t in enumerate(lines)))
    (row,) = a.to_dict("records")  # one login per session: no double counting
    assert (row["outcome"], row["username"], row["client_ip"], row["mechanism"]) == (
        "succeeded",
        "alice@example.com",
        "192.0.2.1",
        "LOGIN",
    )
    # the first client= line, then the session's last line (the disconnect, when logged)
    assert [e["line_no"] for e in row["evidence"]] == [2, last]


def test_saslauthd_failures_pair_with_postfix_and_stand_alone(tmp_path: Path) -> None:
    # saslauthd-main.c do_auth (2.1.28 without [remote=], master with it)
    sd = "Nov 27 10:00:{:02d} mx postfix/smtpd[100]: {}\n"
    sa = "Nov 27 10:00:{:02d} mx saslauthd[99]: do_auth         : auth failure: [user={}] [service={}] "
    sa += "[realm=] {}[mech=pam] [reason=PAM auth error]\n"
    fail = "warning: unknown[192.0.2.1]:55729: SASL {} authentication failed: authentication failure"
    text = (
        sd.format(1, "connect from unknown[192.0.2.1]:55729")
        + sa.format(3, "bob", "smtp", "")
        + sd.format(3, "warning: SASL authentication failure: Password verification failed")
        + sd.format(3, fail.format("plain"))
        + sa.format(20, "alice", "smtp", "[remote=192.0.2.1;55729] ")
        + sd.format(20, fail.format("LOGIN"))
        + sd.format(21, "disconnect from unknown[192.0.2.1]:55729 ehlo=1 auth=0/2 quit=1 commands=2/4")
        + sa.format(40, "carol", "imap", "[remote=198.51.100.7;41000] ")
        + sa.format(50, "dave", "imap", "")
    )
    a = _attempts_of_text(tmp_path, text)
    got = list(
        zip(a["username"], a["client_ip"].fillna("-"), a["outcome"], a["username_source"], strict=True)
    )
    assert got == [
        ("bob", "192.0.2.1", "failed", "saslauthd"),
        ("alice", "192.0.2.1", "failed", "saslauthd"),
        ("carol", "198.51.100.7", "failed", "saslauthd"),
        ("dave", "-", "failed", "saslauthd"),
    ]
    assert list(a["mechanism"].fillna("-")) == ["PLAIN", "LOGIN", "-", "-"]
    assert list(a["service"]) == ["smtp", "smtp", "imap", "imap"]
    assert [len(e) for e in a["evidence"]] == [2, 2, 1, 1]


def test_saslauthd_name_is_not_given_to_a_parallel_client(tmp_path: Path) -> None:
    # two clients fail at the same second; saslauthd (no [remote=]) cannot say which was bob
    sd = "Nov 27 10:00:03 mx postfix/smtpd[{}]: warning: unknown[{}]: SASL LOGIN authentication failed: x\n"
    text = (
        "Nov 27 10:00:03 mx saslauthd[99]: do_auth         : auth failure: [user=bob] [service=smtp] "
        "[realm=] [mech=pam] [reason=PAM auth error]\n"
        + sd.format(100, "192.0.2.1")
        + sd.format(101, "192.0.2.2")
    )
    a = _attempts_of_text(tmp_path, text)
    assert len(a) == 2 and a["username"].isna().all()  # the verdict is evidence, not a third attempt
    assert sorted(len(e) for e in a["evidence"]) == [1, 2]
