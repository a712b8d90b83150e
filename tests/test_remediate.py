"""Blocklists: CIDRs only where no user logs in, users never listed, every format."""

from __future__ import annotations

import pandas as pd
import pytest

from maillog_forensics.remediate import FORMATS, blocklist, render_blocklist


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
