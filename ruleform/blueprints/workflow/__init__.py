"""HTTP for the workflow feature."""
