"""Our tables against the ground truth of a real Postfix under a scripted attack.

Each test runs once per configuration and log view (see ``conftest.VIEWS``). Every check is
exact; a mismatch names the scripted connection and prints the log lines about its address.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import subprocess
import sys
from collections import Counter, defaultdict
from typing import Any

import pandas as pd

from maillog_forensics.common.wording import counted
from tests.e2e.attack import UNSEEN_QUEUE_ID
from tests.e2e.conftest import Observed
from tests.e2e.server import USERS

OUR_OUTCOME = {
    "succeeded": "success",
    "failed": "fail",
    "server_error": "tempfail",
    "rate_limited": "tempfail",
    "rejected": "rejected",
}
RATE_LIMITED = 450  # anvil refused the AUTH command: Postfix logs no mechanism for it
ATTACKER_ROLES = {"attacker", "intruder", "seed"}
LEGITIMATE_ROLES = {"user", "mta"}


def _explain(obs: Observed, what: str, conn: dict[str, Any] | None, ip: str) -> str:
    shown = json.dumps(conn, default=str)[:1500] if conn else "(no scripted connection)"
    where = f"{obs.generation} {obs.view}"
    return f"[{where}] {what}\nground truth: {shown}\nlog lines about {ip}:\n{obs.lines_about(ip)}"


def _n(value: Any) -> int:
    """A disconnect counter: absent (the command was never sent) is zero."""
    return 0 if value is None or pd.isna(value) else int(value)


def test_one_session_per_scripted_connection(observed: Observed) -> None:
    obs = observed
    ours: dict[tuple[str, str], list[dict[Any, Any]]] = defaultdict(list)
    for rec in obs.sessions.sort_values("start", kind="stable").to_dict("records"):
        ours[(rec["client_ip"], rec["service"])].append(rec)
    theirs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in sorted(obs.truth, key=lambda t: t["start"]):
        theirs[(t["src_ip"], t["service"])].append(t)
    extra = sorted(set(ours) - set(theirs))
    assert not extra, _explain(obs, f"sessions nobody scripted: {extra}", None, extra[0][0])
    for key, conns in theirs.items():
        mine = ours.get(key, [])
        assert len(mine) == len(conns), _explain(obs, f"{key}: {len(mine)} sessions", conns[0], key[0])
        for t, m in zip(conns, mine, strict=True):
            assert abs(m["start"].timestamp() - t["start"]) < 2.5, _explain(obs, "start", t, key[0])
            want_end = {"quit": "quit", "abort": "lost connection"}[t["how"]]
            assert m["end_reason"] == want_end, _explain(obs, f"ended {m['end_reason']!r}", t, key[0])
            assert not (m["truncated_start"] or m["truncated_end"]), _explain(obs, "truncated", t, key[0])
            assert _n(m["auth_total"]) == len(t["attempts"]), _explain(obs, "auth_total", t, key[0])
            ok = sum(a["outcome"] == "success" for a in t["attempts"])
            assert _n(m["auth_ok"]) == ok, _explain(obs, "auth_ok", t, key[0])
            queued = [x["queue_id"] for x in t["mails"] if x["queue_id"]]
            if UNSEEN_QUEUE_ID in queued:  # relayed by Postfix's own client: how many, not which
                assert len(m["queue_ids"]) == len(queued), _explain(obs, "queue_ids", t, key[0])
            else:
                assert sorted(m["queue_ids"]) == sorted(queued), _explain(obs, "queue_ids", t, key[0])
            has_tls = m["tls_protocol"] is not None and str(m["tls_protocol"]) not in ("<NA>", "nan")
            assert has_tls == (t["tls"] != "none"), _explain(obs, "tls", t, key[0])
            verbose = {
                "tls_loglevel_4": bool(m["tls_verbose"]),
                "debug_peer_list": bool(m["debug_dialogue"]),
                "smtpd_v": bool(m["debug_dialogue"]),
            }
            assert verbose.get(t["verbose"] or "", False) or not t["verbose"], _explain(
                obs, "verbose", t, key[0]
            )
            if not t["verbose"]:
                assert not any(verbose.values()), _explain(obs, "verbose flag on a plain session", t, key[0])


def test_attempts_per_address_mechanism_and_outcome(observed: Observed) -> None:
    obs = observed
    a = obs.attempts
    assert set(a["outcome"]) <= set(OUR_OUTCOME), set(a["outcome"])
    want = Counter(
        (t["src_ip"], None if x["reply_code"] == RATE_LIMITED else x["mechanism"], x["outcome"])
        for t in obs.truth
        for x in t["attempts"]
    )
    mechanism = a["mechanism"].astype(object).where(a["mechanism"].notna(), None)
    got = Counter(zip(a["client_ip"], mechanism, a["outcome"].map(OUR_OUTCOME), strict=True))
    for key in sorted(set(want) | set(got), key=str):
        if want[key] != got[key]:
            conn = next((t for t in obs.truth if t["src_ip"] == key[0] and t["attempts"]), None)
            raise AssertionError(
                _explain(obs, f"{key}: {got[key]} attempts, truth {want[key]}", conn, key[0])
            )
    assert len(a) == sum(want.values())


def test_usernames_where_the_logs_carry_them(observed: Observed) -> None:
    obs = observed
    a = obs.attempts
    named = a[a["username_source"] != "none"]
    tried = Counter((t["src_ip"], x["username"]) for t in obs.truth for x in t["attempts"])
    got = Counter(zip(named["client_ip"], named["username"], strict=True))
    wrong = got - tried
    if wrong:
        ip = next(iter(wrong))[0]
        conn = next(t for t in obs.truth if t["src_ip"] == ip)
        raise AssertionError(_explain(obs, f"names never tried: {dict(wrong)}", conn, ip))
    # a name is missing only where the auth server never saw the attempt (it timed out)
    carried = Counter(
        (t["src_ip"], x["username"]) for t in obs.truth for x in t["attempts"] if x["outcome"] != "tempfail"
    )
    missing = carried - got
    assert not missing, _explain(
        obs, f"names the logs carry, not found: {dict(missing)}", None, next(iter(missing))[0]
    )


def test_the_compromised_account_and_the_mail_it_sent(observed: Observed) -> None:
    obs = observed
    intruders = {t["src_ip"] for t in obs.truth if t["role"] == "intruder"}
    sent: Counter[str] = Counter(
        t["src_ip"] for t in obs.truth if t["role"] == "intruder" for m in t["mails"] if m["queue_id"]
    )
    f = obs.findings
    c = f[f["kind"] == "account_compromised"]
    assert set(c["subject_username"]) == {"alice@e2e.example"}, c[["subject_ip", "subject_username"]]
    assert set(c["subject_ip"]) == intruders
    assert (c["severity"] == "critical").all()
    assert dict(zip(c["subject_ip"], c["count"], strict=True)) == dict(sent)
    # every queued message: its session's address, its authenticated user, its recipients
    m = obs.messages.set_index("queue_id")
    for t in obs.truth:
        user = next((x["username"] for x in t["attempts"] if x["outcome"] == "success"), None)
        for mail in t["mails"]:
            if not mail["queue_id"] or mail["queue_id"] == UNSEEN_QUEUE_ID:
                continue
            assert mail["queue_id"] in m.index, _explain(
                obs, f"no message {mail['queue_id']}", t, t["src_ip"]
            )
            row = m.loc[mail["queue_id"]]
            accepted = sorted(r for r, code in mail["rcpts"].items() if code == 250)
            assert row["client_ip"] == t["src_ip"]
            assert (row["sasl_username"] if isinstance(row["sasl_username"], str) else None) == user
            assert row["message_id"] == mail["message_id"]
            assert sorted(row["recipients"]) == accepted, _explain(obs, "recipients", t, t["src_ip"])


def test_credential_leak_finding_for_the_verbose_sessions(observed: Observed) -> None:
    obs = observed
    verbose = [t for t in obs.truth if t["verbose"]]
    exposed = [x for t in verbose for x in t["attempts"]]
    f = obs.findings
    assert f["finding_id"].is_unique, f[["finding_id", "kind", "summary"]]
    leaks = f[f["kind"] == "credentials_in_logs"]
    leak = leaks[leaks["summary"].str.contains("SMTP dialogue")]
    assert len(leak) == 1 and len(leaks) == 1 + obs.config.auth_debug, leaks["summary"].tolist()
    if obs.config.auth_debug:  # auth_verbose_passwords: every password Dovecot refused
        dovecot = leaks[leaks["summary"].str.contains("auth_verbose_passwords")]
        refused = [x for t in obs.truth for x in t["attempts"] if x["outcome"] == "fail"]
        # Dovecot also logs its verdict on a request Postfix gave up waiting for (a tempfail)
        late = sum(x["outcome"] == "tempfail" for t in obs.truth for x in t["attempts"])
        assert len(refused) <= dovecot["count"].item() <= len(refused) + late, dovecot["summary"].item()
        named = sorted({x["username"] for x in refused})[:10]  # the action names the first ten
        assert all(u in dovecot["action"].item() for u in named), dovecot["action"].item()
    assert leak["count"].item() == len(verbose)  # sessions whose dialogue is in the log
    summary = leak["summary"].item()
    assert counted(len(verbose), "session") in summary, summary
    assert counted(len(exposed), "password") in summary, summary
    users = sorted({x["username"] for x in exposed})
    assert all(u in leak["action"].item() for u in users)  # "change the exposed passwords (...)"
    logged = obs.attempts[obs.attempts["credentials_logged"].fillna(False).astype(bool)]
    assert Counter(logged["client_ip"]) == Counter(t["src_ip"] for t in verbose for _ in t["attempts"])
    assert logged["password_hmac"].notna().all() and logged["password"].isna().all()
    # the clear passwords are nowhere in what we show or store, only their keyed hashes
    text = obs.attempts.astype(str).to_csv() + obs.findings.astype(str).to_csv()
    assert not any(x["password"] in text for x in exposed)
    assert {"config_tls_loglevel", "config_auth_on_port25"} <= set(obs.findings["kind"])


def test_blocklist_has_every_attacker_and_no_legitimate_user(observed: Observed) -> None:
    obs = observed
    nets = [ipaddress.ip_network(e, strict=False) for e in obs.blocklist]

    def blocked(ip: str) -> bool:
        return any(ipaddress.ip_address(ip) in n for n in nets)

    attackers = {t["src_ip"] for t in obs.truth if t["role"] in ATTACKER_ROLES}
    legit = {t["src_ip"] for t in obs.truth if t["role"] in LEGITIMATE_ROLES}
    missed = sorted(ip for ip in attackers if not blocked(ip))
    assert not missed, _explain(obs, f"attackers not blocked: {missed}", None, missed[0])
    wrongly = sorted(ip for ip in legit if blocked(ip))
    assert not wrongly, _explain(obs, f"legitimate addresses blocked: {wrongly}", None, wrongly[0])


def test_brute_force_campaign_and_spray_are_named(observed: Observed) -> None:
    f = observed.findings

    def subjects(kind: str, column: str = "subject_ip") -> set[str]:
        return set(f.loc[f["kind"] == kind, column].dropna())

    brute = {t["src_ip"] for t in observed.truth if t["scenario"] == "brute-force"}
    spray = {t["src_ip"] for t in observed.truth if t["scenario"] == "spray"}
    campaign = {t["src_ip"] for t in observed.truth if t["scenario"] == "campaign"}
    assert brute <= subjects("brute_force_ip")
    assert spray <= subjects("password_spray")
    nets = {str(ipaddress.ip_network(f"{ip}/24", strict=False)) for ip in campaign}
    assert nets <= subjects("brute_force_network", "subject_network")


def test_auth_rate_limit_is_seen_where_configured(observed: Observed) -> None:
    f = observed.findings
    limited = observed.attempts[observed.attempts["outcome"] == "rate_limited"]
    refused = [x for t in observed.truth for x in t["attempts"] if x["reply_code"] == RATE_LIMITED]
    assert len(limited) == len(refused)
    if observed.config.auth_rate_limit:
        assert refused, "the scenario should reach the configured AUTH rate limit"
        assert "config_no_auth_rate_limit" not in set(f["kind"])
    else:
        assert not refused
        assert "config_no_auth_rate_limit" in set(f["kind"])


def _secrets(obs: Observed) -> dict[str, str]:
    """Every scripted password, as the logs can carry it: clear, base64, the AUTH PLAIN blob.

    Passwords that are ordinary words or digits alone ("password", "123456") also occur in
    text that carries no secret (column names, sizes): those are left out.
    """
    found: dict[str, str] = {}
    tried = [(x["username"], x["password"]) for t in obs.truth for x in t["attempts"]]
    for user, pw in [*tried, *USERS.items()]:
        if pw.isalpha() or pw.isdigit():
            continue
        found[pw] = pw
        found[base64.b64encode(pw.encode()).decode()] = f"base64 of {pw}"
        blob = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()
        found[blob] = f"AUTH PLAIN blob of {user}/{pw}"
    return found


def test_no_scripted_secret_in_clear_in_the_dataset_or_its_exports(observed: Observed) -> None:
    obs = observed
    secrets = _secrets(obs)
    in_logs = {s for s in secrets if any(s in ln for ln in obs.log_lines)}
    cli = [sys.executable, "-m", "maillog_forensics.cli"]
    texts = {}
    for table in ("events", "attempts", "sessions", "findings", "timeline"):
        res = subprocess.run(
            [*cli, "export", table, str(obs.dataset)], capture_output=True, text=True, timeout=300
        )
        assert res.returncode == 0, res.stderr
        texts[f"export {table}"] = res.stdout
    texts["events (loaded)"] = obs.events.astype(str).to_csv()
    texts["attempts (built)"] = obs.attempts.astype(str).to_csv()
    leaks = sorted(f"{where}: {secrets[s]}" for where, text in texts.items() for s in secrets if s in text)
    assert not leaks, (
        f"[{obs.generation} {obs.view}] secrets in clear "
        f"({len(in_logs)} of {len(secrets)} forms are in the logs):\n"
        + "\n".join(leaks[:40])
        + "\nlog lines:\n"
        + "\n".join(ln for ln in obs.log_lines if any(s in ln for s in in_logs))[:6000]
    )
