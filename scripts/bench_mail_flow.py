"""Time the mail-flow tables on a dataset (load, classify, every table), and pflogsumm on the log.

.venv/bin/python scripts/bench_mail_flow.py --dataset DATASET [--log LOG]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import time

import maillog_forensics as mf
from maillog_forensics.tables import mail_flow
from maillog_forensics.tables.mail_flow import accounts, connections, parties, problems, traffic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--log", help="the raw log, to time pflogsumm on it too")
    args = ap.parse_args()
    t0 = time.perf_counter()
    events = mf.load_events(args.dataset, columns=mail_flow.EVENT_COLUMNS, rows=mail_flow.EVENT_ROWS)
    t1 = time.perf_counter()
    flow = mail_flow.flow_lines(events)
    del events
    t2 = time.perf_counter()
    totals = mail_flow.grand_totals(flow)
    traffic.per_day(flow)
    traffic.per_hour(flow)
    traffic.day_hour(flow)
    parties.delivery_domains(flow)
    parties.received_domains(flow)
    parties.senders(flow)
    parties.recipients(flow)
    parties.largest_messages(flow)
    problems.rejects_by_reason(problems.rejects(flow))
    problems.deferrals_by_reason(flow)
    problems.bounces_by_reason(flow)
    problems.warnings_by_text(flow)
    connections.connection_summary(connections.connections(flow))
    accounts.outbound_by_account(flow)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"rows read {len(flow):,} flow lines; load {t1 - t0:.2f} s, classify {t2 - t1:.2f} s, "
        f"tables {t3 - t2:.2f} s, total {t3 - t0:.2f} s, peak RSS {rss:.0f} MiB"
    )
    print(totals)
    if args.log and shutil.which("pflogsumm"):
        t4 = time.perf_counter()
        subprocess.run(["pflogsumm", args.log], capture_output=True, check=True)
        print(f"pflogsumm 1.1.5: {time.perf_counter() - t4:.2f} s")


if __name__ == "__main__":
    main()
