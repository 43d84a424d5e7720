"""The ``ipfs-accel`` command line (``python -m pytest_ipfs_accel``)."""
