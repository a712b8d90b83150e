"""Tables shared by the notebooks of one report: exact, keyed, signed, private."""

from __future__ import annotations

import os
import pickle
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

import maillog_forensics as mf
from maillog_forensics.report import Case
from maillog_forensics.report.table_cache import TableCache
from tests.corpus import REPO

KEY = b"k" * 32


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ip": pd.Categorical(["192.0.2.1", "192.0.2.2", None]),
            "n": pd.array([1, None, 3], dtype="Int32"),
            "queue_ids": [["A1", "B2"], [], None],
            "user": ["a", None, "c"],
            "ts": pd.to_datetime(["2026-11-27 10:00", None, "2026-11-27 11:00"], utc=True),
        }
    )


class Builder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> pd.DataFrame:
        self.calls += 1
        return _frame()


def test_a_stored_table_comes_back_exactly_and_is_built_once(tmp_path: Path) -> None:
    build = Builder()
    first = TableCache(tmp_path / "c", key=KEY, depends_on={"manifest": "m1"}).get_or_build("t", build)
    again = TableCache(tmp_path / "c", key=KEY, depends_on={"manifest": "m1"}).get_or_build("t", build)
    assert build.calls == 1
    pd.testing.assert_frame_equal(again, _frame())
    assert again["queue_ids"].iloc[0] == ["A1", "B2"]  # a list, not an array
    pd.testing.assert_frame_equal(first, again)


def test_other_inputs_give_another_table(tmp_path: Path) -> None:
    build = Builder()
    TableCache(tmp_path, key=KEY, depends_on={"manifest": "m1"}).get_or_build("t", build)
    TableCache(tmp_path, key=KEY, depends_on={"manifest": "m2"}).get_or_build("t", build)
    TableCache(tmp_path, key=KEY, depends_on={"manifest": "m1"}).get_or_build("u", build)
    assert build.calls == 3


class Trap:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.mark.parametrize("forgery", ["flipped byte", "other key", "unsigned pickle"])
def test_a_file_not_signed_with_the_dataset_key_is_never_unpickled(tmp_path: Path, forgery: str) -> None:
    cache = TableCache(tmp_path / "c", key=KEY, depends_on={})
    build = Builder()
    cache.get_or_build("t", build)
    path = cache.path("t")
    proof = tmp_path / "unpickled"
    body = pickle.dumps(Trap(str(proof)))
    if forgery == "flipped byte":
        data = bytearray(path.read_bytes())
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    elif forgery == "other key":
        TableCache(tmp_path / "c", key=b"x" * 32, depends_on={})._write(path, _frame())
    else:
        path.write_bytes(b"\0" * 32 + body)
    got = cache.get_or_build("t", build)
    assert build.calls == 2  # rebuilt, and stored again
    pd.testing.assert_frame_equal(got, _frame())
    assert not proof.exists()
    assert cache.get_or_build("t", build) is not None and build.calls == 2


class Unloadable:
    """Pickled by reference to a class that is gone when the table is read back."""


def test_a_signed_table_that_no_longer_loads_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TableCache(tmp_path / "c", key=KEY, depends_on={})
    cache.get_or_build("t", lambda: pd.DataFrame({"x": [Unloadable()]}))
    monkeypatch.delattr(sys.modules[__name__], "Unloadable")  # like another pandas version's pickle
    build = Builder()
    pd.testing.assert_frame_equal(cache.get_or_build("t", build), _frame())
    assert build.calls == 1


@pytest.mark.parametrize("folder", ["others can write", "a symlink"])
def test_a_folder_others_can_reach_is_not_used(tmp_path: Path, folder: str) -> None:
    target = tmp_path / "c"
    target.mkdir(mode=0o700)
    if folder == "others can write":
        target.chmod(0o777)
        where = target
    else:
        where = tmp_path / "link"
        where.symlink_to(target)
    build = Builder()
    cache = TableCache(where, key=KEY, depends_on={})
    cache.get_or_build("t", build)
    cache.get_or_build("t", build)
    assert build.calls == 2
    assert list(target.iterdir()) == []


def test_an_unwritable_folder_only_costs_time(tmp_path: Path) -> None:
    build = Builder()
    cache = TableCache(tmp_path / "file" / "c", key=KEY, depends_on={})
    (tmp_path / "file").write_text("not a folder")
    pd.testing.assert_frame_equal(cache.get_or_build("t", build), _frame())


def test_tables_are_private_files(tmp_path: Path) -> None:
    cache = TableCache(tmp_path / "c", key=KEY, depends_on={})
    cache.get_or_build("t", Builder())
    assert stat.S_IMODE(os.stat(tmp_path / "c").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path("t")).st_mode) == 0o600
    assert [p.name for p in (tmp_path / "c").iterdir()] == [cache.path("t").name]  # no temp file left


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ds = tmp_path_factory.mktemp("cache") / "ds"
    mf.ingest([str(REPO / "data" / "sample" / "mail.log")], ds, tz="UTC", year=2026)
    return ds


TABLES = ("sessions", "attempts", "messages", "deliveries", "findings")


def test_a_second_case_reads_the_tables_the_first_stored(sample_dataset: Path, tmp_path: Path) -> None:
    first = Case(str(sample_dataset), table_cache=str(tmp_path / "t"))
    want = {name: getattr(first, name) for name in TABLES}
    assert len(list((tmp_path / "t").iterdir())) == len(TABLES)

    second = Case(str(sample_dataset), table_cache=str(tmp_path / "t"))

    def no_loading(**_: object) -> pd.DataFrame:
        raise AssertionError("a stored table was built again")

    second.load = no_loading  # type: ignore[method-assign]
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(second, name), want[name])
    plain = Case(str(sample_dataset))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(plain, name), want[name])


def test_other_thresholds_or_window_build_their_own_findings(sample_dataset: Path, tmp_path: Path) -> None:
    from maillog_forensics.detection.detect import DetectConfig

    default = Case(str(sample_dataset), table_cache=str(tmp_path)).findings
    strict = Case(str(sample_dataset), table_cache=str(tmp_path))
    strict.config = DetectConfig(brute_force_min_failures=10_000)
    fresh = Case(str(sample_dataset))
    fresh.config = DetectConfig(brute_force_min_failures=10_000)
    pd.testing.assert_frame_equal(strict.findings, fresh.findings)
    assert len(strict.findings) < len(default)
    ts = mf.load_events(sample_dataset, columns=["ts"])["ts"].dropna()
    windowed = Case(str(sample_dataset), table_cache=str(tmp_path), start=str(ts.median()))
    want = Case(str(sample_dataset), start=str(ts.median())).sessions
    pd.testing.assert_frame_equal(windowed.sessions, want)
    assert len(want) < len(Case(str(sample_dataset)).sessions)


def test_revealed_passwords_are_never_stored_nor_read_from_stored_tables(
    sample_dataset: Path, tmp_path: Path
) -> None:
    case = Case(str(sample_dataset), table_cache=str(tmp_path / "t"), reveal_passwords=True)
    revealed = case.attempts
    assert len(revealed) and len(case.findings)
    assert not (tmp_path / "t").exists()
    hidden = Case(str(sample_dataset), table_cache=str(tmp_path / "t")).attempts
    assert (tmp_path / "t").exists()
    again = Case(str(sample_dataset), table_cache=str(tmp_path / "t"), reveal_passwords=True).attempts
    pd.testing.assert_frame_equal(again, revealed)
    assert not again.equals(hidden)  # the sample has a password to reveal
