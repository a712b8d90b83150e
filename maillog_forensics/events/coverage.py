"""Whether a dataset's lines are understood well enough to answer from.

An investigator who points the tool at the wrong folder, or at a log format it does not
know, must not read "no account was compromised": no answer is not an all-clear. This
module tells, from the kind counts alone, whether an answer can be given, and why not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LOGIN_KINDS", "MAX_UNKNOWN_SHARE", "InputCoverage", "input_coverage"]

#: kinds of line that always record a login or a try (SMTP AUTH failures, IMAP/POP3, PAM, the
#: smtp client's); Postfix's successes hide in ``client=`` lines, which the attempts table reads
LOGIN_KINDS = frozenset(
    {
        "sasl_failed",
        "sasl_aborted",
        "smtp_sasl_failed",
        "dovecot_auth",
        "dovecot_login",
        "pam_auth_failure",
        "saslauthd_auth",
    }
)
#: above this share of unknown lines among the mail programs' lines, no answer is given
MAX_UNKNOWN_SHARE = 0.5
_NOT_MAIL = "other_program"
_UNKNOWN = "unparsed"


@dataclass(frozen=True)
class InputCoverage:
    """How much of a dataset the tool understood.

    Attributes
    ----------
    lines
        All lines (rows).
    mail_lines
        Lines not from another program (Postfix, Dovecot, Cyrus, or no known program).
    unknown
        Lines no kind knows.
    login_lines
        Authentication attempts when the attempts table was counted, else lines of the
        login kinds (:data:`LOGIN_KINDS`).
    """

    lines: int
    mail_lines: int
    unknown: int
    login_lines: int

    @property
    def unknown_share(self) -> float:
        """Share of unknown lines among the mail lines (0 when there are none)."""
        return self.unknown / self.mail_lines if self.mail_lines else 0.0

    @property
    def answerable(self) -> bool:
        """Whether the logs say enough to answer "did someone try to log in, did they get in"."""
        return self.problem is None

    @property
    def problem(self) -> str | None:
        """Why no answer can be given, in one sentence; ``None`` when one can."""
        if self.format_problem is not None:
            return self.format_problem
        if self.login_lines == 0:
            return (
                "the logs hold no login (no SMTP AUTH, IMAP or POP3 login, success or failure): "
                "whether anyone tried cannot be told from them"
            )
        return None

    @property
    def format_problem(self) -> str | None:
        """Why the lines themselves are not understood (no mail log, mostly unknown), or ``None``."""
        if self.lines == 0:
            return "the dataset holds no lines: no answer can be given"
        understood = self.mail_lines - self.unknown
        if understood <= 0:
            what = "unknown" if self.mail_lines else "from other programs"
            return (
                f"this does not look like a Postfix/Dovecot log: all {self.lines:,} lines are {what}; "
                "no answer can be given"
            )
        if self.unknown_share > MAX_UNKNOWN_SHARE:
            return (
                f"this does not look like a Postfix/Dovecot log the tool knows: {self.unknown_share:.0%} "
                f"of its mail lines are unknown; no answer can be given"
            )
        return None


def input_coverage(kind_counts: Mapping[str, int], *, attempts: int | None = None) -> InputCoverage:
    """The coverage of a dataset from its kind counts (the manifest's ``kind_counts``).

    ``attempts``: the length of the attempts table, when it was built (it also sees the
    successful Postfix logins, which no kind of their own records).

    Examples
    --------
    >>> input_coverage({"other_program": 980, "unparsed": 20}).answerable
    False
    >>> input_coverage({"sasl_failed": 3, "connect": 5, "unparsed": 1}).problem is None
    True
    """
    lines = sum(int(v) for v in kind_counts.values())
    return InputCoverage(
        lines=lines,
        mail_lines=lines - int(kind_counts.get(_NOT_MAIL, 0)),
        unknown=int(kind_counts.get(_UNKNOWN, 0)),
        login_lines=(
            attempts
            if attempts is not None
            else sum(int(v) for k, v in kind_counts.items() if k in LOGIN_KINDS)
        ),
    )
