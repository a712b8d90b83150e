"""Pairing backend verdicts with Postfix's attempts: the vectorised pairing equals the plain rule."""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from maillog_forensics.tables.auth import POSTFIX_SIDE_ERRORS, account_exists
from maillog_forensics.tables.auth.pairing import bisect_grouped, merge_backend_verdicts

_T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _stamp(seconds: int | None) -> pd.Timestamp:
    return pd.NaT if seconds is None else _T0 + pd.Timedelta(seconds=seconds)


@st.composite
def _pairing_case(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Attempts and Dovecot verdicts from a few addresses, close enough in time to compete."""
    ips = ["192.0.2.1", "192.0.2.2", "198.51.100.7"]
    names = ["alice", "bob", "none", "?", None]
    n_att = draw(st.integers(0, 25))
    attempts = pd.DataFrame(
        {
            "ts": [_stamp(draw(st.one_of(st.integers(0, 40), st.none()))) for _ in range(n_att)],
            "client_ip": [draw(st.sampled_from([*ips, None])) for _ in range(n_att)],
            "session_id": None,
            "service": "smtp",
            "mechanism": "PLAIN",
            "username": [draw(st.sampled_from(["alice", "Bob", "None", None])) for _ in range(n_att)],
            "username_source": None,
            "account_exists": None,
            "outcome": [
                draw(st.sampled_from(["failed", "failed", "server_error", "aborted"])) for _ in range(n_att)
            ],
            "stage": None,
            "reason": pd.Series(
                [
                    draw(
                        st.sampled_from([None, "authentication failure", "Invalid authentication mechanism"])
                    )
                    for _ in range(n_att)
                ],
                dtype=object,
            ),
            "evidence": [[{"source_file": "m", "line_no": i}] for i in range(n_att)],
        }
    )
    attempts["username_source"] = np.where(
        attempts["username"].notna(), "sasl_username", draw(st.sampled_from(["none", "sasl_username"]))
    )  # a name-less attempt said to have Postfix's name must still match no nameless line
    n_dov = draw(st.integers(0, 25))
    events = pd.DataFrame(
        {
            "ts": [_stamp(draw(st.one_of(st.integers(-5, 60), st.none()))) for _ in range(n_dov)],
            "daemon": "auth",
            "severity": pd.Categorical([draw(st.sampled_from(["info", None])) for _ in range(n_dov)]),
            "client_ip": pd.Categorical([draw(st.sampled_from([*ips, None])) for _ in range(n_dov)]),
            "username": pd.Categorical([draw(st.sampled_from(names)) for _ in range(n_dov)]),
            "auth_result": pd.Categorical(
                [draw(st.sampled_from(["unknown user", "Password mismatch"])) for _ in range(n_dov)]
            ),
            "source_file": "d",
            "line_no": range(n_dov),
        }
    )
    kind = pd.Series(pd.Categorical(["dovecot_auth"] * n_dov), index=events.index)
    return attempts, events, kind


@settings(max_examples=300, deadline=None)
@given(_pairing_case())
def test_vectorised_pairing_equals_one_by_one(case: tuple[pd.DataFrame, pd.DataFrame, pd.Series]) -> None:
    attempts, events, kind = case
    fast = merge_backend_verdicts(attempts, events, kind)
    slow = merge_backend_verdicts(attempts, events, kind, vectorised=False)
    pd.testing.assert_frame_equal(fast, slow)


def _paired_plainly(attempts: pd.DataFrame, events: pd.DataFrame) -> tuple[list[tuple], list[int]]:
    """The pairing rule written out plainly (the oracle of the test below).

    Failed attempts (in time order) take the first free Dovecot line of their address from
    5 s before to 3 s after them, preferring one with the name Postfix got; then backend
    errors do the same up to 120 s after, and take the line's name only if it was the only
    free line and the only backend error of that address within 2 min. Attempts and lines
    without a time stamp or an address are never paired. Returns per attempt (name, source,
    account exists, line numbers of its evidence), and the line numbers of the unpaired lines.
    """
    sec = pd.Timedelta(seconds=1)
    lines = []
    for t, ip, user, result, no in zip(
        events["ts"],
        events["client_ip"].astype(object),
        events["username"].astype(object),
        events["auth_result"].astype(object),
        events["line_no"],
        strict=True,
    ):
        name = None if user == "?" or pd.isna(user) else user
        exists = account_exists(str(result) if pd.notna(result) else "")
        lines.append(
            {"ts": t, "ip": str(ip) if pd.notna(ip) else None, "user": name, "exists": exists, "no": no}
        )
    att = attempts.to_dict("records")
    rows = [
        [a["username"], a["username_source"], a["account_exists"], [e["line_no"] for e in a["evidence"]]]
        for a in att
    ]
    outages = [
        (a["ts"], str(a["client_ip"])) for a in att if a["outcome"] == "server_error" and pd.notna(a["ts"])
    ]
    used: set[int] = set()
    for outcome, hi, take_name in (("failed", 3, True), ("server_error", 120, False)):
        todo = [
            k
            for k, a in enumerate(att)
            if a["outcome"] == outcome
            and pd.notna(a["ts"])
            and pd.notna(a["client_ip"])
            and not str(a["reason"] or "").startswith(POSTFIX_SIDE_ERRORS)
        ]
        for k in sorted(todo, key=lambda k: att[k]["ts"]):
            t, ip = att[k]["ts"], str(att[k]["client_ip"])
            window = [
                i
                for i, ln in sorted(
                    enumerate(lines), key=lambda p: (p[1]["ts"] if pd.notna(p[1]["ts"]) else t, p[0])
                )
                if i not in used
                and ln["ip"] == ip
                and pd.notna(ln["ts"])
                and t - 5 * sec <= ln["ts"] <= t + hi * sec
            ]
            if not window:
                continue
            named = att[k]["username_source"] == "sasl_username" and pd.notna(att[k]["username"])
            said = str(att[k]["username"]).lower() if named else None
            same = [
                i
                for i in window
                if said and lines[i]["user"] is not None and str(lines[i]["user"]).lower() == said
            ]
            i = same[0] if same else window[0]
            used.add(i)
            near = [o for o, oip in outages if oip == ip and abs(o - lines[i]["ts"]) <= 120 * sec]
            if (take_name or (len(window) == 1 and len(near) == 1)) and lines[i]["user"] is not None:
                rows[k][:3] = [lines[i]["user"], "dovecot", lines[i]["exists"]]
            rows[k][3] = [*rows[k][3], lines[i]["no"]]
    unpaired = sorted(ln["no"] for i, ln in enumerate(lines) if i not in used)
    return [(r[0], r[1], r[2], tuple(r[3])) for r in rows], unpaired


@settings(max_examples=300, deadline=None)
@given(_pairing_case())
def test_pairing_follows_the_plain_rule(case: tuple[pd.DataFrame, pd.DataFrame, pd.Series]) -> None:
    attempts, events, kind = case
    out = merge_backend_verdicts(attempts, events, kind)
    expected_rows, unpaired = _paired_plainly(attempts, events)
    # a missing name is missing, whichever value pandas uses for it (pandas 3's str: NaN)
    got = [
        (None if pd.isna(u) else u, s, e, tuple(x["line_no"] for x in ev))
        for u, s, e, ev in zip(
            out["username"][: len(attempts)], out["username_source"][: len(attempts)],
            out["account_exists"][: len(attempts)], out["evidence"][: len(attempts)], strict=True,
        )
    ]  # fmt: skip
    expected_rows = [(None if pd.isna(r[0]) else r[0], *r[1:]) for r in expected_rows]
    assert got == expected_rows
    assert sorted(ev[0]["line_no"] for ev in out["evidence"][len(attempts) :]) == unpaired


def test_pairing_takes_the_named_line_and_leaves_the_rest_as_attempts() -> None:
    t = [_T0 + pd.Timedelta(seconds=s) for s in (0, 1, 30)]
    # bob's attempt comes first, but alice's line is logged first
    attempts = pd.DataFrame(
        {
            "ts": [t[0], t[1]],
            "client_ip": ["192.0.2.1", "192.0.2.1"],
            "session_id": None,
            "service": "smtp",
            "mechanism": "LOGIN",
            "username": ["bob", None],
            "username_source": ["sasl_username", "none"],
            "account_exists": None,
            "outcome": "failed",
            "stage": None,
            "reason": "authentication failure",
            "evidence": [[], []],
        }
    )
    events = pd.DataFrame(
        {
            "ts": t,
            "daemon": "auth",
            "severity": "info",
            "client_ip": pd.Categorical(["192.0.2.1"] * 3),
            "username": pd.Categorical(["alice", "bob", "carol"]),
            "auth_result": pd.Categorical(["unknown user", "Password mismatch", "unknown user"]),
            "source_file": "d",
            "line_no": [1, 2, 3],
        }
    )
    kind = pd.Series(pd.Categorical(["dovecot_auth"] * 3))
    for vectorised in (True, False):
        out = merge_backend_verdicts(attempts, events, kind, vectorised=vectorised)
        # the name Postfix got picks bob's line for the first attempt; the second gets alice's
        assert list(out["username"]) == ["bob", "alice", "carol"]
        assert [e[-1]["line_no"] for e in out["evidence"]] == [2, 1, 3]
        assert list(out["account_exists"]) == [True, False, False]
        assert list(out["service"]) == ["smtp", "smtp", "dovecot"]  # carol's line is 30 s later: its own


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20)), max_size=30),
    st.lists(st.tuples(st.integers(-1, 4), st.integers(-2, 22)), max_size=20),
    st.sampled_from(["left", "right"]),
)
def test_bisect_grouped_is_bisect_within_each_group(
    lines: list[tuple[int, int]], queries: list[tuple[int, int]], side: str
) -> None:
    lines = sorted(lines)
    groups = np.array([g for g, _ in lines], dtype=np.int64)
    times = np.array([t for _, t in lines], dtype=np.int64)
    got = bisect_grouped(
        groups,
        times,
        np.array([g for g, _ in queries], dtype=np.int64),
        np.array([t for _, t in queries], dtype=np.int64),
        side,
    )
    # (group, time ± ½) falls between the lines exactly where bisect_left/right put (group, time)
    shift = -0.5 if side == "left" else 0.5
    assert got.tolist() == [bisect.bisect_left(lines, (g, t + shift)) for g, t in queries]


# --- Dovecot Debug: lines are never attempts ------------------------------------------------
