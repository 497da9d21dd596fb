"""HTTP for the timerules feature."""
