"""The answer first: was any account compromised, and can the logs tell at all."""

from __future__ import annotations

from ..common.wording import counted
from ..events.coverage import InputCoverage, input_coverage
from ..tables.login_counts import login_counts
from .case import Case

__all__ = ["answer", "coverage"]


def coverage(case: Case) -> InputCoverage:
    """How much of the case's logs the tool understood (see :mod:`maillog_forensics.events.coverage`)."""
    return input_coverage(case.manifest.get("kind_counts", {}), attempts=len(case.attempts))


def answer(case: Case) -> str:
    """The answer first: was any account compromised, in plain sentences.

    Every count comes from :func:`~maillog_forensics.tables.login_counts.login_counts` of the
    case's attempts, as in ``summary.json`` and the ``summary`` command.
    """
    c = case.findings[case.findings["kind"] == "account_compromised"]
    counts = login_counts(case.attempts)
    backend = counts.server_error_sentence()
    if c.empty:
        tried = counts.failed_sentence()
        problem = coverage(case).problem
        if problem is not None:
            # no all-clear the logs have not earned
            lines = [f"CANNOT TELL: {problem}." + (f" {tried} are listed below." if counts.failed else "")]
        else:
            lines = [f"No. No account shows a suspicious successful login. {tried}."]
    else:
        users = sorted(c["subject_username"].dropna().unique())
        verb = "was" if len(users) == 1 else "were"
        lines = [f"YES: {counted(len(users), 'account')} {verb} taken over: {', '.join(users)}."]
        lines += [f"- {s}" for s in c["summary"]]
        if counts.failed:
            lines.append(f"In all: {counts.failed_sentence()}.")
    if backend:
        lines.append(backend)
    return "\n".join(lines)
