"""App factory, settings, database, accounts, i18n and the command line."""
