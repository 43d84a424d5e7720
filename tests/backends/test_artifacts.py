"""ArtifactCache: stable keys, build once, atomic publication across processes."""

from __future__ import annotations

import multiprocessing
import pathlib
import time

import pytest

from pytest_ipfs_accel.backends.artifacts import ArtifactCache

KEY = ["fingerprint-abc", "input_ids:(1, 8):torch.int64", "onnxruntime 1.32", "torch 2.13", "fp32"]


def test_path_is_a_stable_function_of_kind_and_parts(tmp_path: pathlib.Path) -> None:
    cache = ArtifactCache(tmp_path)
    path = cache.path_for("onnx", KEY, ".onnx")
    assert path == ArtifactCache(tmp_path).path_for("onnx", list(KEY), ".onnx")
    assert path.parent.parent == tmp_path / "onnx" and path.suffix == ".onnx"
    assert cache.path_for("onnx", [*KEY[:-1], "fp16"], ".onnx") != path
    assert cache.path_for("onnx", ["a", "bc"], ".onnx") != cache.path_for("onnx", ["ab", "c"], ".onnx")
    with pytest.raises(ValueError, match="identifier"):
        cache.path_for("../escape", KEY, ".onnx")


def test_builds_once_then_reuses(tmp_path: pathlib.Path) -> None:
    cache, calls = ArtifactCache(tmp_path), []

    def build(p: pathlib.Path) -> None:
        calls.append(p)
        p.write_text("graph")
        p.with_suffix(".bin").write_text("weights")  # sibling files travel with the artifact

    target = cache.path_for("openvino", KEY, ".xml")
    first, reused_first = cache.materialize(target, build)
    second, reused_second = cache.materialize(target, build)
    assert (first, reused_first, second, reused_second) == (target, False, target, True)
    assert len(calls) == 1 and calls[0] != target  # built elsewhere, then published
    assert target.read_text() == "graph" and target.with_suffix(".bin").read_text() == "weights"
    assert [p.name for p in target.parent.parent.iterdir()] == [target.parent.name]  # no tmp left


def test_failed_build_leaves_nothing(tmp_path: pathlib.Path) -> None:
    cache = ArtifactCache(tmp_path)
    target = cache.path_for("onnx", KEY, ".onnx")

    def build(p: pathlib.Path) -> None:
        p.write_text("half")
        raise RuntimeError("exporter crashed")

    with pytest.raises(RuntimeError, match="exporter crashed"):
        cache.materialize(target, build)
    assert not target.exists()
    assert list((tmp_path / "onnx").iterdir()) == []
    calls = []
    with pytest.raises(RuntimeError, match="exporter crashed"):  # remembered, not rebuilt
        cache.materialize(target, calls.append)
    assert calls == []
    cache.clear()
    assert cache.materialize(target, lambda p: p.write_text("ok")) == (target, False)


def test_disabled_cache_rebuilds_every_time() -> None:
    cache, calls = ArtifactCache(None), []
    target = cache.path_for("onnx", KEY, ".onnx")
    paths = [cache.materialize(target, lambda p: (calls.append(p), p.write_text("x")))[0] for _ in range(2)]
    assert len(calls) == 2 and paths[0] != paths[1] and all(p.read_text() == "x" for p in paths)
    cache.clear()
    assert not any(p.exists() for p in paths)


def test_clear_removes_artifacts(tmp_path: pathlib.Path) -> None:
    cache = ArtifactCache(tmp_path / "c")
    target = cache.path_for("onnx", KEY, ".onnx")
    cache.materialize(target, lambda p: p.write_text("x"))
    cache.clear()
    assert not target.exists()
    assert cache.materialize(target, lambda p: p.write_text("y")) == (target, False)


def _slow_build(p: pathlib.Path) -> None:
    with open(p, "w") as f:
        for _ in range(20):  # slow enough that workers overlap
            f.write("x" * 10_000)
            f.flush()
            time.sleep(0.005)


def _worker(root: str, results: multiprocessing.Queue) -> None:
    cache = ArtifactCache(pathlib.Path(root))
    path, reused = cache.materialize(cache.path_for("onnx", KEY, ".onnx"), _slow_build)
    results.put((str(path), reused, len(path.read_text())))


def test_concurrent_workers_see_only_complete_artifacts(tmp_path: pathlib.Path) -> None:
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), results)) for _ in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert {o[0] for o in outcomes} == {str(ArtifactCache(tmp_path).path_for("onnx", KEY, ".onnx"))}
    assert all(o[2] == 200_000 for o in outcomes)  # nobody read a half-written file
    assert len(list((tmp_path / "onnx").iterdir())) == 1  # losers' temporary dirs removed


def test_a_folder_that_cannot_be_written_disables_the_cache_with_the_reason(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    cache, problem = ArtifactCache.at(blocker / "ipfs-accel-artifacts")
    assert not cache.enabled and "cache" in problem
    usable, none = ArtifactCache.at(tmp_path / "fine")
    assert usable.enabled and none == "" and list((tmp_path / "fine").iterdir()) == []  # the probe cleans up


def _make_unwritable(path: pathlib.Path) -> str:
    """Make ``path`` really unwritable, even for root (where chmod does not stop writes): the way used."""
    import os
    import shutil
    import subprocess

    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("running as root without a working `chattr +i`: cannot make a folder read-only")
        how = "chattr +i"
    else:
        path.chmod(0o555)
        how = "chmod 555"
    try:
        (path / ".probe").write_text("x")
    except OSError:
        return how
    (path / ".probe").unlink()
    _make_writable(path)
    pytest.skip(f"{how} did not make {path} read-only here")


def _make_writable(path: pathlib.Path) -> None:
    import os
    import subprocess

    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o755)


@pytest.mark.slow
def test_a_read_only_rootdir_runs_the_items_without_a_cache_and_warns_once(tmp_path: pathlib.Path) -> None:
    """Every item used to error in the ipfs_artifacts fixture; now they run, with one warning."""
    import os
    import subprocess
    import sys

    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\nipfs_db = none\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # not an xdist worker
    how = _make_unwritable(project)  # no .pytest_cache can be created in the rootdir
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "--ipfs-models=bert", "--ipfs-kinds=load",
                               "--ipfs-hw=cpu", "-p", "no:randomly", "-W", "default", f"--basetemp={tmp_path / 'bt'}"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=300)
    finally:
        _make_writable(project)
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"({how}) {out}"
    assert "1 passed" in out
    assert out.count("ArtifactCacheWarning: pytest-ipfs-accel: export artifacts are not cached") == 1, out
    assert "--ipfs-no-cache" in out
