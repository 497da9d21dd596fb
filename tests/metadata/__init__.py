"""Tests of the metadata language: loading, overlays, validation and compilation."""
