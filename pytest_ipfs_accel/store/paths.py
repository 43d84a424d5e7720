"""Where results live by default (no imports: the plugin's option help reads it at start-up)."""

#: The results database, relative to the rootdir (pytest) or the current folder (the CLI).
DEFAULT_DB = ".ipfs_accel/results.duckdb"
