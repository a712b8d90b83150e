"""What to do: blocklists in the formats firewalls and Postfix read.

The attacking addresses and networks come from the findings. A network is listed as a
CIDR only when no address in it logged in as a legitimate user; otherwise its attacking
addresses are listed one by one. An address that logged in successfully without a
compromise finding is never listed: it is shown apart, for a human to decide.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pandas as pd

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
    """Addresses/networks to block from findings at or above ``min_severity``."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = findings[findings["severity"].map(rank) >= rank[min_severity]]
    compromised_ips = set(findings.loc[findings["kind"] == "account_compromised", "subject_ip"].dropna())
    legit = (
        set(attempts.loc[attempts["outcome"] == "succeeded", "client_ip"].dropna().astype(str))
        - compromised_ips
    )
    out = Blocklist()
    addresses = set(f.loc[f["kind"].isin(_ATTACK_KINDS), "subject_ip"].dropna().astype(str))
    for net in f.loc[f["kind"] == "brute_force_network", "subject_network"].dropna():
        network = ipaddress.ip_network(net)
        members = {str(ip) for ip in attempts["client_ip"].dropna().unique() if _in(str(ip), network)}
        if any(_in(ip, network) for ip in legit):
            addresses |= {ip for ip in members if ip not in legit and _failed(attempts, ip)}
        else:
            out.entries.append(str(network))
    for ip in sorted(addresses):
        if ip in legit:
            out.held_back[ip] = "also logged in successfully as a user (no compromise finding)"
        elif ip and not any(_in(ip, ipaddress.ip_network(n)) for n in out.entries):
            out.entries.append(ip)
    out.entries.sort(key=_key)
    return out


def _in(ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(ip) in network
    except ValueError:
        return False


def _failed(attempts: pd.DataFrame, ip: str) -> bool:
    mine = attempts[attempts["client_ip"] == ip]
    return bool(mine["outcome"].isin(["failed", "rejected", "aborted", "rate_limited"]).any())


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
        lines.append(
            "  set block_v4 { type ipv4_addr; flags interval; elements = { " + ", ".join(v4) + " } }"
            if v4
            else "  set block_v4 { type ipv4_addr; flags interval; }"
        )
        lines.append(
            "  set block_v6 { type ipv6_addr; flags interval; elements = { " + ", ".join(v6) + " } }"
            if v6
            else "  set block_v6 { type ipv6_addr; flags interval; }"
        )
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
