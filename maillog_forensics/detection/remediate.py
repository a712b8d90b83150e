"""What to do: blocklists in the formats firewalls and Postfix read.

The attacking addresses and networks come from the findings. A network is listed as a
CIDR only when no address in it logged in as a legitimate user; otherwise its attacking
addresses are listed one by one. An address that logged in successfully without a
compromise finding is never listed: it is shown apart, for a human to decide.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..tables.auth import FAILED_OUTCOMES
from .detect import SEVERITIES

__all__ = ["FORMATS", "Blocklist", "blocklist", "render_blocklist"]

FORMATS = ("plain", "nft", "iptables", "postfix", "fail2ban")
_ATTACK_KINDS = (
    "brute_force_ip",
    "auth_failures",
    "password_spray",
    "username_enumeration",
    "account_compromised",
)


@dataclass
class Blocklist:
    """Addresses and networks to block, and addresses held back for review."""

    entries: list[str] = field(default_factory=list)  # addresses and CIDRs, sorted
    held_back: dict[str, str] = field(default_factory=dict)  # address -> why not listed


def _key(entry: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(entry, strict=False)
    return (net.version, int(net.network_address), net.prefixlen)


def blocklist(findings: pd.DataFrame, attempts: pd.DataFrame, *, min_severity: str = "low") -> Blocklist:
    """Addresses/networks to block from findings at or above ``min_severity``.

    Addresses are parsed once and matched to networks through their supernet of each
    prefix length in use (a dictionary look-up), so tens of thousands of attacking
    addresses and hundreds of networks take a fraction of a second.
    """
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = findings[findings["severity"].map(rank) >= rank[min_severity]]
    compromised_ips = set(findings.loc[findings["kind"] == "account_compromised", "subject_ip"].dropna())
    legit = (
        set(attempts.loc[attempts["outcome"] == "succeeded", "client_ip"].dropna().astype(str))
        - compromised_ips
    )
    failing = set(
        attempts.loc[attempts["outcome"].isin(list(FAILED_OUTCOMES)), "client_ip"].dropna().astype(str)
    )
    seen = _parsed(str(ip) for ip in attempts["client_ip"].dropna().unique())
    legit_parsed = _parsed(legit)
    out = Blocklist()
    addresses = set(f.loc[f["kind"].isin(_ATTACK_KINDS), "subject_ip"].dropna().astype(str))
    listed_networks: set[_Network] = set()
    for net in f.loc[f["kind"] == "brute_force_network", "subject_network"].dropna():
        network = ipaddress.ip_network(net)
        if _any_in(legit_parsed.values(), network):
            members = {ip for ip, obj in seen.items() if _within(obj, network)}
            addresses |= {ip for ip in members if ip not in legit and ip in failing}
        else:
            out.entries.append(str(network))
            listed_networks.add(network)
    prefixes = {(n.version, n.prefixlen) for n in listed_networks}
    listed: set[_Address] = set()
    for ip in sorted(addresses):
        if ip in legit:
            out.held_back[ip] = "also logged in successfully as a user (no compromise finding)"
            continue
        if not ip:
            continue
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            out.held_back[ip] = "not an IP address: nothing a firewall could block"
            continue
        supernets = (
            ipaddress.ip_network(f"{addr}/{length}", strict=False)
            for version, length in prefixes
            if version == addr.version
        )
        # an address already covered: by a listed network, or listed under another spelling
        if addr not in listed and not any(n in listed_networks for n in supernets):
            out.entries.append(ip)
            listed.add(addr)
    out.entries.sort(key=_key)
    return out


_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parsed(ips: Iterable[str]) -> dict[str, _Address]:
    """The addresses among ``ips`` (text that is no address is left out)."""
    out: dict[str, _Address] = {}
    for ip in ips:
        try:
            out[ip] = ipaddress.ip_address(ip)
        except ValueError:
            continue
    return out


def _within(addr: _Address, network: _Network) -> bool:
    return addr.version == network.version and addr in network


def _any_in(addrs: Iterable[_Address], network: _Network) -> bool:
    return any(_within(a, network) for a in addrs)


def render_blocklist(bl: Blocklist, fmt: str) -> str:
    """The list in one of ``FORMATS``."""
    v4 = [e for e in bl.entries if ipaddress.ip_network(e, strict=False).version == 4]
    v6 = [e for e in bl.entries if ipaddress.ip_network(e, strict=False).version == 6]
    if fmt == "plain":
        lines = list(bl.entries)
    elif fmt == "nft":
        lines = [
            "# nft -f FILE: sets in table inet maillog_forensics; reference them from your input chain",
            "table inet maillog_forensics {",
        ]
        # one element per line: a long set neither wraps mid-address nor hides in one line
        for name, kind, entries in (("block_v4", "ipv4_addr", v4), ("block_v6", "ipv6_addr", v6)):
            lines.append(f"  set {name} {{")
            lines.append(f"    type {kind}; flags interval;")
            if entries:
                lines.append("    elements = {")
                lines += [f"      {e}," for e in entries[:-1]] + [f"      {entries[-1]}"]
                lines.append("    }")
            lines.append("  }")
        lines.append("}")
    elif fmt == "iptables":
        lines = [f"iptables -I INPUT -s {e} -p tcp -m multiport --dports 25,465,587 -j DROP" for e in v4]
        lines += [f"ip6tables -I INPUT -s {e} -p tcp -m multiport --dports 25,465,587 -j DROP" for e in v6]
    elif fmt == "postfix":
        lines = ["# cidr: table; in main.cf: smtpd_client_restrictions = check_client_access cidr:FILE"]
        lines += [f"{e}\tREJECT blocked after password guessing" for e in bl.entries]
    elif fmt == "fail2ban":
        lines = [f"fail2ban-client set postfix-sasl banip {e}" for e in bl.entries]
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return "\n".join(lines) + "\n"
