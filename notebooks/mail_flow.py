# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Mail flow
#
# How much mail came in and went out, per day and hour, what was rejected and why, who sent
# and received most, bounces, deferrals and delays, warnings: the numbers pflogsumm 1.1.5
# reports, counted the way it counts (see the README for where pflogsumm is wrong and we
# differ). Times are in the zone of `tz_display`; text from the logs is shown as plain text.

# %% tags=["parameters"]
dataset: str = "../reports/dataset"  # dataset folder (`make report` writes this one)
logs: list = ["../data/sample/mail.log"]  # ingested into `dataset` if it does not exist yet
tz_display: str = "UTC"  # time zone of days and hours
interactive: bool = False  # True in JupyterLab: zoomable figures (ipympl); reports use static PNG
start: str = ""  # only events at or after this time (UTC); empty for all
end: str = ""  # only events before this time (UTC); empty for all
top_addresses: int = 10  # rows of the sender, recipient and client tables
table_cache: str = ""  # folder where the notebooks of one report share tables (`report` sets it)

# %%
import pandas as pd

from maillog_forensics import report
from maillog_forensics.report import flow_plots
from maillog_forensics.report import mail_flow as flow
from maillog_forensics.tables.mail_flow import connections, parties, problems, traffic

case = report.analyse(dataset, logs=logs, start=start, end=end, table_cache=table_cache)
lines = case.mail_flow
summary = flow.flow_summary(case)

# %% [markdown]
# ## Grand totals

# %%
report.preformatted(flow.flow_sentence(summary))

# %%
report.table(flow.grand_totals_table(case))

# %% [markdown]
# ## Traffic per hour
# Summed over all days (received, delivered, rejected — rejects, reject warnings, holds and
# discards —, deferred attempts, bounced).

# %%
hours = traffic.per_hour(lines, tz=tz_display)
report.figure(flow_plots.traffic_per_hour(hours, tz=tz_display), interactive=interactive)

# %%
report.table(
    hours[hours.sum(axis=1) > 0].reset_index().rename(columns={"hour": f"hour ({tz_display})"}),
    caption="hours with traffic",
)

# %% [markdown]
# ## Per day, and each day beside the usual day
# `…_vs_median`: the day's count over the median day's.

# %%
report.table(flow.flow_days(case, tz=tz_display))

# %%
report.figure(
    flow_plots.day_hour_heatmap(traffic.day_hour(lines, tz=tz_display), tz=tz_display),
    interactive=interactive,
)

# %% [markdown]
# ## Rejects by reason and by client

# %%
rejects = problems.rejects(lines)
by_reason = problems.rejects_by_reason(rejects)
report.figure(flow_plots.rejects_bar(by_reason), interactive=interactive)

# %%
report.table(by_reason, caption="rejects per SMTP stage and reason")

# %%
report.table(
    problems.rejects_by_client(rejects)
    .head(top_addresses)
    .reset_index()
    .rename(columns={"first": "first (UTC)", "last": "last (UTC)"}),
    tz=tz_display,
    caption="clients rejected most",
)

# %%
report.table(
    problems.rejects_by_reason(rejects, event="reject_warning"), caption="reject warnings (not refused)"
)

# %% [markdown]
# ## Deliveries: per recipient domain
# Sent count, bytes, deferred attempts, average and maximum delay (seconds; the maximum
# over sent and deferred deliveries).

# %%
report.table(parties.delivery_domains(lines).head(top_addresses).reset_index())

# %% [markdown]
# ## Received: per sending host/domain

# %%
report.table(parties.received_domains(lines).head(top_addresses).reset_index())

# %% [markdown]
# ## Senders and recipients, by count and by size

# %%
report.table(parties.senders(lines).head(top_addresses).reset_index(), caption="senders by messages")

# %%
report.table(parties.senders(lines, by="bytes").head(top_addresses).reset_index(), caption="senders by size")

# %%
report.table(parties.recipients(lines).head(top_addresses).reset_index(), caption="recipients by messages")

# %%
report.table(
    parties.recipients(lines, by="bytes").head(top_addresses).reset_index(), caption="recipients by size"
)

# %% [markdown]
# ## Largest messages

# %%
report.table(
    parties.largest_messages(lines, top=top_addresses).rename(columns={"ts": "queued (UTC)"}), tz=tz_display
)

# %% [markdown]
# ## Deferrals and bounces by reason

# %%
report.table(problems.deferrals_by_reason(lines), caption="deferred attempts")

# %%
report.table(problems.bounces_by_reason(lines), caption="bounces by relay")

# %% [markdown]
# ## Mail of each account before and after its compromise
# Outbound mail per authenticated (SASL) user; an account taken over is split at the
# takeover login: spam sent after it shows as more messages, recipients and domains per hour.

# %%
report.table(
    flow.account_flow(case).rename(columns={"first": "first (UTC)", "last": "last (UTC)"}), tz=tz_display
)

# %% [markdown]
# ## SMTP connections

# %%
report.table(pd.DataFrame([connections.connection_summary(connections.connections(lines))]))

# %% [markdown]
# ## Warnings, fatal errors, panics, master daemon messages

# %%
report.table(problems.warnings_by_text(lines), caption="warnings")

# %%
report.table(problems.warnings_by_text(lines, level="fatal"), caption="fatal errors")

# %%
report.table(problems.warnings_by_text(lines, level="panic"), caption="panics")

# %%
report.table(problems.master_messages(lines), caption="master daemon messages")

# %%
report.preformatted(
    f"{summary['message_repeated_lines']:,} 'message repeated' lines stand for "
    f"{summary['message_repeated_occurrences']:,} messages (counted above; pflogsumm skips them)."
)
