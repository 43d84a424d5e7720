"""Pure helpers of the benchmark kind: percentiles, targets, default kinds."""

from __future__ import annotations

import pytest

from pytest_ipfs_accel.generate.matrix import kind_targets
from pytest_ipfs_accel.settings import DEFAULT_KINDS, KINDS, RunConfig
from pytest_ipfs_accel import rounds
from pytest_ipfs_accel.runtime import bench


def test_percentile_interpolates_like_numpy():
    np = pytest.importorskip("numpy")
    data = [0.3, 0.1, 0.2, 5.0, 0.15, 0.12, 0.11]
    for q in (0, 50, 90, 99, 100):
        assert rounds.percentile(data, q) == pytest.approx(float(np.percentile(data, q)))
    assert rounds.percentile([], 90) is None


def test_benchmark_targets_cover_every_platform_precision_and_batch_size():
    cfg = RunConfig(models=("bert",), hw=None, batch_sizes=(1, 4), precisions=("fp32", "bf16"))
    got = [(t.platform, t.precision, t.batch_size) for t in kind_targets("benchmark", ["cpu", "onnxruntime"], cfg)]
    assert got == [("cpu", "fp32", 1), ("cpu", "fp32", 4), ("cpu", "bf16", 1), ("cpu", "bf16", 4),
                   ("onnxruntime", "fp32", 1), ("onnxruntime", "fp32", 4), ("onnxruntime", "bf16", 1),
                   ("onnxruntime", "bf16", 4)]


def test_benchmark_is_a_kind_but_not_a_default_one():
    assert "benchmark" in KINDS and "benchmark" not in DEFAULT_KINDS
    assert RunConfig(models=(), hw=None).kinds == DEFAULT_KINDS


def test_peak_rss_is_megabytes():
    assert 1 < bench.peak_rss_mb() < 1e6
