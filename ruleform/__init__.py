"""Ruleform: declare a company's customer-management rules as metadata; run them.

The package is layered; each subpackage's docstring says what it may import:

- ``ruleform.metadata``: the metadata language (load, validate, compile, overlays).
- ``ruleform.platform``: app factory, settings, database, auth, i18n, CLI.
- ``ruleform.blueprints``: generated pages and the REST API.
- ``ruleform.workflow_engine``: transitions, approvals, time rules, outbox, jobs.
- ``ruleform.admin_ui``: editing the rulebook in the browser.
"""

__version__ = "0.1.0"
