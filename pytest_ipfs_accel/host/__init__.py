"""Host facts read from the operating system (``/proc`` on Linux): no pytest, nothing heavy imported."""
