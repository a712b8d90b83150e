"""The accounts taken over: the takeover logins and the mail the intruders sent."""

from __future__ import annotations

import pandas as pd

from .case import Case

__all__ = ["compromise_mail_times", "compromise_messages", "compromised_table"]


def compromise_mail_times(case: Case) -> pd.Series:
    """When the accounts of compromise findings sent mail from the intruding addresses."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    m = case.messages
    if c.empty or m.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    pairs = set(zip(c["subject_username"], c["subject_ip"], strict=True))
    mask = [(u, ip) in pairs for u, ip in zip(m["sasl_username"], m["client_ip"], strict=True)]
    return m.loc[mask, "first_seen"].reset_index(drop=True)


def compromised_table(case: Case) -> pd.DataFrame:
    """One row per compromised account and address: the takeover login, the mail that followed."""
    c = case.findings[case.findings["kind"] == "account_compromised"]
    return pd.DataFrame(
        {
            "account": c["subject_username"],
            "from address": c["subject_ip"],
            "takeover login (UTC)": c["first_seen"],
            "messages sent": c["count"].where(c["severity"] == "critical", 0),
            "what happened": c["summary"],
        }
    ).reset_index(drop=True)


def compromise_messages(case: Case) -> pd.DataFrame:
    """Each message a compromised account submitted from the intruding address after the takeover.

    Columns: account, from address, submitted (UTC), Message-ID, sender, recipients, status
    and the log line of its submission.
    """
    columns = ["account", "from address", "submitted (UTC)", "Message-ID", "sender", "recipients"]
    columns += ["status", "log line"]
    c = case.findings[case.findings["kind"] == "account_compromised"]
    m = case.messages
    if c.empty or m.empty:
        return pd.DataFrame(columns=columns)
    takeover = dict(
        zip(zip(c["subject_username"], c["subject_ip"], strict=True), c["first_seen"], strict=True)
    )
    rows = []
    for r in m[m["sasl_username"].notna()].to_dict("records"):
        since = takeover.get((r["sasl_username"], r["client_ip"]))
        if since is None or (pd.notna(r["first_seen"]) and pd.notna(since) and r["first_seen"] < since):
            continue
        rows.append(
            {
                "account": r["sasl_username"],
                "from address": r["client_ip"],
                "submitted (UTC)": r["first_seen"],
                "Message-ID": r["message_id"],
                "sender": r["sender"],
                "recipients": ", ".join(
                    str(x) for x in (r["recipients"] if r["recipients"] is not None else [])
                ),
                "status": r["final_status"],
                "log line": r["first_line"] if isinstance(r["first_line"], str) else None,
            }
        )
    return pd.DataFrame(rows, columns=columns).sort_values(
        "submitted (UTC)", kind="stable", ignore_index=True
    )
