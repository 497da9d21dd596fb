"""Editing the rulebook in the browser."""
