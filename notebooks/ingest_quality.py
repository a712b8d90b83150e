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
# # What this report rests on
#
# The log files read (with their SHA-256), how their time stamps were turned into UTC, what
# kinds of lines they hold, the lines no pattern knows, and the time they cover.

# %% tags=["parameters"]
dataset: str = "../reports/dataset"  # dataset folder (`make report` writes this one)
logs: list = ["../data/sample/mail.log"]  # ingested into `dataset` if it does not exist yet
output_dir: str = "../reports"  # where outputs go
reveal_passwords: bool = False  # unused here; kept so every notebook takes the same parameters
tz_display: str = "UTC"  # time zone of every time shown (figures and tables)
interactive: bool = False  # True in JupyterLab: zoomable figures (ipympl); reports use static PNG
start: str = ""  # only events at or after this time (UTC); empty for all
end: str = ""  # only events before this time (UTC); empty for all
valid_users_file: str = ""  # unused here

# %%
from maillog_forensics import report
from maillog_forensics.report.plots import kinds_bar, lines_over_time

case = report.analyse(dataset, logs=logs, start=start, end=end)

# %% [markdown]
# ## Inputs and time inference

# %%
report.table(report.inputs_table(case), tz=tz_display)

# %% [markdown]
# ## Line kinds

# %%
report.figure(kinds_bar(case.manifest.get("kind_counts", {})), interactive=interactive)

# %%
report.table(report.kinds_table(case), tz=tz_display)

# %% [markdown]
# ## Lines no pattern knows (kept as they are)

# %%
report.table(report.unparsed_examples(case), tz=tz_display)

# %% [markdown]
# ## Time coverage

# %%
report.figure(lines_over_time(case.timestamps, tz=tz_display), interactive=interactive)

# %%
report.table(report.time_coverage(case), tz=tz_display)
