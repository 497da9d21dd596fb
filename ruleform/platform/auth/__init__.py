"""Accounts and authentication: passwords, users, sessions, API tokens, rate limits.

- ``passwords``, ``users``, ``tokens``, ``throttle``, ``login``, ``identity``: no Flask;
  they take a connection (or an engine) and plain values. The storage package imports
  ``throttle`` to register the ``login_attempts`` table, so this file imports nothing.
- ``request_auth``: the ``before_request`` that sets ``g.rf_actor`` from the session
  cookie (pages) or ``Authorization: Bearer`` (``/api``), then checks CSRF.
- ``views`` (``/login``, ``/logout``, ``/account/password``), ``admin`` and
  ``admin_departments`` (``/admin/users``, ``/admin/departments``), ``api``
  (``/api/v1/tokens``), ``commands`` (``ruleform users …``, ``ruleform tokens …``).

``setup.init_app`` installs it all in an app (the wiring list names it). See
docs/accounts.md.
"""
