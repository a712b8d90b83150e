"""The login figures every output prints, counted once from the attempts table.

The report's verdict, ``summary.json``, the ``summary`` command and the findings use these
words with one meaning each: a *failed login* is an attempt that did not log in through the
client's doing (wrong password or user name, an aborted exchange, or a refusal before any
password was checked); a *server error* is the authentication backend failing, which is never
counted as a failed login.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .auth import FAILED_OUTCOMES, REFUSED_OUTCOMES, SERVER_ERROR

__all__ = ["LoginCounts", "login_counts"]


@dataclass(frozen=True)
class LoginCounts:
    """Counts of one attempts table.

    Attributes
    ----------
    attempts
        All rows.
    succeeded
        Successful logins.
    failed
        Failed logins (outcomes in :data:`~maillog_forensics.tables.auth.FAILED_OUTCOMES`).
    refused
        Of the failed logins, those refused before a password was checked (rate limit,
        error limit, STARTTLS required).
    server_errors
        Logins that failed because the authentication backend failed.
    failing_addresses
        Distinct client addresses of the failed logins.
    succeeding_addresses
        Distinct client addresses of the successful logins.
    """

    attempts: int
    succeeded: int
    failed: int
    refused: int
    server_errors: int
    failing_addresses: int
    succeeding_addresses: int

    def failed_sentence(self) -> str:
        """``"7 failed logins (2 refused before a password check) from 3 addresses"``."""
        refused = f" ({self.refused:,} refused before a password check)" if self.refused else ""
        if self.refused and self.refused == self.failed:
            refused = f" ({'all ' if self.failed > 1 else ''}refused before a password check)"
        if self.failed and not self.failing_addresses:
            return f"{_n(self.failed, 'failed login')}{refused} from an address the log does not show"
        return (
            f"{_n(self.failed, 'failed login')}{refused} from {_n(self.failing_addresses, 'address', 'es')}"
        )

    def server_error_sentence(self) -> str | None:
        """What the server errors mean for the reader, or ``None`` when there were none."""
        if not self.server_errors:
            return None
        return (
            f"{_n(self.server_errors, 'login')} failed because your authentication backend did not "
            "answer: the server's fault, not an attack (do not ban your users for these)."
        )


def _n(count: int, word: str, plural: str = "s") -> str:
    return f"{count:,} {word}{'' if count == 1 else plural}"


def login_counts(attempts: pd.DataFrame) -> LoginCounts:
    """Count the attempts table's outcomes in the words every output uses.

    Examples
    --------
    >>> a = pd.DataFrame({"outcome": ["failed", "rate_limited", "server_error", "succeeded"],
    ...                   "client_ip": ["192.0.2.1", "192.0.2.1", "192.0.2.9", "198.51.100.2"]})
    >>> c = login_counts(a)
    >>> (c.failed, c.refused, c.server_errors, c.failing_addresses)
    (2, 1, 1, 1)
    >>> c.failed_sentence()
    '2 failed logins (1 refused before a password check) from 1 address'
    >>> login_counts(a[a["outcome"] == "rate_limited"]).failed_sentence()
    '1 failed login (refused before a password check) from 1 address'
    """
    outcome = attempts["outcome"]
    failed = outcome.isin(list(FAILED_OUTCOMES))
    ok = outcome == "succeeded"
    ip = attempts["client_ip"]
    known = ip.notna() & (ip.astype(str) != "")  # "unknown[]": no address logged
    return LoginCounts(
        attempts=len(attempts),
        succeeded=int(ok.sum()),
        failed=int(failed.sum()),
        refused=int(outcome.isin(list(REFUSED_OUTCOMES)).sum()),
        server_errors=int((outcome == SERVER_ERROR).sum()),
        failing_addresses=int(ip[failed & known].nunique()),
        succeeding_addresses=int(ip[ok & known].nunique()),
    )
