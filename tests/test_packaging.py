"""The project's own files: one dependency list, a public surface, the README commands."""

from __future__ import annotations

import tomllib

import yaml

import maillog_forensics
from tests.corpus import REPO


def test_environment_yml_only_installs_the_project() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = env["dependencies"]
    pins = [d for d in deps if isinstance(d, str)]
    assert sorted(p.split("=")[0] for p in pins) == ["pip", "python"]
    (pip_block,) = [d["pip"] for d in deps if isinstance(d, dict)]
    assert pip_block == ["-e .[dev]"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "dev" in project["optional-dependencies"]
    python_pin = next(p for p in pins if p.startswith("python"))
    assert project["requires-python"] == ">=" + python_pin.split("=")[1]


def test_public_surface() -> None:
    assert sorted(maillog_forensics.__all__) == [
        "DetectConfig",
        "IngestStats",
        "__version__",
        "auth_attempts_from_events",
        "blocklist",
        "deliveries_from_events",
        "explain_lines",
        "findings",
        "fingerprint",
        "ingest",
        "load_events",
        "load_or_create_key",
        "load_secrets",
        "messages_from_events",
        "sessions_from_events",
    ]
    for name in maillog_forensics.__all__:
        assert hasattr(maillog_forensics, name)


def test_readme_opens_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert "make report" in first_block and "make test" in first_block
