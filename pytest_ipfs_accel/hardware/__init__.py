"""Hardware detection: which platforms exist here, and why the others do not.

A platform is one :class:`PlatformSpec`; :mod:`.registry` collects them from the
``pytest_ipfs_accel.platforms`` entry points and the ``pytest_ipfs_platforms`` hook.
"""

from pytest_ipfs_accel.hardware.detect import DISABLE_ENV, detect, detected_names, probe, register_platform
from pytest_ipfs_accel.hardware.platform import Platform, UnknownPlatformError, canonical, families, runtime_and_device
from pytest_ipfs_accel.hardware.spec import PlatformSpec

__all__ = ["DISABLE_ENV", "Platform", "PlatformSpec", "UnknownPlatformError", "canonical", "detect",
           "detected_names", "families", "probe", "register_platform", "runtime_and_device"]
