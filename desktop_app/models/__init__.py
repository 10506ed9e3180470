"""Qt item models of the desktop app; testable without any window."""
