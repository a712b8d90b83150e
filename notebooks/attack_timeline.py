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
# # Attack timeline
#
# When the attacks ran, from where, and the moment anything succeeded. Times are in the
# zone of the `tz_display`
# parameter (UTC unless set); each table names it.

# %% tags=["parameters"]
dataset: str = "../reports/dataset"  # dataset folder (`make report` writes this one)
logs: list = ["../data/sample/mail.log"]  # ingested into `dataset` if it does not exist yet
output_dir: str = "../reports"  # where outputs go
top_addresses: int = 12  # attacking addresses drawn on their own
reveal_passwords: bool = False  # never show decoded passwords unless set to True
tz_display: str = "UTC"  # time zone of every time shown (figures and tables)
interactive: bool = False  # True in JupyterLab: zoomable figures (ipympl); reports use static PNG
start: str = ""  # only events at or after this time (UTC, e.g. 2026-11-27 19:00); empty for all
end: str = ""  # only events before this time (UTC); empty for all
valid_users_file: str = ""  # optional file of real user names, one per line
thresholds: dict = {}  # DetectConfig overrides, e.g. {brute_force_min_failures: 10}
scheduler: str = ""  # Dask scheduler (tcp://HOST:PORT) to reconstruct sessions on; empty: this machine
table_cache: str = ""  # folder where the notebooks of one report share tables (`report` sets it)
rows_shown: int = 100  # the most rows a table of this page shows (the exports have them all)

# %%
from maillog_forensics import report
from maillog_forensics.report.plots import attempts_over_time, session_spans

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
# ## Failed and successful logins over time
# Failures stacked by attacker (one colour per attacker in every figure; light grey: addresses
# with no finding); the lanes above are the attacks, in their attacker's colour; triangles
# mark successful logins.

# %%
actors = report.actor_map(case)
report.figure(
    attempts_over_time(
        case.attempts,
        top=top_addresses,
        tz=tz_display,
        mail=report.compromise_mail_times(case),
        attacks=report.attack_rates(case),
        actors=actors,
    ),
    interactive=interactive,
)

# %% [markdown]
# ## Who attacked
# One row per attacker (an address, or a network of low-volume addresses) and what it did.

# %%
report.table(
    report.attackers_table(case),
    tz=tz_display,
    limit=rows_shown,
    rest=f"every attacker with its findings: `maillog-forensics findings {dataset}`",
)

# %% [markdown]
# ## When each attack ran and how fast
# Start, end and duration of every attack finding; its failed logins (wrong passwords and
# user names, aborted exchanges, refusals; never the server's own errors), the minutes in
# which it was active, its busiest minute and its mean over the active minutes.

# %%
report.table(
    report.attack_rates(case),
    tz=tz_display,
    limit=rows_shown,
    rest=f"every attack: `maillog-forensics findings {dataset}`",
)

# %% [markdown]
# ## Sessions of the attacking addresses
# One bar per SMTP session (start to end), in the attacker's colour; a triangle is a
# successful login from that address.

# %%
report.figure(
    session_spans(case.sessions, case.attempts, top=top_addresses, tz=tz_display, actors=actors),
    interactive=interactive,
)

# %% [markdown]
# ## Compromises and the mail that followed

# %%
report.table(report.compromised_table(case), tz=tz_display)
