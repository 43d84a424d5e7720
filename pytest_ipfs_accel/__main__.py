"""``python -m pytest_ipfs_accel`` = ``ipfs-accel``."""

import sys

from pytest_ipfs_accel.cli.main import main

sys.exit(main())
