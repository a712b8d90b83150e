"""Which user names were tried: the most tried, the shape of the dictionary, mechanisms, password facts."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd

from .case import Case

__all__ = ["ROLE_ACCOUNTS", "dictionary_shape", "mechanisms_table", "password_facts_table", "usernames_table"]


def usernames_table(case: Case, *, top: int = 15) -> pd.DataFrame:
    """The most tried user names: attempts, addresses, whether the account exists."""
    a = case.attempts[case.attempts["username"].notna()]
    if a.empty:
        return pd.DataFrame(columns=["user name", "attempts", "addresses", "exists", "succeeded"])
    g = a.groupby(a["username"].astype(str))
    table = pd.DataFrame(
        {
            "attempts": g.size(),
            "addresses": g["client_ip"].nunique(),
            "exists": g["account_exists"].agg(_first_known),
            "succeeded": g["outcome"].agg(lambda s: int((s == "succeeded").sum())),
        }
    )
    table = table.sort_values("attempts", ascending=False).head(top)
    if case.valid_users is not None:
        valid = case.valid_users
        table["in valid users file"] = [str(u).lower() in valid for u in table.index]
    return table.rename_axis("user name").reset_index()


def _first_known(values: pd.Series) -> Any:
    known = values.dropna()
    return known.iloc[0] if len(known) else None


ROLE_ACCOUNTS = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "postmaster",
        "abuse",
        "info",
        "contact",
        "sales",
        "support",
        "office",
        "test",
        "user",
        "guest",
        "mail",
        "webmaster",
        "hostmaster",
        "noreply",
        "no-reply",
        "help",
        "billing",
        "marketing",
        "hr",
        "it",
        "www",
    ]
)


def dictionary_shape(case: Case) -> pd.DataFrame:
    """How the guessed names look: role accounts, bare local parts vs addresses, domains, walks."""
    a = case.attempts[case.attempts["username"].notna() & (case.attempts["outcome"] != "succeeded")]
    names = a["username"].astype(str)
    local = names.str.split("@").str[0].str.lower()
    domains = names[names.str.contains("@")].str.split("@").str[-1].str.lower()
    walks = 0
    for _, grp in a.assign(n=names.str.lower()).sort_values("ts").groupby("client_ip"):
        seq = list(dict.fromkeys(grp["n"]))
        walks += int(len(seq) >= 4 and sum(x <= y for x, y in pairwise(seq)) >= 0.8 * (len(seq) - 1))
    rows = [
        ("guesses with a user name", len(names)),
        ("distinct user names", names.str.lower().nunique()),
        ("role accounts (admin, info, test, ...)", int(local.isin(ROLE_ACCOUNTS).sum())),
        ("bare local parts (no @domain)", int((~names.str.contains("@")).sum())),
        ("full addresses", int(names.str.contains("@").sum())),
        (
            "domains guessed",
            ", ".join(f"{d} ({n})" for d, n in domains.value_counts().head(5).items()) or "-",
        ),
        ("addresses walking the alphabet", walks),
    ]
    return pd.DataFrame(rows, columns=["what", "value"]).astype({"value": str})


def mechanisms_table(case: Case) -> pd.DataFrame:
    """Attempts by SASL mechanism, SMTP service and outcome."""
    a = case.attempts
    return (
        a.assign(mechanism=a["mechanism"].fillna("(not logged)"), service=a["service"].fillna("?"))
        .groupby(["mechanism", "service", "outcome"])
        .size()
        .rename("attempts")
        .reset_index()
        .sort_values("attempts", ascending=False, ignore_index=True)
    )


def password_facts_table(case: Case) -> pd.DataFrame:
    """Password facts where the logs show passwords (length, class, reuse by keyed hash; no text)."""
    cols = [
        "username",
        "client_ip",
        "password_length_min",
        "password_length_max",
        "password_truncated",
        "password_class",
        "password_hmac",
    ]
    p = case.attempts[case.attempts["password_class"].notna()]
    if p.empty:
        return pd.DataFrame(columns=[*cols, "same password tried"])
    reuse = p.groupby("password_hmac")["password_hmac"].transform("size")
    return p[cols].assign(**{"same password tried": reuse.to_numpy()}).reset_index(drop=True)
