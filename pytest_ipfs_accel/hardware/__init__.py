"""Hardware detection: which platforms exist here, and why the others do not."""

from pytest_ipfs_accel.hardware.detect import DISABLE_ENV, detect, detected_names, probe, register_platform
from pytest_ipfs_accel.hardware.platform import FAMILIES, Platform, UnknownPlatformError, canonical, runtime_and_device

__all__ = ["DISABLE_ENV", "FAMILIES", "Platform", "UnknownPlatformError", "canonical", "detect",
           "detected_names", "probe", "register_platform", "runtime_and_device"]
