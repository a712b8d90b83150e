"""Running the notebooks into HTML.

``run_report`` executes the notebooks in ``notebooks/`` with papermill (kernel ``python3``,
headless), keeps each executed notebook beside an HTML export without code cells, and
writes ``index.html`` and ``summary.json``.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.wording import counted

__all__ = [
    "DEFAULT_NOTEBOOKS",
    "NOTEBOOKS_DIR",
    "NotebookResult",
    "local_kernel_manager",
    "notebook_parameters",
    "parameters_from_text",
    "run_report",
]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
DEFAULT_NOTEBOOKS = ("incident_report", "attack_timeline", "username_guesses", "mail_flow", "ingest_quality")


@dataclass
class NotebookResult:
    """One executed notebook: where its outputs are, or what failed."""

    name: str
    ipynb: Path
    html: Path | None
    seconds: float
    error: str | None = None


def notebook_parameters(notebooks: tuple[str, ...] = DEFAULT_NOTEBOOKS) -> dict[str, str]:
    """The parameters the notebooks declare, name -> type name (``str``, ``int``, ``dict``...)."""
    import jupytext
    from papermill.inspection import _infer_parameters

    declared: dict[str, str] = {}
    for name in notebooks:
        nb = jupytext.read(NOTEBOOKS_DIR / f"{name}.py")
        for cell in nb.cells:  # papermill expects every cell to carry a tags list
            cell.metadata.setdefault("tags", [])
        for p in _infer_parameters(nb):
            declared.setdefault(p.name, p.inferred_type_name)
    return declared


def parameters_from_text(pairs: list[tuple[str, str]], declared: dict[str, str]) -> dict[str, Any]:
    """Command-line ``NAME VALUE`` pairs as typed notebook parameters.

    A value is read as the type its notebook declares: ``int``, ``bool`` (true/false),
    ``dict``/``list`` (JSON), anything else stays text. Unknown names and unreadable
    values raise ``ValueError`` naming the parameter, before any notebook runs.

    >>> parameters_from_text([("top_users", "20"), ("start", "2026")], {"top_users": "int", "start": "str"})
    {'top_users': 20, 'start': '2026'}
    """
    typed: dict[str, Any] = {}
    for name, text in pairs:
        if name not in declared:
            raise ValueError(f"unknown parameter {name!r}; the notebooks take: {', '.join(sorted(declared))}")
        kind = declared[name]
        try:
            if kind == "int":
                typed[name] = int(text)
            elif kind == "float":
                typed[name] = float(text)
            elif kind == "bool":
                typed[name] = {"true": True, "false": False, "1": True, "0": False}[text.lower()]
            elif kind in ("dict", "list"):
                value = json.loads(text)
                if type(value).__name__ != kind:
                    raise ValueError(f"not a JSON {kind}")
                typed[name] = value
            else:
                typed[name] = text
        except (ValueError, KeyError) as exc:
            raise ValueError(f"parameter {name!r} wants a {kind}, got {text!r} ({exc})") from None
    return typed


def run_report(
    inputs: list[str],
    out_dir: str,
    *,
    parameters: dict[str, Any] | None = None,
    notebooks: tuple[str, ...] = DEFAULT_NOTEBOOKS,
    tz: str | None = None,
    year: int | None = None,
    quiet: bool = False,
) -> list[NotebookResult]:
    """Ingest raw logs (or take a dataset), run the notebooks, export HTML, write an index.

    Parameters
    ----------
    inputs
        Raw log files/folders, or one dataset folder (it has a ``manifest.json``).
    out_dir
        Report folder: ``<name>.ipynb`` (executed), ``<name>.html``, ``index.html``,
        ``summary.json``, and ``dataset/`` when logs were ingested.
    parameters
        Notebook parameters (papermill), e.g. ``{"min_severity": "medium"}``. Unless
        ``table_cache`` is among them, the notebooks share the tables they build through
        ``<out_dir>/.tables``, which is removed when the run ends.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if len(inputs) == 1 and (Path(inputs[0]) / "manifest.json").exists():
        dataset = inputs[0]
    else:
        from ..events.run import ingest

        dataset = str(out / "dataset")
        ingest(inputs, dataset, tz=tz, year=year, quiet=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    params = {"dataset": str(Path(dataset).resolve()), "output_dir": str(out.resolve()), **(parameters or {})}
    # the notebooks share the tables they build through a folder of this run (removed after)
    shared_tables = out / ".tables"
    own_cache = "table_cache" not in params
    if own_cache:
        _remove_tables(shared_tables)  # left by a killed run
        params["table_cache"] = str(shared_tables.absolute())
    try:
        results = _run_notebooks(out, notebooks, params, quiet=quiet)
    finally:
        if own_cache:
            _remove_tables(shared_tables)
    _write_index(out, results)
    return results


def _remove_tables(folder: Path) -> None:
    if folder.is_symlink():
        folder.unlink()  # never follow it: the tables go into a folder of our own
    else:
        shutil.rmtree(folder, ignore_errors=True)


def local_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over Unix sockets, not TCP.

    The connection file and the sockets (``kernel-<uuid>-ipc-<n>``) are in Jupyter's
    private runtime folder (mode 0700), so other users of the machine cannot reach the
    kernel (over loopback TCP they could connect, though not without its key), two reports
    never share a socket, the report's folder gets none, and the kernel has no reason to
    warn that it runs over TCP without encryption. TCP where there are no Unix sockets
    (Windows) or their path would be too long.
    """
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from jupyter_core.utils import ensure_dir_exists
    from traitlets import CaselessStrEnum, default

    runtime = jupyter_runtime_dir()
    # a Unix socket path holds at most 107 bytes: "<runtime>/kernel-<uuid>-ipc-<n>"
    if sys.platform == "win32" or len(os.fsencode(runtime)) > 107 - 60:
        return AsyncKernelManager  # type: ignore[no-any-return]

    class LocalKernelManager(AsyncKernelManager):  # type: ignore[misc]
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("connection_file")
        def _private_connection_file(self) -> str:
            ensure_dir_exists(runtime, 0o700)
            return os.path.join(runtime, f"kernel-{uuid.uuid4()}.json")

    return LocalKernelManager


#: the report page templates shipped with the package
TEMPLATES_DIR = Path(__file__).with_name("templates")


def _run_notebooks(
    out: Path, notebooks: tuple[str, ...], params: dict[str, Any], *, quiet: bool
) -> list[NotebookResult]:
    import jupytext
    import papermill as pm
    from nbconvert import HTMLExporter

    results = []
    for name in notebooks:
        started = time.perf_counter()
        declared = notebook_parameters((name,))
        nb_params = {k: v for k, v in params.items() if k != "table_cache" or k in declared}
        source = NOTEBOOKS_DIR / f"{name}.py"
        target = out / f"{name}.ipynb"
        if not quiet:
            print(f"[report] {name}: running", file=sys.stderr)
        try:
            nb = jupytext.read(source)
            pm.execute_notebook(
                nb,
                str(target),
                parameters=nb_params,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(out),
                kernel_manager_class=local_kernel_manager(),
            )
        except Exception as exc:  # one notebook failing must not stop the others
            results.append(
                NotebookResult(name, target, None, time.perf_counter() - started, _cell_error(exc))
            )
            if not quiet:
                print(f"[report] {name}: FAILED: {results[-1].error}", file=sys.stderr)
            continue
        exporter = HTMLExporter(  # type: ignore[no-untyped-call]
            exclude_input=True,
            exclude_output_prompt=True,
            exclude_input_prompt=True,
            # no script, nothing from the network (templates/inert/index.html.j2)
            template_name="inert",
            extra_template_basedirs=[str(TEMPLATES_DIR)],
        )
        body, _ = exporter.from_filename(str(target))
        html_path = out / f"{name}.html"
        html_path.write_text(body)
        results.append(NotebookResult(name, target, html_path, time.perf_counter() - started))
        if not quiet:
            print(f"[report] {name}: {html_path} ({results[-1].seconds:.1f} s)", file=sys.stderr)
    return results


def _cell_error(exc: Exception) -> str:
    cell = getattr(exc, "exec_count", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f"cell {cell}: " if cell is not None else ""
    return f"{where}{ename}: {str(evalue).splitlines()[0] if evalue else ''}"


#: what each report page is called on the index (a notebook not listed goes by its name)
PAGE_TITLES = {
    "incident_report": "Incident report: was an account taken over, who attacked, what to do",
    "attack_timeline": "Attack timeline: when each attack ran and how fast",
    "username_guesses": "Which user names were guessed",
    "mail_flow": "Mail flow: what came in and went out, rejects, bounces, deferrals (pflogsumm's numbers)",
    "ingest_quality": "What the report rests on: the files, their line kinds, the time they cover",
}


def _write_index(out: Path, results: list[NotebookResult]) -> None:
    items = []
    for r in results:
        name = html.escape(PAGE_TITLES.get(r.name, r.name))
        if r.html is not None:
            items.append(f'<li><a href="{html.escape(r.html.name)}">{name}</a> ({r.seconds:.1f} s)</li>')
        else:
            items.append(f"<li>{name}: failed: {html.escape(r.error or '')}</li>")
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>maillog-forensics report</title>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<h1>maillog-forensics report</h1>" + _index_verdict(out) + "<ul>" + "".join(items) + "</ul>"
        "<p>summary: <a href='summary.json'>summary.json</a></p>\n"
    )


def _index_verdict(out: Path) -> str:
    """The verdict and key numbers from ``summary.json`` (empty when the report wrote none).

    The verdict and the failed-login sentence are the report's own words, as ``summary.json``
    keeps them; the other numbers are its counts.
    """
    import json

    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return "<p><strong>No verdict: the incident report did not finish.</strong></p>"
    verdict = str(summary.get("verdict") or "No verdict: summary.json has none.")
    failed = summary.get("failed_logins_sentence") or counted(summary.get("failed_logins", 0), "failed login")
    blocked = counted(len(summary.get("blocklist", [])), "address or network", "addresses or networks")
    errors = counted(summary.get("server_errors", 0), "server error")
    # the "No." verdict says the failed logins already: the line below does not repeat them
    parts = [errors, f"{blocked} to block."]
    if str(failed) not in verdict:
        parts.insert(0, failed)
    numbers = "; ".join(map(str, parts))
    numbers = numbers[0].upper() + numbers[1:]
    flow = summary.get("mail_flow")
    flow_line = ""
    if isinstance(flow, dict):
        from .mail_flow import flow_sentence

        flow_line = f"<p>{html.escape(flow_sentence(flow))} <a href='mail_flow.html'>mail flow</a></p>"
    return f"<p><strong>{html.escape(verdict)}</strong></p><p>{html.escape(numbers)}</p>{flow_line}"
