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
# # Which user names were guessed
#
# Top guessed names, whether those accounts exist (Dovecot's verdict), who tried which,
# the shape of the dictionary, mechanisms, and password facts where the logs show passwords
# (lengths, truncation, reuse by keyed hash; never the passwords themselves by default).

# %% tags=["parameters"]
dataset: str = "../reports/dataset"  # dataset folder (`make report` writes this one)
logs: list = ["../data/sample/mail.log"]  # ingested into `dataset` if it does not exist yet
output_dir: str = "../reports"  # where outputs go
top_users: int = 20  # user names in the tables and the heat map
reveal_passwords: bool = False  # never show decoded passwords unless set to True
tz_display: str = "UTC"  # time zone of every time shown (figures and tables)
interactive: bool = False  # True in JupyterLab: zoomable figures (ipympl); reports use static PNG
start: str = ""  # only events at or after this time (UTC, e.g. 2026-11-27 19:00); empty for all
end: str = ""  # only events before this time (UTC); empty for all
valid_users_file: str = ""  # optional file of real user names, one per line
thresholds: dict = {}  # DetectConfig overrides, e.g. {brute_force_min_failures: 10}
scheduler: str = ""  # Dask scheduler (tcp://HOST:PORT) to reconstruct sessions on; empty: this machine
table_cache: str = ""  # folder where the notebooks of one report share tables (`report` sets it)

# %%
from maillog_forensics import report
from maillog_forensics.report.plots import usernames_heatmap

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
# ## Most tried user names

# %%
report.table(report.usernames_table(case, top=top_users), tz=tz_display)

# %% [markdown]
# ## Addresses × user names

# %%
report.figure(usernames_heatmap(case.attempts, users=top_users), interactive=interactive)

# %% [markdown]
# ## Shape of the dictionary

# %%
report.table(report.dictionary_shape(case), tz=tz_display)

# %% [markdown]
# ## Mechanisms and services

# %%
report.table(report.mechanisms_table(case), tz=tz_display)

# %% [markdown]
# ## Password facts (where the logs hold passwords)

# %%
report.table(report.password_facts_table(case), tz=tz_display)
