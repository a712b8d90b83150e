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


def test_stages_import_one_way() -> None:
    # the import-linter contracts of pyproject.toml (also run by ``make lint``)
    import subprocess
    import sys
    from pathlib import Path

    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint_imports)], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_old_flat_module_names_still_import() -> None:
    import importlib

    from maillog_forensics._moved import MOVED

    for old, new in MOVED.items():
        module = importlib.import_module(f"maillog_forensics.{old}")
        assert module is importlib.import_module(f"maillog_forensics.{new}")
        assert getattr(maillog_forensics, old) is module
    # the two public functions stay functions
    assert callable(maillog_forensics.ingest) and callable(maillog_forensics.findings)
    assert (
        maillog_forensics.store.iter_events
        is importlib.import_module("maillog_forensics.events.store").iter_events
    )


def test_no_private_name_is_imported_across_modules() -> None:
    import ast

    offenders = []
    for path in sorted((REPO / "maillog_forensics").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("maillog")):
                offenders += [
                    f"{path.relative_to(REPO)}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and a.name != "__version__"
                ]
    assert offenders == []


def test_every_module_imports_by_its_dotted_name() -> None:
    # ``import maillog_forensics.a.b as m`` walks attributes: no stage may be hidden by a
    # public function of the same name (``mf.ingest``, ``mf.findings``)
    import importlib

    for path in sorted((REPO / "maillog_forensics").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(dotted)
        walked = maillog_forensics
        for part in dotted.split(".")[1:]:
            walked = getattr(walked, part)
        assert walked is module, dotted


def test_jupyterlab_opens_the_notebooks_as_notebooks() -> None:
    """The set-up installs jupytext's default viewer for .py files into the venv's JupyterLab."""
    import json
    import sys
    from pathlib import Path

    from tests.corpus import REPO

    shipped = json.loads((REPO / "jupyter" / "overrides.json").read_text())
    viewers = shipped["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"
    assert "jupyter/overrides.json" in (REPO / "Makefile").read_text()
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if (Path(sys.prefix) / ".runtime").exists():  # a venv made by the Makefile
        assert json.loads(installed.read_text()) == shipped


def test_make_report_installs_only_what_the_report_needs() -> None:
    """`make report` depends on the native stamp and through it the runtime one: no extras."""
    import re

    from tests.corpus import REPO

    makefile = (REPO / "Makefile").read_text()
    # the report needs the native core, which sits on the runtime stamp and adds only itself
    assert re.search(r"^report: \$\(NATIVE\)$", makefile, re.M)
    native = makefile.split("$(NATIVE): ", 1)[1].split("\n\n", 1)[0]
    assert native.startswith("$(RUNTIME) ") and "pip install --quiet ./native\n" in native
    assert "[dev]" not in native and "-e ." not in native
    runtime = makefile.split("$(RUNTIME): ", 1)[1].split("\n\n", 1)[0]
    assert "pip install --quiet -e .\n" in runtime and "[dev]" not in runtime and "dask" not in runtime
