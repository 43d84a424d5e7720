"""Browser platforms for real: headless Chromium + onnxruntime-web (no mocks).

Skipped, with the set-up command as the reason, when the browser or onnxruntime-web is missing.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from pytest_ipfs_accel.browser import cache

MISSING = cache.missing()
needs_web = pytest.mark.skipif(bool(MISSING), reason=MISSING or "ok")


def test_missing_cache_names_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    assert cache.ort_dist() is None
    assert "ipfs-accel setup web" in cache.missing()


@needs_web
def test_probe_wasm_and_webgpu():
    from pytest_ipfs_accel.browser.probe import probe_platform

    wasm = probe_platform("wasm")
    assert wasm.available, wasm.reason
    assert (wasm.runtime, wasm.device, wasm.emulated) == ("browser", "wasm", "no")
    gpu = probe_platform("webgpu")
    if not gpu.available:
        pytest.skip(gpu.reason)
    assert gpu.details["adapter_architecture"]
    if gpu.details["is_fallback_adapter"] == "true":
        assert gpu.emulated == "software (SwiftShader)"


@needs_web
def test_probe_webnn_says_why():
    from pytest_ipfs_accel.browser.probe import probe_platform

    nn = probe_platform("webnn")
    if cache.sparticuz_chromium() is None:
        assert not nn.available and "ipfs-accel setup web" in nn.reason
    else:
        assert nn.available, nn.reason
        assert nn.emulated == "cpu (TFLite/XNNPACK)"


@pytest.fixture(scope="module")
def bert():
    from pytest_ipfs_accel.runtime.checks import ModelRef, loaded, reference

    ref = ModelRef("bert", "bert", "text")
    return loaded(ref), reference(ref)


@needs_web
@pytest.mark.slow
@pytest.mark.parametrize("ep", ["wasm", "webnn", "webgpu"])
def test_bert_parity(ep, bert, tmp_path_factory):
    from pytest_ipfs_accel.backends.artifacts import ArtifactCache
    from pytest_ipfs_accel.browser.backend import BrowserBackend
    from pytest_ipfs_accel.browser.probe import probe_platform
    from pytest_ipfs_accel.runtime.parity import tolerance, within_tolerance

    found = probe_platform(ep)
    if not found.available:
        pytest.skip(found.reason)
    lm, ref = bert
    artifacts = ArtifactCache(pathlib.Path(tmp_path_factory.getbasetemp()) / "artifacts")
    runner = BrowserBackend().prepare(lm, ref.inputs, ep, "fp32", artifacts)
    outputs = runner(ref.inputs)
    assert runner.info["device"] == ep and float(runner.info["browser_run_ms"]) > 0
    # what ran the graph, read back from onnxruntime-web: the asked-for EP's provider, nothing else
    assert runner.info["requested"] == ep
    entries = runner.info["executed_on"].split(", ")
    assert len(entries) == 1 and entries[0].startswith(f"{ep}:"), runner.info["executed_on"]
    if ep == "webgpu":  # no bool/int64 kernels there: the mask path runs as float 0/1
        assert "float masks" in runner.info["exporter"] or runner.info["cache"] == "hit"
    result = within_tolerance(ref.outputs, outputs, *tolerance("browser", "fp32"))
    assert result.ok, result.detail
    assert result.max_abs < 1e-5  # measured 4.8e-7 (webgpu, webnn) and 7.2e-7 (wasm)
    assert all(np.asarray(o).dtype == r.dtype for o, r in zip(outputs, ref.outputs))
