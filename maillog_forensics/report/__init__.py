"""Stage 4, findings and tables → what people read: the ``Case`` of one dataset
(:mod:`.case`), what the notebooks show, one module a part of the report (:mod:`.conclusion`,
:mod:`.compromise`, :mod:`.attackers`, :mod:`.findings`, :mod:`.remedies`, :mod:`.usernames`,
:mod:`.inputs`, :mod:`.mail_flow`; :mod:`.summary_json`), figures (:mod:`.plots`),
the notebook runner (:mod:`.runner`), the shared table cache, exports and the
Timesketch timeline.

The notebooks call ``report.X`` for each cell; those names are the ones below.
"""

from .attackers import ATTACK_KINDS, actor_map, attack_rates, attackers_table
from .case import ANALYSIS_COLUMNS, Case, analyse
from .compromise import compromise_mail_times, compromise_messages, compromised_table
from .conclusion import answer, coverage
from .display import figure, preformatted, table, verdict
from .findings import evidence_appendix, findings_table
from .inputs import inputs_table, kinds_table, time_coverage, unparsed_examples
from .remedies import actions
from .runner import (
    DEFAULT_NOTEBOOKS,
    NOTEBOOKS_DIR,
    NotebookResult,
    notebook_parameters,
    parameters_from_text,
    run_report,
)
from .summary_json import summary, write_summary
from .usernames import (
    ROLE_ACCOUNTS,
    dictionary_shape,
    mechanisms_table,
    password_facts_table,
    usernames_table,
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
