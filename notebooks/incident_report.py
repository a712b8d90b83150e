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
# # Mail server incident report
#
# Was any mail account broken into, who attacked, and what to do. Times are in the zone of
# the `tz_display` parameter (UTC unless set); each table names it.
# Everything below is computed by `maillog_forensics` from the logs named at the end; text
# taken from the logs (user names, host names) is shown as plain text.

# %% tags=["parameters"]
dataset: str = "../reports/dataset"  # dataset folder (`make report` writes this one)
logs: list = ["../data/sample/mail.log"]  # ingested into `dataset` if it does not exist yet
output_dir: str = "../reports"  # where summary.json and figures go
min_severity: str = "low"  # findings below this are not listed
reveal_passwords: bool = False  # never show decoded passwords unless set to True
tz_display: str = "UTC"  # time zone of every time shown (figures and tables)
interactive: bool = False  # True in JupyterLab: zoomable figures (ipympl); reports use static PNG
start: str = ""  # only events at or after this time (UTC, e.g. 2026-11-27 19:00); empty for all
end: str = ""  # only events before this time (UTC); empty for all
valid_users_file: str = ""  # optional file of real user names, one per line
thresholds: dict = {}  # DetectConfig overrides, e.g. {brute_force_min_failures: 10}
scheduler: str = ""  # Dask scheduler (tcp://HOST:PORT) to reconstruct sessions on; empty: this machine
table_cache: str = ""  # folder where the notebooks of one report share tables (`report` sets it)
rows_shown: int = 30  # the most rows a table of this page shows (the exports have them all)

# %%
import pandas as pd

from maillog_forensics import report
from maillog_forensics.report.plots import attempts_over_time

pd.set_option("display.max_colwidth", 120)
case = report.analyse(
    dataset,
    logs=logs,
    reveal_passwords=reveal_passwords,
    start=start,
    end=end,
    valid_users_file=valid_users_file,
    thresholds=thresholds,
    scheduler=scheduler,
    table_cache=table_cache,
)

# %% [markdown]
# ## Was any account compromised?

# %%
report.verdict(report.answer(case))

# %%
report.table(report.compromised_table(case), tz=tz_display)

# %% [markdown]
# ### What the intruders sent
# Each message a taken-over account submitted from the intruding address after the takeover.

# %%
report.table(
    report.compromise_messages(case),
    tz=tz_display,
    limit=rows_shown,
    rest=f"all of them: `maillog-forensics export messages {dataset}`",
)

# %% [markdown]
# ## Who attacked
# One row per attacker: an address, or a network whose addresses each stayed below the
# per-address threshold. "what it did" sums up its findings; the counts are its attempts.

# %%
report.table(
    report.attackers_table(case),
    tz=tz_display,
    limit=rows_shown,
    rest=f"every attacker with its findings: `maillog-forensics findings {dataset}`",
)

# %% [markdown]
# ## Findings, most severe first

# %%
report.table(
    report.findings_table(case, min_severity=min_severity),
    tz=tz_display,
    limit=rows_shown,
    rest=f"every finding: `maillog-forensics findings {dataset}`",
)

# %% [markdown]
# ## Which user names were tried
# "exists" is Dovecot's verdict (unknown user / password mismatch) where the logs have it.

# %%
report.table(report.usernames_table(case), tz=tz_display)

# %% [markdown]
# ## Attempts over time
# Failed logins stacked by attacker, in the attacker's colour of every figure (light grey:
# addresses with no finding, such as users who mistyped); triangles mark successful logins.

# %%
report.figure(
    attempts_over_time(
        case.attempts, tz=tz_display, mail=report.compromise_mail_times(case), actors=report.actor_map(case)
    ),
    interactive=interactive,
)

# %% [markdown]
# ## Mail flow
# What the server received, delivered and rejected per day, the numbers pflogsumm reports;
# the accounts' outbound mail before and after a takeover. More on the
# [mail flow page](mail_flow.html).

# %%
from maillog_forensics.report import mail_flow as flow

report.preformatted(flow.flow_sentence(flow.flow_summary(case)))

# %%
report.table(flow.flow_days(case, tz=tz_display))

# %%
report.table(
    flow.account_flow(case).rename(columns={"first": "first (UTC)", "last": "last (UTC)"}), tz=tz_display
)

# %% [markdown]
# ## What to do
# Most urgent first: passwords to reset and sessions to end, then addresses to block (an
# nftables set), then settings to change.

# %%
report.preformatted(report.actions(case, min_severity=min_severity))

# %% [markdown]
# ## More detail
# [Attack timeline](attack_timeline.html) · [Which user names were guessed](username_guesses.html) ·
# [Mail flow](mail_flow.html) ·
# [What this report rests on](ingest_quality.html)
#
# ## Evidence this report rests on
# The log files read, with their SHA-256:

# %%
report.table(report.inputs_table(case), tz=tz_display)

# %% [markdown]
# The log lines behind each finding, as the dataset stores them (credentials the ingest
# took out stay out), with the file and line number to find each one in the original log;
# the first 5 of each finding listed above (`maillog-forensics findings DATASET --format json`
# lists the lines of every finding).

# %%
report.table(report.evidence_appendix(case, min_severity=min_severity, findings=rows_shown), tz=tz_display)

# %%
summary_path = report.write_summary(case, output_dir)
