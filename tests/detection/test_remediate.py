"""Blocklists: CIDRs only where no user logs in, users never listed, every format."""

from __future__ import annotations

import pandas as pd
import pytest

from maillog_forensics.detection.remediate import FORMATS, blocklist, render_blocklist


def finding(kind: str, severity: str, ip: str | None = None, net: str | None = None) -> dict:
    return {"kind": kind, "severity": severity, "subject_ip": ip, "subject_network": net}


ATTEMPTS = pd.DataFrame(
    {
        "client_ip": ["192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.7", "198.51.100.9", "2001:db8::5"],
        "outcome": ["failed", "failed", "succeeded", "failed", "failed", "failed"],
    }
)


def test_networks_with_users_are_listed_address_by_address() -> None:
    f = pd.DataFrame(
        [
            finding("brute_force_network", "high", net="192.0.2.0/24"),  # 192.0.2.3 is a user
            finding("brute_force_network", "high", net="198.51.100.0/24"),
            finding("brute_force_ip", "medium", ip="2001:db8::5"),
            finding("auth_failures", "low", ip="192.0.2.3"),
        ]
    )
    bl = blocklist(f, ATTEMPTS)
    assert bl.entries == ["192.0.2.1", "192.0.2.2", "198.51.100.0/24", "2001:db8::5"]
    assert "192.0.2.3" in bl.held_back
    assert blocklist(f, ATTEMPTS, min_severity="high").entries == [
        "192.0.2.1",
        "192.0.2.2",
        "198.51.100.0/24",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_lists_every_entry(fmt: str) -> None:
    bl = blocklist(
        pd.DataFrame(
            [
                finding("brute_force_ip", "high", ip="192.0.2.1"),
                finding("brute_force_ip", "high", ip="2001:db8::5"),
            ]
        ),
        ATTEMPTS,
    )
    text = render_blocklist(bl, fmt)
    assert "192.0.2.1" in text and "2001:db8::5" in text
    if fmt == "iptables":
        assert "ip6tables -I INPUT -s 2001:db8::5" in text
    with pytest.raises(ValueError):
        render_blocklist(bl, "pf")


def _blocklist_by_scanning(findings: pd.DataFrame, attempts: pd.DataFrame, min_severity: str) -> tuple:
    """The first implementation (every address tested against every network): the oracle."""
    import ipaddress

    from maillog_forensics.detection.detect import SEVERITIES

    def within(ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
        try:
            return ipaddress.ip_address(ip) in network
        except ValueError:
            return False

    rank = {s: i for i, s in enumerate(SEVERITIES)}
    f = findings[findings["severity"].map(rank) >= rank[min_severity]]
    compromised = set(findings.loc[findings["kind"] == "account_compromised", "subject_ip"].dropna())
    legit = (
        set(attempts.loc[attempts["outcome"] == "succeeded", "client_ip"].dropna().astype(str)) - compromised
    )
    kinds = (
        "brute_force_ip",
        "auth_failures",
        "password_spray",
        "username_enumeration",
        "account_compromised",
    )
    addresses = set(f.loc[f["kind"].isin(kinds), "subject_ip"].dropna().astype(str))
    entries: list[str] = []
    held: dict[str, str] = {}
    for net in f.loc[f["kind"] == "brute_force_network", "subject_network"].dropna():
        network = ipaddress.ip_network(net)
        members = {str(ip) for ip in attempts["client_ip"].dropna().unique() if within(str(ip), network)}
        if any(within(ip, network) for ip in legit):
            for ip in members:
                mine = attempts[attempts["client_ip"] == ip]
                if (
                    ip not in legit
                    and mine["outcome"].isin(["failed", "rejected", "aborted", "rate_limited"]).any()
                ):
                    addresses.add(ip)
        else:
            entries.append(str(network))
    for ip in sorted(addresses):
        if ip in legit:
            held[ip] = "user"
        elif ip and not any(within(ip, ipaddress.ip_network(n)) for n in entries):
            entries.append(ip)
    return sorted(entries), sorted(held)


@pytest.mark.parametrize("seed", range(8))
def test_blocklist_equals_testing_every_address_against_every_network(seed: int) -> None:
    import random

    rnd = random.Random(seed)
    nets4 = [f"10.{rnd.randrange(4)}.{k}" for k in range(6)]
    nets6 = [f"2001:db8:{k:x}:" for k in range(3)]
    ips = [f"{rnd.choice(nets4)}.{rnd.randrange(1, 255)}" for _ in range(300)]
    ips += [f"{rnd.choice(nets6)}:{rnd.randrange(1, 9999):x}" for _ in range(60)]
    outcomes = rnd.choices(
        ["failed", "succeeded", "rejected", "server_error"], weights=[8, 1, 1, 1], k=len(ips)
    )
    # a network where nobody logs in: listed as one CIDR
    ips += [f"172.16.5.{k}" for k in range(1, 41)]
    outcomes += ["failed"] * 40
    attempts = pd.DataFrame({"client_ip": ips, "outcome": outcomes})
    rows = [
        finding("brute_force_network", rnd.choice(["medium", "high"]), net=f"{n}.0/24") for n in set(nets4)
    ]
    rows += [finding("brute_force_network", "high", net=f"{n}:/64") for n in nets6[:2]]
    rows += [finding("brute_force_network", "high", net="172.16.5.0/24")]
    rows += [
        finding(
            rnd.choice(["brute_force_ip", "auth_failures", "password_spray"]),
            rnd.choice(["low", "high"]),
            ip=ip,
        )
        for ip in rnd.sample(ips, 80)
    ]
    rows += [finding("account_compromised", "critical", ip=ips[0])]
    findings = pd.DataFrame(rows)
    for level in ("low", "high"):
        bl = blocklist(findings, attempts, min_severity=level)
        entries, held = _blocklist_by_scanning(findings, attempts, level)
        assert sorted(bl.entries) == entries
        assert sorted(bl.held_back) == held
        assert "172.16.5.0/24" in bl.entries and "172.16.5.7" not in bl.entries
        assert any(ip.startswith("10.") for ip in bl.entries)  # addresses of networks with users


def test_text_that_is_no_address_is_held_back_not_listed() -> None:
    f = pd.DataFrame(
        [finding("brute_force_ip", "high", ip="unknown"), finding("brute_force_ip", "high", ip="192.0.2.1")]
    )
    bl = blocklist(f, ATTEMPTS)
    assert bl.entries == ["192.0.2.1"]
    assert "not an IP address" in bl.held_back["unknown"]
    assert "unknown" not in render_blocklist(bl, "nft")
