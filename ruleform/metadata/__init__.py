"""The metadata language: load, validate, compile and overlay rulebooks (no Flask here)."""
