"""``checks.clear_caches`` runs when a generated module's last item is torn down (long sweeps)."""

from __future__ import annotations

from pytest_ipfs_accel.runtime import checks

COUNTER = '''
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    from pytest_ipfs_accel.runtime import checks

    result = yield
    with open("cached.txt", "a") as out:
        out.write(f"{item.nodeid} {len(checks._RUNNERS)} {len(checks._REFERENCES)}\\n")
    return result
'''


def test_clear_caches_empties_every_cache() -> None:
    checks._RUNNERS[("planted",)] = object()
    checks._REFERENCES[checks.ModelRef("planted", "bert", "text")] = None
    checks.clear_caches()
    assert checks._RUNNERS == {} and checks._REFERENCES == {}


def test_caches_are_dropped_between_generated_modules(run, pytester) -> None:
    pytester.makepyfile(cache_counter=COUNTER)
    result = run("--ipfs-models=bert,gpt2", "--ipfs-hw=cpu", "--ipfs-kinds=load,forward", "--ipfs-db=none",
                 "-p", "cache_counter")
    result.assert_outcomes(passed=4)
    counts = dict(line.split(" ", 1) for line in (pytester.path / "cached.txt").read_text().splitlines())
    assert counts == {"ipfs/test_bert.py::test_load[cpu]": "1 1", "ipfs/test_bert.py::test_forward[cpu]": "0 0",
                      "ipfs/test_gpt2.py::test_load[cpu]": "1 1", "ipfs/test_gpt2.py::test_forward[cpu]": "0 0"}
