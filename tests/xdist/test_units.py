"""In-process pieces of the xdist support: the device lock and the scheduler's routing."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from pytest_ipfs_accel.host import devicelock
from pytest_ipfs_accel.host import threads
from pytest_ipfs_accel.plugin.worker_registry import Registry


@pytest.mark.parametrize("device, key", [("cpu", "cpu"), ("CPUExecutionProvider", "cpu"), ("CPU", "cpu"),
                                         ("cuda:0", "cuda_0"), ("GPU", "gpu")])
def test_device_key_puts_every_cpu_spelling_on_one_lock(device, key):
    assert devicelock.device_key(device) == key


def test_device_lock_never_lets_two_holders_overlap(tmp_path, monkeypatch):
    monkeypatch.setenv(devicelock.LOCK_DIR_ENV, str(tmp_path))
    spans = []

    def hold(device):
        with devicelock.device_lock(device):
            start = time.monotonic()
            time.sleep(0.15)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=hold, args=(d,)) for d in ("cpu", "CPUExecutionProvider", "CPU")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans


class FakeNode:
    def __init__(self, gwid):
        self.gateway = SimpleNamespace(id=gwid)
        self.shutting_down = False
        self.sent = []

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def test_scheduler_groups_by_model_and_routes_by_platform(pytestconfig):
    pytest.importorskip("xdist")
    from pytest_ipfs_accel.plugin.scheduler import ModelScheduling

    ids = [f"ipfs/test_{m}.py::test_{k}[{p}]" for m in ("bert", "vit") for k in ("load", "forward")
           for p in ("cpu", "openvino")] + ["ipfs/test_bert.py::test_load[cuda]"]
    reg = Registry()
    reg.needs = {i: i.split("[")[1].rstrip("]") for i in ids}
    reg.have = {"gw0": {"cpu"}, "gw1": {"cpu", "openvino"}}
    reg.missing = {"gw0": {"cuda": "no cuda", "openvino": "hidden"}, "gw1": {"cuda": "no cuda"}}
    skipped = []
    config = SimpleNamespace(getoption=lambda name, default=None: {"maxschedchunk": None, "tx": ["popen"] * 2,
                                                                   "numprocesses": 2}.get(name, default),
                             getvalue=lambda name: None, option=SimpleNamespace(tx=["popen"] * 2, numprocesses=2),
                             hook=SimpleNamespace(pytest_runtest_logreport=lambda report: skipped.append(report),
                                                  pytest_runtest_logstart=lambda **kw: None,
                                                  pytest_runtest_logfinish=lambda **kw: None))
    sched = ModelScheduling.__new__(ModelScheduling)
    sched.numnodes, sched.node2collection, sched.node2pending, sched.pending = 2, {}, {}, []
    sched.collection, sched.config, sched.log, sched.registry = None, config, lambda *a: None, reg
    sched.maxschedchunk = None
    nodes = [FakeNode("gw0"), FakeNode("gw1")]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, ids)
    sched.schedule()
    for _ in range(50):  # workers finish what they were sent; the scheduler hands out the rest
        for node in nodes:
            if sched.node2pending[node]:
                sched.mark_test_complete(node, sched.node2pending[node][0])
    assert sched.tests_finished and all(n.shutting_down for n in nodes)
    got = {n.gateway.id: {ids[i] for i in n.sent} for n in nodes}
    assert all("openvino" not in i for i in got["gw0"])  # gw0 lacks openvino
    assert {i for i in ids if "openvino" in i} <= got["gw1"]
    assert len(got["gw0"] | got["gw1"]) == len(ids) - 1 and not got["gw0"] & got["gw1"]
    for model in ("bert", "vit"):  # each model's cpu items on one worker
        assert len({gw for gw, sent in got.items() for i in sent if model in i and "[cpu]" in i}) == 1
    (setup, teardown) = skipped
    assert setup.nodeid == "ipfs/test_bert.py::test_load[cuda]" and setup.skipped
    assert "no worker has cuda (gw0: no cuda; gw1: no cuda)" in setup.longrepr[2]


@pytest.mark.parametrize("args, dist, choice, expected", [
    (["-n", "2"], "load", "auto", True),          # -n / -d: our scheduling by default
    (["--dist", "load", "-n", "2"], "load", "auto", False),  # a --dist the user named is kept
    (["--dist=loadfile"], "loadfile", "auto", False),
    (["-n", "2"], "load", "xdist", False),
    (["--dist=load"], "load", "model", True),
    (["-n", "2"], "each", "model", False),          # only replaces the load scheduler
])
def test_model_scheduling_only_replaces_xdists_default(monkeypatch, args, dist, choice, expected):
    from pytest_ipfs_accel.plugin.controller import wants_model_scheduling

    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    config = SimpleNamespace(option=SimpleNamespace(ipfs_dist=choice, dist=dist),
                             invocation_params=SimpleNamespace(args=args), getini=lambda name: [],
                             getoption=lambda name, default=None: dist)
    assert wants_model_scheduling(config) is expected


def test_workers_share_the_cores_and_benchmarks_take_them_all(monkeypatch):
    for name in (threads.THREADS_ENV, "OMP_NUM_THREADS"):  # set, then deleted: restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert threads.thread_budget() is None  # no xdist: the runtimes' defaults
    threads.share_cores(1)
    assert threads.thread_budget() is None  # one worker owns every core
    monkeypatch.setattr(threads, "cores", lambda: 8)
    threads.share_cores(3)
    assert threads.thread_budget() == 2
    with threads.timing_threads(8, torch_too=False):
        assert threads.thread_budget() == 8  # a benchmark's runner is built with the timing's threads
    assert threads.thread_budget() == 2


def test_onnxruntime_sessions_use_the_worker_share(monkeypatch, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    from pytest_ipfs_accel.backends import onnxruntime_backend

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    monkeypatch.setenv(threads.THREADS_ENV, "1")
    session = onnxruntime_backend._session(str(path), onnxruntime_backend.CPU_EP)
    assert session.get_session_options().intra_op_num_threads == 1
    with threads.timing_threads(3, torch_too=False):
        session = onnxruntime_backend._session(str(path), onnxruntime_backend.CPU_EP)
    assert session.get_session_options().intra_op_num_threads == 3  # the benchmark's thread setting
