"""HTTP for the delivery feature."""
