"""``python -m pytest_ipfs_accel`` = ``ipfs-accel``."""

import sys

from .cli.main import main

sys.exit(main())
