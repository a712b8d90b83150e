"""Who attacked: one row per actor (an address, or a network of low-volume addresses).

The findings name attackers several times over: one address can be a brute force, a
password spray and a user-name enumeration at once, and a network finding stands for
addresses that each stayed below the per-address threshold. An *actor* is what a reader
blocks: an address with a finding of its own, or a network whose addresses have only the
network's finding. Each actor's figures are counted from the attempts table with the same
outcomes as every other output (:data:`~maillog_forensics.tables.auth.FAILED_OUTCOMES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..tables.auth import FAILED_OUTCOMES
from .rows import network_of

__all__ = [
    "ACTOR_COLUMNS",
    "ACTOR_TAGS",
    "ActorMap",
    "actor_map",
    "actor_of_addresses",
    "actors_from_findings",
]

#: the finding kinds that make an actor, and the tag each gives it (in this order)
ACTOR_TAGS = {
    "account_compromised": "took over an account",
    "brute_force_ip": "password guessing",
    "brute_force_network": "guessing from many addresses",
    "password_spray": "password spray",
    "username_enumeration": "user name enumeration",
    "auth_failures": "failed logins",
}
ACTOR_COLUMNS = [
    "actor",
    "network",
    "what it did",
    "addresses",
    "failed logins",
    "successful logins",
    "user names tried",
    "accounts taken over",
    "first seen",
    "last seen",
    "findings",
]
_ADDRESS_KINDS = tuple(k for k in ACTOR_TAGS if k != "brute_force_network")


def actor_of_addresses(findings: pd.DataFrame, attempts: pd.DataFrame) -> dict[str, str]:
    """Each attacking address and the actor it belongs to (itself, or its network).

    An address with a finding of its own is its own actor; an address without one whose
    network has a ``brute_force_network`` finding, and that failed to log in and never
    succeeded, belongs to that network.

    Examples
    --------
    >>> f = pd.DataFrame({"kind": ["brute_force_ip", "brute_force_network"],
    ...                   "subject_ip": ["192.0.2.1", None], "subject_network": [None, "198.51.100.0/24"]})
    >>> a = pd.DataFrame({"client_ip": ["192.0.2.1", "198.51.100.7", "198.51.100.8", "198.51.100.9"],
    ...                   "outcome": ["failed", "failed", "failed", "succeeded"]})
    >>> actor_of_addresses(f, a)
    {'192.0.2.1': '192.0.2.1', '198.51.100.7': '198.51.100.0/24', '198.51.100.8': '198.51.100.0/24'}
    """
    own = findings.loc[findings["kind"].isin(_ADDRESS_KINDS), "subject_ip"].dropna().astype(str)
    out = {ip: ip for ip in own.unique().tolist() if ip}
    networks = set(
        findings.loc[findings["kind"] == "brute_force_network", "subject_network"].dropna().astype(str)
    )
    if networks:
        ip = attempts["client_ip"].astype(object)
        known = ip.notna() & (ip.astype(str) != "")
        failing = set(ip[known & attempts["outcome"].isin(FAILED_OUTCOMES)].astype(str))
        succeeding = set(ip[known & (attempts["outcome"] == "succeeded")].astype(str))
        for address in sorted(failing - succeeding - set(out)):
            net = network_of(address)
            if net in networks:
                out[address] = net
    return out


def actors_from_findings(findings: pd.DataFrame, attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per actor: what it did (tags), its figures from the attempts, its findings.

    Parameters
    ----------
    findings
        :func:`maillog_forensics.findings` output.
    attempts
        :func:`maillog_forensics.auth_attempts_from_events` output (the one the findings
        were built from).

    Returns
    -------
    pandas.DataFrame
        ``ACTOR_COLUMNS``: ``actor`` is an address or a network, ``network`` the /24 (IPv6
        /64) it is in; ``failed logins`` and ``successful logins`` count the attempts of
        the actor's addresses; ``first seen``/``last seen`` span all its attempts (UTC).
        Rows that took over an account come first, then by failed logins.
    """
    actor_of = actor_of_addresses(findings, attempts)
    if not actor_of:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACTOR_COLUMNS})
    ip = attempts["client_ip"].astype(object).where(attempts["client_ip"].notna(), "").astype(str)
    a = attempts.assign(actor=ip.map(actor_of))
    a = a[a["actor"].notna()]
    failed = a[a["outcome"].isin(FAILED_OUTCOMES)]
    ok = a[a["outcome"] == "succeeded"]
    tags: dict[str, list[str]] = {actor: [] for actor in dict.fromkeys(actor_of.values())}
    ids: dict[str, list[str]] = {actor: [] for actor in tags}
    taken: dict[str, set[str]] = {actor: set() for actor in tags}
    order = {k: i for i, k in enumerate(ACTOR_TAGS)}
    mine = findings[findings["kind"].isin(list(ACTOR_TAGS))]
    mine = mine.assign(rank=mine["kind"].map(order)).sort_values("rank", kind="stable")
    for kind, subject_ip, subject_net, user, fid in zip(
        mine["kind"],
        mine["subject_ip"],
        mine["subject_network"],
        mine["subject_username"],
        mine["finding_id"],
        strict=True,
    ):
        actor = actor_of.get(str(subject_ip)) if pd.notna(subject_ip) else None
        if actor is None and kind == "brute_force_network" and pd.notna(subject_net):
            actor = str(subject_net) if str(subject_net) in tags else None
        if actor is None:
            continue
        if ACTOR_TAGS[kind] not in tags[actor]:
            tags[actor].append(ACTOR_TAGS[kind])
        ids[actor].append(str(fid))
        if kind == "account_compromised" and pd.notna(user):
            taken[actor].add(str(user))
    addresses = pd.Series(actor_of).groupby(pd.Series(actor_of).to_numpy()).size()
    n_failed = failed.groupby("actor").size()
    n_ok = ok.groupby("actor").size()
    users = failed.groupby("actor")["username"].nunique()
    first = a.groupby("actor")["ts"].min()
    last = a.groupby("actor")["ts"].max()
    rows = [
        {
            "actor": actor,
            "network": network_of(actor) if "/" not in actor else actor,
            "what it did": ", ".join(tags[actor]),
            "addresses": int(addresses.get(actor, 0)),
            "failed logins": int(n_failed.get(actor, 0)),
            "successful logins": int(n_ok.get(actor, 0)),
            "user names tried": int(users.get(actor, 0)),
            "accounts taken over": ", ".join(sorted(taken[actor])),
            "first seen": first.get(actor, pd.NaT),
            "last seen": last.get(actor, pd.NaT),
            "findings": ", ".join(ids[actor]),
        }
        for actor in tags
    ]
    out = pd.DataFrame(rows, columns=ACTOR_COLUMNS)
    out["first seen"] = pd.to_datetime(out["first seen"], utc=True)
    out["last seen"] = pd.to_datetime(out["last seen"], utc=True)
    took = out["accounts taken over"] != ""
    return (
        out.assign(_took=~took)
        .sort_values(["_took", "failed logins", "actor"], ascending=[True, False, True], kind="stable")
        .drop(columns="_took")
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class ActorMap:
    """Which actor each attacking address belongs to, and the actors in report order.

    Figures colour by it, so one actor has one colour in every figure.
    """

    actor_of: dict[str, str]
    order: list[str]

    def label(self, address: str) -> str | None:
        """The actor of ``address``, or ``None`` when it is no attacker's."""
        return self.actor_of.get(address)


def actor_map(findings: pd.DataFrame, attempts: pd.DataFrame) -> ActorMap:
    """The :class:`ActorMap` of the findings, actors ordered as :func:`actors_from_findings`."""
    actors = actors_from_findings(findings, attempts)
    return ActorMap(
        actor_of=actor_of_addresses(findings, attempts), order=actors["actor"].astype(str).tolist()
    )
