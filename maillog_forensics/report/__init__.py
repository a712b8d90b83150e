"""Stage 4, findings and tables → what people read: the ``Case`` of one dataset
(:mod:`.case`), the pieces the notebooks show (:mod:`.pieces`), figures (:mod:`.plots`),
the notebook runner (:mod:`.runner`), the shared table cache, exports and the
Timesketch timeline.

The notebooks call ``report.X`` for each cell; those names are the ones below.
"""

from .case import ANALYSIS_COLUMNS, Case, analyse
from .display import preformatted, table, verdict
from .pieces import (
    ATTACK_KINDS,
    ROLE_ACCOUNTS,
    actions,
    actor_map,
    answer,
    attack_rates,
    attackers_table,
    compromise_mail_times,
    compromise_messages,
    compromised_table,
    coverage,
    dictionary_shape,
    evidence_appendix,
    figure,
    findings_table,
    inputs_table,
    kinds_table,
    mechanisms_table,
    password_facts_table,
    summary,
    time_coverage,
    unparsed_examples,
    usernames_table,
    write_summary,
)
from .runner import (
    DEFAULT_NOTEBOOKS,
    NOTEBOOKS_DIR,
    NotebookResult,
    notebook_parameters,
    parameters_from_text,
    run_report,
)

__all__ = [
    "ANALYSIS_COLUMNS",
    "ATTACK_KINDS",
    "DEFAULT_NOTEBOOKS",
    "NOTEBOOKS_DIR",
    "ROLE_ACCOUNTS",
    "Case",
    "NotebookResult",
    "actions",
    "actor_map",
    "analyse",
    "answer",
    "attack_rates",
    "attackers_table",
    "compromise_mail_times",
    "compromise_messages",
    "compromised_table",
    "coverage",
    "dictionary_shape",
    "evidence_appendix",
    "figure",
    "findings_table",
    "inputs_table",
    "kinds_table",
    "mechanisms_table",
    "notebook_parameters",
    "parameters_from_text",
    "password_facts_table",
    "preformatted",
    "run_report",
    "summary",
    "table",
    "time_coverage",
    "unparsed_examples",
    "usernames_table",
    "verdict",
    "write_summary",
]
