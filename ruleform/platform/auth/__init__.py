"""Accounts and authentication: passwords, users, sessions, API tokens, rate limits."""
