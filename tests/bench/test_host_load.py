"""host.load: real processes burning CPU are counted as ours (descendants) or as other processes'."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pytest_ipfs_accel.host import load

SPIN = "import time\nend = time.time() + {s}\nwhile time.time() < end: pass\n"

pytestmark = pytest.mark.skipif(load.machine_busy_s() is None, reason="needs Linux /proc/stat")


def test_a_child_spinning_is_this_process_trees_cpu_not_other_processes():
    before = load.sample()
    child = subprocess.Popen([sys.executable, "-c", SPIN.format(s=1.0)])
    time.sleep(0.8)
    during = load.own_cpu_s()  # the live child is counted while it runs ...
    child.wait()
    after = load.sample()  # ... and after it is reaped (os.times children)
    assert during - before.own_s >= 0.2 and after.own_s - before.own_s >= 0.3
    assert after.wall_s > before.wall_s and after.load1 is not None and after.load1 >= 0


def test_a_process_that_is_not_ours_spinning_is_other_cpu():
    # the shell starts the spinner in the background and exits: the spinner is nobody's child of ours
    out = subprocess.run(["sh", "-c", f"{sys.executable} -c '{SPIN.format(s=1.5)}' >/dev/null 2>&1 & echo $!"],
                         capture_output=True, text=True, check=True).stdout
    stranger = int(out.strip())
    try:
        before = load.sample()
        time.sleep(1.0)
        after = load.sample()
    finally:
        subprocess.run(["kill", str(stranger)], check=False)
    assert load.descendants_cpu_s(stranger) == 0.0
    assert load.other_cpu_s(before, after) >= 0.3  # at least part of one core, however busy the box is


def test_without_proc_stat_there_is_no_other_cpu(tmp_path):
    assert load.machine_busy_s(tmp_path) is None
    quiet = load.Sample(0.0, None, None, 0.0)
    assert load.other_cpu_s(quiet, load.Sample(1.0, None, None, 1.0)) is None
