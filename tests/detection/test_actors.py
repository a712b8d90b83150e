"""Who attacked: one row per actor, its counts from the attempts table."""

from __future__ import annotations

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.detection.actors import ACTOR_TAGS, actor_of_addresses, actors_from_findings
from maillog_forensics.detection.rows import network_of
from maillog_forensics.tables.auth import FAILED_OUTCOMES
from tests.corpus import REPO


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    ds = tmp_path_factory.mktemp("actors") / "ds"
    mf.ingest([str(REPO / "data" / "sample" / "mail.log")], ds, tz="UTC", year=2026)
    events = mf.load_events(ds)
    attempts = mf.auth_attempts_from_events(events)
    return mf.findings(events, attempts=attempts), attempts


def test_one_row_per_actor_with_every_finding_as_a_tag(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    findings, attempts = sample
    actors = actors_from_findings(findings, attempts)
    assert actors["actor"].is_unique and len(actors) >= 5
    busy = actors.set_index("actor").loc["127.0.0.2"]
    # one address that is a brute force, a spray and an enumeration: one row, three tags
    assert busy["what it did"] == "password guessing, password spray, user name enumeration"
    assert len(busy["findings"].split(", ")) == 3
    # takeovers first
    took = actors["accounts taken over"] != ""
    assert took.any() and not took.iloc[took.sum() :].any()


def test_counts_are_the_attempts_of_the_actors_addresses(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    findings, attempts = sample
    actors = actors_from_findings(findings, attempts).set_index("actor")
    actor_of = actor_of_addresses(findings, attempts)
    failed = attempts[attempts["outcome"].isin(FAILED_OUTCOMES)]
    for actor, row in actors.iterrows():
        mine = [ip for ip, a in actor_of.items() if a == actor]
        assert row["addresses"] == len(mine)
        assert row["failed logins"] == int(failed["client_ip"].isin(mine).sum())
    # a network actor is what its finding counts
    for f in findings[findings["kind"] == "brute_force_network"].itertuples():
        if isinstance(f.subject_network, str):
            assert actors.loc[f.subject_network, "failed logins"] == f.count


def test_a_legitimate_user_is_no_actor(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    findings, attempts = sample
    actor_of = actor_of_addresses(findings, attempts)
    own = set(findings["subject_ip"].dropna())
    for ip in attempts.loc[attempts["outcome"] == "succeeded", "client_ip"].dropna().unique():
        assert ip in own or ip not in actor_of


def test_low_volume_addresses_join_their_network() -> None:
    findings = pd.DataFrame(
        {
            "finding_id": ["a", "b"],
            "kind": ["brute_force_ip", "brute_force_network"],
            "subject_ip": ["192.0.2.1", None],
            "subject_network": ["192.0.2.0/24", "198.51.100.0/24"],
            "subject_username": [None, None],
        }
    )
    t = pd.Timestamp("2026-03-01", tz="UTC")
    attempts = pd.DataFrame(
        {
            "ts": [t] * 5,
            "client_ip": ["192.0.2.1", "198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.9"],
            "outcome": ["failed", "failed", "rate_limited", "failed", "succeeded"],
            "username": ["a", "b", "c", "d", "d"],
        }
    )
    actors = actors_from_findings(findings, attempts).set_index("actor")
    assert list(actors.index) == ["198.51.100.0/24", "192.0.2.1"]  # by failed logins
    net = actors.loc["198.51.100.0/24"]
    # .9 logged in: a user, not part of the network's attack
    assert (net["addresses"], net["failed logins"], net["what it did"]) == (
        2,
        2,
        ACTOR_TAGS["brute_force_network"],
    )
    assert network_of("198.51.100.7") == net["network"]


def test_no_finding_no_actor() -> None:
    empty = pd.DataFrame(columns=["finding_id", "kind", "subject_ip", "subject_network", "subject_username"])
    attempts = pd.DataFrame({"ts": [], "client_ip": [], "outcome": [], "username": []})
    assert actors_from_findings(empty, attempts).empty


def test_the_actors_are_plain_values(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from maillog_forensics.report.summary_json import json_safe

    findings, attempts = sample
    actors = actors_from_findings(findings, attempts)
    assert json_safe(actors.to_dict("records"))  # plain values only
