"""Backend verdicts (Dovecot passdb, PAM, Cyrus saslauthd) paired with Postfix's attempts."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..sessions import has_address
from .arrays import appended_evidence, line_evidence, nanoseconds
from .outcomes import POSTFIX_SIDE_ERRORS, account_exists, is_failed_verdict

__all__ = ["bisect_grouped", "merge_backend_verdicts"]


def _drop_worker_duplicates(d: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
    """Dovecot 2.4 logs one verdict twice (``auth-worker`` and ``auth``): keep one."""
    worker = (d["daemon"].astype(object) == "auth-worker") & (kind[d.index] == "dovecot_auth")
    if not worker.any() or worker.all():
        return d
    key = (
        d["username"].astype(str)
        + "\x00"
        + d["client_ip"].astype(str)
        + "\x00"
        + d["auth_result"].astype(str)
    )
    left = pd.DataFrame({"ts": d.loc[worker, "ts"], "key": key[worker], "i": d.index[worker]}).sort_values(
        "ts"
    )
    right = pd.DataFrame({"ts": d.loc[~worker, "ts"], "key": key[~worker]}).sort_values("ts").assign(hit=True)
    m = pd.merge_asof(left, right, on="ts", by="key", direction="nearest", tolerance=pd.Timedelta(seconds=2))
    dup = m.loc[m["hit"].fillna(False).astype(bool), "i"]
    return d.loc[~d.index.isin(dup.to_numpy())]


def _drop_pam_duplicates(d: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
    """Dovecot's passdb pam logs pam_unix's verdict and then its own: keep Dovecot's.

    pam_unix (``pam_unix(dovecot:auth): authentication failure; ... ruser=U rhost=IP``) logs
    when the password check fails; Dovecot's ``pam(U,IP): pam_authenticate() failed: ...``
    (core src/auth/passdb-pam.c, 2.0-2.4) follows once PAM's failure delay (about 2 s) is
    over. One attempt, two lines: a PAM line followed within 5 s by Dovecot's pam verdict
    for the same user and address is dropped. Without auth_verbose Dovecot logs nothing
    and the PAM line stays the attempt's only verdict.
    """
    pam = (kind[d.index] == "pam_auth_failure").to_numpy()
    dov = ((kind[d.index] == "dovecot_auth") & (d["auth_driver"].astype(object) == "pam")).to_numpy()
    if not pam.any() or not dov.any():
        return d
    key = d["username"].astype(str).str.lower() + "\x00" + d["client_ip"].astype(str)
    left = pd.DataFrame({"ts": d.loc[pam, "ts"], "key": key[pam], "i": d.index[pam]}).sort_values("ts")
    right = pd.DataFrame({"ts": d.loc[dov, "ts"], "key": key[dov]}).sort_values("ts").assign(hit=True)
    left, right = left[left["ts"].notna()], right[right["ts"].notna()]
    if left.empty or right.empty:
        return d
    m = pd.merge_asof(left, right, on="ts", by="key", direction="forward", tolerance=pd.Timedelta(seconds=5))
    dup = m.loc[m["hit"].fillna(False).astype(bool), "i"]
    return d.loc[~d.index.isin(dup.to_numpy())]


def merge_backend_verdicts(
    attempts: pd.DataFrame, events: pd.DataFrame, kind: pd.Series, *, vectorised: bool = True
) -> pd.DataFrame:
    """Join Dovecot passdb lines to the Postfix warning of the same attempt.

    Dovecot answers Postfix's SASL request, so both log the attempt from the same client
    address within about a second; when Dovecot's failure delay outlasts Postfix's
    timeout ("Connection lost to authentication server") its line comes later. Lines are
    paired per address in time order; unpaired Dovecot lines are attempts of their own
    (IMAP/POP3, or SMTP AUTH whose Postfix line is missing), and so are lines without a
    time stamp or a client address (nothing says which attempt they answer). ``vectorised=False`` pairs
    every attempt one by one (the tests' reference for the vectorised pairing).
    """
    sasld = (kind == "saslauthd_auth") & (events["auth_result"] == "failure").fillna(False)
    cols = [
        "ts",
        "daemon",
        "severity",
        "client_ip",
        "username",
        "auth_result",
        "reason",
        "anvil_service",
        "source_file",
        "line_no",
        "auth_driver",
    ]
    d = events.loc[kind.isin(["dovecot_auth", "pam_auth_failure"]) | sasld, [c for c in cols if c in events]]
    d = d.assign(**{c: None for c in cols if c not in d})  # saslauthd's columns, if not loaded
    # pam_unix inside saslauthd -a pam (logged as saslauthd[pid]) explains a refusal that
    # saslauthd reports itself: cyrus-sasl 2.1.x saslauthd-main.c do_auth logs every "NO" as
    # "auth failure: [user=...] ..." at L_INFO. The PAM line is the same attempt, not another
    pam_in_sasld = (kind[d.index] == "pam_auth_failure").to_numpy() & (
        d["daemon"].astype(object) == "saslauthd"
    ).to_numpy()
    d = d.loc[~pam_in_sasld]
    # only refusals are attempts; a Debug: line never is (the parser gives it no verdict
    # kind: this is the second guard)
    verdict = d["auth_result"].astype(object).fillna("")
    refused = np.array([is_failed_verdict(str(v)) for v in verdict], dtype=bool)
    refused |= kind[d.index].isin(["pam_auth_failure", "saslauthd_auth"]).to_numpy()
    refused &= (d["severity"].astype(object) != "debug").to_numpy()
    d = d.loc[refused]
    if d.empty:
        return attempts
    d = _drop_worker_duplicates(d, kind)
    d = _drop_pam_duplicates(d, kind)
    is_sasld = (kind[d.index] == "saslauthd_auth").to_numpy()
    # saslauthd's verdict text is its reason ("PAM auth error"); Dovecot's is the result
    d = d.assign(auth_result=d["auth_result"].astype(object).where(~is_sasld, d["reason"].astype(object)))
    result = d["auth_result"].astype(object).fillna("")
    codes, verdicts = pd.factorize(result.to_numpy())
    exists = np.array([account_exists(str(v)) for v in verdicts] + [None], dtype=object)[codes]
    user = np.array(d["username"].astype(object).to_numpy(), dtype=object)
    # Dovecot prints "?" for a name it cannot show: that is no name at all
    user[user == "?"] = None
    dov = pd.DataFrame(
        {
            "ts": d["ts"].array,
            "client_ip": d["client_ip"].astype(object).to_numpy(),
            "username": user,
            "exists": exists,
            "result": d["auth_result"].astype(object).to_numpy(),
            "pam": (kind[d.index] == "pam_auth_failure").to_numpy(),
            "label": np.where(is_sasld, "saslauthd", "dovecot"),
            "service": np.where(
                is_sasld,
                d["anvil_service"].astype(object).fillna("saslauthd").to_numpy(dtype=object),
                "dovecot",
            ),
            "source_file": d["source_file"].astype(str).to_numpy(),
            "line_no": d["line_no"].to_numpy(),
        }
    )
    # saslauthd names the client only with the PAM_RHOST patch ([remote=]): the others are
    # paired by time alone (_pair_by_time)
    loose = (dov["label"] == "saslauthd").to_numpy() & ~has_address(dov["client_ip"])
    loose_lines = dov.loc[loose]
    dov = dov.loc[~loose]
    lines = _DovecotLines(dov)
    attempts = attempts.copy()
    # Postfix refuses unknown mechanisms and bad base64 itself: Dovecot never sees those
    asked = ~attempts["reason"].fillna("").str.startswith(POSTFIX_SIDE_ERRORS)
    candidates = attempts.loc[attempts["outcome"].isin(["failed", "server_error"]) & asked]
    outage = attempts[attempts["outcome"] == "server_error"]
    outage_times: dict[str, list[int]] = {}
    for ip, t in zip(outage["client_ip"].astype(str), nanoseconds(outage["ts"]).tolist(), strict=True):
        outage_times.setdefault(ip, []).append(t)
    for lst in outage_times.values():
        lst.sort()
    # edit plain object arrays, write them back once (cell writes to Arrow columns are slow)
    found = _Pairing(
        user=np.asarray(attempts["username"], dtype=object).copy(),
        source=np.asarray(attempts["username_source"], dtype=object).copy(),
        exists=np.asarray(attempts["account_exists"], dtype=object).copy(),
        evidence=np.asarray(attempts["evidence"], dtype=object).copy(),
    )
    # Dovecot logs its verdict, then holds the reply for auth_failure_delay (2 s). When its
    # delay outlasts Postfix's patience ("Connection lost to authentication server", 454),
    # the verdict comes later: its user name is claimed only when that address had no other
    # abandoned request then; otherwise the line is kept as evidence only
    for outcome, hi, take_name in (("failed", 3.0, True), ("server_error", 120.0, False)):
        lines.pair(
            candidates[candidates["outcome"] == outcome].sort_values("ts", kind="stable"),
            attempts.index,
            found,
            lo=-5.0,
            hi=hi,
            take_name=take_name,
            outage_times=outage_times,
            vectorised=vectorised,
        )
    loose_used = _pair_by_time(
        candidates[candidates["outcome"] == "failed"].sort_values("ts", kind="stable"),
        attempts.index,
        loose_lines,
        found,
    )
    attempts = attempts.assign(
        username=found.user,
        username_source=found.source,
        account_exists=found.exists,
        evidence=found.evidence,
    )
    rest = pd.concat([dov.loc[~lines.used_rows()], loose_lines.loc[~loose_used]])
    if rest.empty:
        return attempts
    own = pd.DataFrame(
        {
            "ts": rest["ts"].to_numpy(),
            "client_ip": rest["client_ip"].to_numpy(),
            "session_id": None,
            "service": rest["service"].to_numpy(),
            "mechanism": None,
            "username": rest["username"].to_numpy(),
            "username_source": np.where(rest["pam"], "pam", rest["label"].to_numpy(dtype=object)),
            "account_exists": rest["exists"].to_numpy(),
            "outcome": "failed",
            "stage": None,
            "reason": rest["result"].to_numpy(),
            "evidence": line_evidence(rest["source_file"], rest["line_no"]),
        }
    )
    return pd.concat([attempts, own], ignore_index=True)


@dataclass
class _Pairing:
    """What pairing found, per attempt (positions of the attempts frame)."""

    user: np.ndarray
    source: np.ndarray
    exists: np.ndarray
    evidence: np.ndarray


class _DovecotLines:
    """Dovecot's verdict lines sorted by (client address, time), for pairing with attempts.

    Each line is used once. The windows of many attempts are found with one sort
    (:func:`bisect_grouped`); only choosing a line within a window is a Python loop.
    """

    def __init__(self, dov: pd.DataFrame) -> None:
        # addresses as text, as attempts name them; a line without one is in no group (-1)
        ip = np.array([str(v) for v in dov["client_ip"].to_numpy().tolist()], dtype=object)
        addressed = has_address(dov["client_ip"])
        self.group_of_ip = {v: k for k, v in enumerate(dict.fromkeys(ip[addressed].tolist()))}
        group = np.fromiter((self.group_of_ip.get(v, -1) for v in ip.tolist()), dtype=np.int64, count=len(ip))
        group[~addressed] = -1
        ns = nanoseconds(dov["ts"])
        # by address, then time, then log order (the order bisection over the lines expects)
        self.order = np.lexsort((np.arange(len(dov)), ns, group))
        self.group = group[self.order]
        self.ns = ns[self.order]
        self.ip = ip[self.order].tolist()
        # numpy arrays for the vectorised pairing, lists for the one-by-one loop
        self.user_arr = np.asarray(dov["username"].to_numpy(dtype=object)[self.order])
        # a line without a name matches no name (None never equals a name)
        self.user_lower_arr = np.array(
            [str(u).lower() if pd.notna(u) else None for u in self.user_arr.tolist()], dtype=object
        )
        self.has_user_arr = np.asarray(pd.notna(self.user_arr), dtype=bool)
        self.exists_arr = np.asarray(dov["exists"].to_numpy(dtype=object)[self.order])
        # where a paired name came from: "dovecot" (passdb and PAM lines) or "saslauthd"
        label = (
            dov["label"].to_numpy(dtype=object)
            if "label" in dov
            else np.full(len(dov), "dovecot", dtype=object)
        )
        self.label_arr = np.asarray(label[self.order], dtype=object)
        self.label = self.label_arr.tolist()
        self.file_arr = np.asarray(dov["source_file"].to_numpy(dtype=object)[self.order])
        self.line_arr = np.asarray(dov["line_no"].to_numpy()[self.order])
        self.user = self.user_arr.tolist()
        self.user_lower = self.user_lower_arr.tolist()
        self.has_user = self.has_user_arr.tolist()
        self.exists = self.exists_arr.tolist()
        self.file = self.file_arr.tolist()
        self.line = self.line_arr.tolist()
        self.used = bytearray(len(dov))
        self.used_arr = np.frombuffer(self.used, dtype=np.uint8)  # the same memory

    def used_rows(self) -> np.ndarray:
        """``used`` in the frame's own row order."""
        out = np.zeros(len(self.used), dtype=bool)
        out[self.order] = self.used_arr.astype(bool)
        return out

    def pair(
        self,
        pool: pd.DataFrame,
        index: pd.Index,
        found: _Pairing,
        *,
        lo: float,
        hi: float,
        take_name: bool,
        outage_times: dict[str, list[int]],
        vectorised: bool = True,
    ) -> None:
        """Give each attempt of ``pool`` (in time order) the first free line of its window."""
        if pool.empty:
            return
        second = 1_000_000_000
        a_ns = nanoseconds(pool["ts"])
        a_ip = [str(v) for v in pool["client_ip"].astype(str).to_numpy()]
        a_group = np.fromiter((self.group_of_ip.get(v, -1) for v in a_ip), dtype=np.int64, count=len(a_ip))
        # an attempt without a time stamp has no window (and a line without one, sorted
        # before every dated line of its address, falls in none): neither is paired; nor is
        # one without a client address (nothing ties it to a line)
        known = (a_group >= 0) & pool["ts"].notna().to_numpy() & has_address(pool["client_ip"])
        first = np.zeros(len(pool), dtype=np.int64)
        last = np.zeros(len(pool), dtype=np.int64)
        first[known] = bisect_grouped(
            self.group, self.ns, a_group[known], a_ns[known] + int(lo * second), "left"
        )
        last[known] = bisect_grouped(
            self.group, self.ns, a_group[known], a_ns[known] + int(hi * second), "right"
        )
        said_of = [
            str(u).lower() if src == "sasl_username" and pd.notna(u) else None
            for u, src in zip(pool["username"].to_numpy(), pool["username_source"].to_numpy(), strict=True)
        ]
        positions = index.get_indexer(pool.index)
        todo = np.flatnonzero(first < last)
        if vectorised and take_name and not self.used_arr.any():
            todo = self._pair_runs(todo, a_group, first, last, said_of, positions, found)
        used, user_lower = self.used, self.user_lower
        first_l, last_l, pos_l = first.tolist(), last.tolist(), positions.tolist()
        for k in todo.tolist():
            window = [j for j in range(first_l[k], last_l[k]) if not used[j]]
            if not window:
                continue
            said = said_of[k]
            # the name Postfix got back from Dovecot picks the line among parallel sessions
            j = (
                next((j for j in window if user_lower[j] == said), window[0])
                if said is not None
                else window[0]
            )
            used[j] = 1
            sure = take_name or (
                len(window) == 1 and _alone(outage_times.get(self.ip[j], []), int(self.ns[j]))
            )
            pos = pos_l[k]
            if sure and self.has_user[j]:
                found.user[pos], found.source[pos], found.exists[pos] = (
                    self.user[j],
                    self.label[j],
                    self.exists[j],
                )
            line = {"source_file": str(self.file[j]), "line_no": int(self.line[j])}
            found.evidence[pos] = [*found.evidence[pos], line]

    def _pair_runs(
        self,
        todo: np.ndarray,
        a_group: np.ndarray,
        first: np.ndarray,
        last: np.ndarray,
        said_of: list[str | None],
        positions: np.ndarray,
        found: _Pairing,
    ) -> np.ndarray:
        """Pair at once the runs of attempts that the one-by-one loop would pair in line order.

        Windows of one address move forward in time, so only neighbours can share lines;
        a run is a chain of overlapping windows. When each attempt of a run takes its first
        free line, the picks are ``pick[k] = max(pick[k-1] + 1, first[k])``, a running
        maximum. A run is paired here if every pick is inside its window and is the line
        whose name Postfix got back (when it got one); other runs are returned for the loop.
        Only called before any line is used, with names taken.
        """
        ks = todo[np.argsort(a_group[todo], kind="stable")]  # by address, in time order
        if not len(ks):
            return todo
        g, f, e = a_group[ks], first[ks], last[ks]
        starts = np.ones(len(ks), dtype=bool)
        starts[1:] = (g[1:] != g[:-1]) | (f[1:] >= e[:-1])
        run = np.cumsum(starts) - 1
        step = np.arange(len(ks)) - np.flatnonzero(starts)[run]  # place within the run
        big = 4 * (len(self.used) + len(ks) + 1)
        best = np.maximum.accumulate(f - step + run * big) - run * big
        pick = best + step
        ok = pick < e
        said = np.array([said_of[k] for k in ks.tolist()], dtype=object)
        has_said = np.flatnonzero(said != None)  # noqa: E711 (elementwise)
        in_window = has_said[ok[has_said]]
        ok[has_said[~ok[has_said]]] = False
        ok[in_window] = self.user_lower_arr[pick[in_window]] == said[in_window]
        bad_run = np.zeros(run[-1] + 1, dtype=bool)
        bad_run[run[~ok]] = True
        good = ~bad_run[run]
        ks, pick = ks[good], pick[good]
        if not len(ks):
            return todo
        self.used_arr[pick] = 1
        pos = positions[ks]
        has = self.has_user_arr[pick]
        found.user[pos[has]] = self.user_arr[pick[has]]
        found.source[pos[has]] = self.label_arr[pick[has]]
        found.exists[pos[has]] = self.exists_arr[pick[has]]
        found.evidence[pos] = appended_evidence(found.evidence[pos], self.file_arr[pick], self.line_arr[pick])
        left = np.ones(len(first), dtype=bool)
        left[ks] = False
        rest: np.ndarray = todo[left[todo]]
        return rest


def _pair_by_time(pool: pd.DataFrame, index: pd.Index, lines: pd.DataFrame, found: _Pairing) -> np.ndarray:
    """Pair saslauthd verdicts that name no client with Postfix failures by time alone.

    Each attempt of ``pool`` (in time order) takes the first free line from 5 s before to 3 s
    after it (the name Postfix got back, when it got one, picks the line); the line's user
    name is taken only when every attempt that line could answer came from the same address
    (a wrong guess among parallel sessions must not put a name on another client). Returns
    which lines (in ``lines`` order) were used.
    """
    used = np.zeros(len(lines), dtype=bool)
    if pool.empty or lines.empty:
        return used
    second = 1_000_000_000
    l_order = np.argsort(nanoseconds(lines["ts"]), kind="stable")
    l_ns = nanoseconds(lines["ts"])[l_order]
    dated = pool["ts"].notna().to_numpy()
    pool = pool.loc[dated]
    a_ns = nanoseconds(pool["ts"])
    a_ip = [str(v) for v in pool["client_ip"].astype(object).to_numpy()]
    said = [
        str(u).lower() if src == "sasl_username" and pd.notna(u) else None
        for u, src in zip(pool["username"].to_numpy(), pool["username_source"].to_numpy(), strict=True)
    ]
    l_user = [lines["username"].to_numpy(dtype=object)[i] for i in l_order.tolist()]
    l_lower = [str(u).lower() if pd.notna(u) else None for u in l_user]
    l_exists = lines["exists"].to_numpy(dtype=object)[l_order].tolist()
    l_file = lines["source_file"].to_numpy(dtype=object)[l_order].tolist()
    l_line = lines["line_no"].to_numpy()[l_order].tolist()
    positions = index.get_indexer(pool.index).tolist()
    a_list, l_list = a_ns.tolist(), l_ns.tolist()
    for k in range(len(pool)):
        lo = bisect.bisect_left(l_list, a_list[k] - 5 * second)
        hi = bisect.bisect_right(l_list, a_list[k] + 3 * second)
        free = [j for j in range(lo, hi) if not used[j]]
        if not free:
            continue
        j = next((j for j in free if l_lower[j] == said[k]), free[0]) if said[k] is not None else free[0]
        used[j] = True
        # the attempts this line could answer: from 3 s before it to 5 s after it
        a_lo = bisect.bisect_left(a_list, l_list[j] - 3 * second)
        a_hi = bisect.bisect_right(a_list, l_list[j] + 5 * second)
        sure = len({a_ip[i] for i in range(a_lo, a_hi)}) == 1
        pos = positions[k]
        if sure and l_user[j] is not None and pd.notna(l_user[j]) and found.source[pos] == "none":
            found.user[pos], found.source[pos], found.exists[pos] = l_user[j], "saslauthd", l_exists[j]
        found.evidence[pos] = [
            *found.evidence[pos],
            {"source_file": str(l_file[j]), "line_no": int(l_line[j])},
        ]
    out = np.zeros(len(lines), dtype=bool)
    out[l_order] = used
    return out


def _alone(outages: list[int], t_line: int) -> bool:
    """Is there exactly one backend-outage attempt (of the line's address) within 2 min of it?"""
    window = 120 * 1_000_000_000
    return bisect.bisect_right(outages, t_line + window) - bisect.bisect_left(outages, t_line - window) == 1


def bisect_grouped(
    groups: np.ndarray, times: np.ndarray, q_groups: np.ndarray, q_times: np.ndarray, side: str
) -> np.ndarray:
    """``bisect`` of each query (group, time) into lines sorted by (group, time), all at once.

    Returns global positions: with ``side="left"`` the first line of the query's group at or
    after its time, with ``"right"`` the first after it (a group's lines are contiguous, so
    ``[left, right)`` never leaves the group).
    """
    n = len(times)
    # a query sorts before equal lines for "left", after them for "right"
    rank = 0 if side == "left" else 2
    keys_g = np.concatenate([groups, q_groups])
    keys_t = np.concatenate([times, q_times])
    keys_k = np.concatenate([np.ones(n, dtype=np.int8), np.full(len(q_times), rank, dtype=np.int8)])
    order = np.lexsort((keys_k, keys_t, keys_g))
    is_line = order < n
    lines_before: np.ndarray = np.cumsum(is_line) - is_line
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    return np.asarray(lines_before[where[n:]], dtype=np.int64)
