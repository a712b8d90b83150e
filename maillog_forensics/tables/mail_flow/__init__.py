"""Mail flow: everything pflogsumm 1.1.5 reports, counted the way it counts (tables over events).

:func:`~.lines.flow_lines` picks and classifies the lines once; every other table is a
pure function of that frame.
"""

from .lines import EVENT_COLUMNS, EVENT_ROWS, FLOW_COLUMNS, flow_lines, pflogsumm_command
from .totals import GRAND_TOTAL_KEYS, deferrals, grand_totals, queued_messages, rejected_percent

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_ROWS",
    "FLOW_COLUMNS",
    "GRAND_TOTAL_KEYS",
    "deferrals",
    "flow_lines",
    "grand_totals",
    "pflogsumm_command",
    "queued_messages",
    "rejected_percent",
]
