"""``ruleform demo``: the CRM rulebook with a demo organisation and realistic zh-CN data.

- ``scenario``: the data set as a plan (records, who entered them, when, their transitions);
- ``data``: the word lists it draws from (seeded, deterministic);
- ``seed``: writes the plan through ``RecordService`` — the one place that backdates
  records and replays statuses (see its docstring);
- ``processes``: the embedded Redis and the RQ worker;
- ``run``: the command — data folder, first-start seeding, helpers, web server, Ctrl-C.
"""

from .seed import DEFAULT_SEED, SeedError, SeedReport, demo_counts, seed_demo

__all__ = ["seed_demo", "demo_counts", "SeedReport", "SeedError", "DEFAULT_SEED"]
