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
