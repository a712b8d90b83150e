"""What to do, most urgent first: passwords to reset, addresses to block, settings to change."""

from __future__ import annotations

import pandas as pd

from ..common.wording import counted
from ..detection.remediate import blocklist, render_blocklist
from .case import Case

__all__ = ["actions"]


def actions(case: Case, *, min_severity: str = "low") -> str:
    """What to do, most urgent first: passwords to reset, addresses to block, settings to change.

    Each account and each setting is named once. A password to change because it is in the
    logs is asked for only where the account exists or whether it does is unknown (not for a
    name Dovecot said does not exist).
    """
    a = case.attempts
    resets = sorted(
        case.findings.loc[case.findings["kind"] == "account_compromised", "subject_username"]
        .dropna()
        .unique()
    )
    logged = a.loc[a["credentials_logged"].fillna(False).astype(bool) & a["username"].notna()]
    absent = _known_absent(logged)
    leaked = sorted(set(logged["username"].astype(str)) - set(resets) - absent)
    out: list[str] = []
    step = 0
    if resets:
        step += 1
        out.append(
            f"{step}. Reset these passwords now and end their sessions (accounts taken over): "
            + ", ".join(resets)
        )
    if leaked:
        step += 1
        out.append(f"{step}. Change these passwords (they are in the logs): " + ", ".join(leaked))
    bl = blocklist(case.findings, a, min_severity=min_severity)
    step += 1
    entries = counted(len(bl.entries), "address or network", "addresses and networks")
    out.append(f"{step}. Block {entries} (nftables; other formats:")
    out.append("   `maillog-forensics blocklist --format plain|iptables|postfix|fail2ban`):")
    out.append(render_blocklist(bl, "nft").rstrip())
    for ip, why in bl.held_back.items():
        out.append(f"   Not listed, decide by hand: {ip} ({why})")
    settings = case.findings[
        case.findings["kind"].str.startswith("config_") | (case.findings["kind"] == "credentials_in_logs")
    ]
    changes = _each_once([act for act in settings["action"] if act != "None."])
    if changes:
        step += 1
        out.append(f"{step}. Change these settings:")
        out += [f"   - {act}" for act in changes]
    return "\n".join(out)


def _each_once(advice: list[str]) -> list[str]:
    """Pieces of advice in order, each once: one that another already says in full is dropped.

    >>> _each_once(["Set a = 1 and b = 2.", "Set a = 1.", "Set c = 3.", "Set c = 3."])
    ['Set a = 1 and b = 2.', 'Set c = 3.']
    """
    unique = list(dict.fromkeys(advice))
    core = [a.rstrip(". ") for a in unique]
    return [
        a
        for i, a in enumerate(unique)
        if not any(j != i and core[i] in other for j, other in enumerate(core))
    ]


def _known_absent(attempts: pd.DataFrame) -> set[str]:
    """User names every attempt of which the server said do not exist."""
    if attempts.empty:
        return set()
    exists = attempts.groupby(attempts["username"].astype(str))["account_exists"].agg(
        lambda s: bool((s == False).all()) if s.notna().all() else False  # noqa: E712
    )
    return set(exists[exists].index)
