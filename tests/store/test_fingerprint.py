"""store.fingerprint: CPU, memory and GPU facts from /proc files, a stable machine id, readable differences."""

from __future__ import annotations

from pytest_ipfs_accel.host import fingerprint

CPUINFO = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse avx2 fma avx512f avx512_bf16 avx512_vnni amx_tile amx_bf16 amx_int8 other
physical id\t: 0
core id\t\t: 0

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse avx2 fma avx512f avx512_bf16 avx512_vnni amx_tile amx_bf16 amx_int8 other
physical id\t: 0
core id\t\t: 0

processor\t: 2
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 1
"""


def fake_proc(tmp_path, gpu: str | None = "NVIDIA H100 80GB HBM3"):
    proc = tmp_path / "proc"
    (proc / "driver" / "nvidia" / "gpus" / "0000:01:00.0").mkdir(parents=True)
    (proc / "cpuinfo").write_text(CPUINFO)
    (proc / "meminfo").write_text("MemTotal:       65831204 kB\nMemFree: 1 kB\n")
    (proc / "driver" / "nvidia" / "version").write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n")
    if gpu:
        info = proc / "driver" / "nvidia" / "gpus" / "0000:01:00.0" / "information"
        info.write_text(f"Model: \t\t {gpu}\nIRQ: 1\n")
    return proc


def test_cpu_memory_and_gpus_from_proc(tmp_path):
    proc = fake_proc(tmp_path)
    cpu = fingerprint.cpu(proc)
    assert cpu["model"] == "Intel(R) Xeon(R) Platinum 8480+" and cpu["physical_cores"] == 2
    assert cpu["flags"] == ["avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16", "amx_int8"]
    assert fingerprint.memory_gb(proc) == 62.8
    assert fingerprint.nvidia_gpus(proc) == [{"vendor": "nvidia", "model": "NVIDIA H100 80GB HBM3",
                                              "driver": "550.54.15"}]


def test_machine_id_ignores_versions_and_probed_platforms_but_not_hardware(tmp_path):
    fp = fingerprint.fingerprint([{"name": "cpu", "device": "cpu", "available": True}], {"torch": "2.1"})
    same = dict(fp, packages={"torch": "2.9"}, os="other kernel",
                accelerators=fingerprint.accelerators([{"name": "cuda", "device": "cuda", "available": True,
                                                        "runtime": "torch", "details": {"driver": "555"}}]))
    assert fingerprint.machine_id(fp) == fingerprint.machine_id(same) and len(fingerprint.machine_id(fp)) == 12
    other = dict(fp, cpu=dict(fp["cpu"], model="Other CPU", flags=["avx2"]), gpus=[{"model": "NVIDIA A10"}])
    assert fingerprint.machine_id(other) != fingerprint.machine_id(fp)
    diff = fingerprint.differences(fp, other)
    assert f"cpu model: {fp['cpu']['model']} -> Other CPU" in diff and "gpus: +NVIDIA A10" in diff
    assert fingerprint.differences(None, fp) == ["no fingerprint stored for the baseline"]


def test_accelerators_keep_available_non_cpu_platforms_and_label(tmp_path):
    hw = [{"name": "cpu", "device": "cpu", "available": True},
          {"name": "openvino:gpu", "runtime": "openvino", "device": "GPU", "available": True,
           "details": {"openvino_version": "2025.1"}},
          {"name": "cuda", "device": "cuda", "available": False},
          {"name": "webgpu", "runtime": "browser", "device": "webgpu", "available": True, "emulated": "software",
           "details": {"browser": "Chrome/1"}}]
    found = fingerprint.accelerators(hw)
    assert [a["name"] for a in found] == ["openvino:gpu", "webgpu"]
    assert found[0]["versions"] == {"openvino_version": "2025.1"}
    fp = {"cpu": {"model": "EPYC"}, "gpus": [{"model": "H100"}], "accelerators": found}
    assert fingerprint.label(fp, "abcdef123456") == "EPYC + openvino:gpu (H100) [abcdef]"


def test_usable_cores_follow_affinity_and_the_cgroup_quota(tmp_path):
    import os

    from pytest_ipfs_accel.host import fingerprint

    affinity = len(os.sched_getaffinity(0))
    assert fingerprint.usable_cores(64, tmp_path / "missing") == affinity
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")  # docker --cpus=1.5 -> 2 usable
    assert fingerprint.usable_cores(64, quota) == min(affinity, 2)
    quota.write_text("max 100000\n")  # no quota
    assert fingerprint.usable_cores(64, quota) == affinity
    one = fingerprint.fingerprint()
    sliced = {**one, "cpu": {**one["cpu"], "usable_cores": one["cpu"]["usable_cores"] + 1}}
    assert fingerprint.machine_id(one) != fingerprint.machine_id(sliced)
    assert [ln for ln in fingerprint.differences(one, sliced) if ln.startswith("usable cores:")]
