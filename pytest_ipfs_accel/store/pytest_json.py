"""Import pytest-benchmark JSON files (``pytest --benchmark-json=FILE`` / ``--benchmark-autosave``) into the store.

Every value is checked before anything is written (one line naming the file, the benchmark and the
field: rounds must be a whole number 1 .. 2**31-1, times finite and >= 0, ...), and each file is
written in one transaction. A file already imported (same content: its canonical JSON's SHA-256,
kept in ``runs.options.source_sha256``) is not imported again: its run id is given back instead.

Each file becomes one finished run: a ``runs`` row (host, python, commit from the file's
``machine_info``/``commit_info``), one ``benchmark_results`` row per benchmark, and one
``test_results`` row per benchmark (outcome ``passed``: pytest-benchmark saves only benchmarks that
completed). Model, platform and batch size come from the benchmark's ``params`` (or ``extra_info``)
keys ``model``, ``platform``/``hw``, ``batch_size``; absent ones stay NULL. p90/p99 are computed
from ``stats.data`` when the file kept raw timings (interpolated, as the benchmark kind: ``rounds``),
else NULL; items/s = batch size / median.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_ipfs_accel.store.schema import new_run_id
from pytest_ipfs_accel.store.schema import MAX_ROUNDS_STORED, BenchmarkRow, RunRow, TestResultRow, utcnow
from pytest_ipfs_accel.store.writer import Writer

_REQUIRED_STATS = ("min", "max", "mean", "median", "rounds")
_TIMES = ("min", "max", "mean", "median", "stddev", "total")
_INT_MAX = 2 ** 31 - 1  # the INTEGER columns (rounds, iterations, batch_size)
_SECONDS_MAX = 1e9  # ~30 years: any larger time is a broken file


class NotBenchmarkJSON(ValueError):
    """A file that is not pytest-benchmark JSON: the message is one line naming the file."""


def load(path: Path | str) -> dict[str, Any]:
    """The parsed file, checked to be pytest-benchmark JSON; NotBenchmarkJSON otherwise."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotBenchmarkJSON(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotBenchmarkJSON(f"{path}: not JSON ({str(exc).splitlines()[0]})") from None
    benches = doc.get("benchmarks") if isinstance(doc, dict) else None
    if not isinstance(benches, list):
        raise NotBenchmarkJSON(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    names: set[str] = set()
    for i, bench in enumerate(benches):
        stats = bench.get("stats") if isinstance(bench, dict) else None
        missing = [k for k in _REQUIRED_STATS if not isinstance(stats, dict) or stats.get(k) is None]
        if missing or not isinstance(bench.get("fullname") or bench.get("name"), str):
            what = f"stats {', '.join(missing)}" if missing else "a name"
            raise NotBenchmarkJSON(f"{path}: not a pytest-benchmark JSON file (benchmarks[{i}] has no {what})")
        name = str(bench.get("fullname") or bench.get("name"))
        if name in names:
            raise NotBenchmarkJSON(f"{path}: benchmark {name!r} appears twice; one row per benchmark")
        names.add(name)
        problem = _bad_value(bench)
        if problem:
            raise NotBenchmarkJSON(f"{path}: benchmark {name!r}: {problem}; nothing was imported")
    return doc


def _bad_value(bench: dict[str, Any]) -> str | None:
    """What is wrong with a benchmark's numbers (the first problem), or None."""
    stats = bench["stats"]
    for key in _TIMES + ("ops",):
        value = stats.get(key)
        if value is not None and not (_number(value) and 0 <= value <= (_SECONDS_MAX if key != "ops" else 1e15)):
            return f"stats.{key} {value!r} is not a time in seconds (finite, 0 .. {_SECONDS_MAX:g})"
    for key, value, required in (("stats.rounds", stats.get("rounds"), True),
                                 ("stats.iterations", stats.get("iterations"), False),
                                 ("batch_size", _labels_raw(bench).get("batch_size"), False)):
        if (value is not None or required) and _whole(value) is None:
            return f"{key} {value!r} is out of range (a whole number 1 .. {_INT_MAX})"
    data = stats.get("data")
    if isinstance(data, list) and not all(_number(x) and 0 <= x <= _SECONDS_MAX for x in data):
        return "stats.data holds a value that is not a time in seconds (finite, >= 0)"
    return None


def _whole(value) -> int | None:
    """A whole number 1 .. 2**31-1 (an int, a float with no fraction, digits in a string), else None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 1 <= value <= _INT_MAX else None


@dataclass
class Imported:
    """One file's import: its run id, and whether it was new (False: imported before as that run)."""
    path: Path
    run_id: str
    new: bool


def import_files(paths: list[Path | str], db: Path | str) -> list[Imported]:
    """Import every file (all checked before anything is written), each in one transaction; in file order."""
    docs = [(Path(p), load(p)) for p in paths]
    writer = Writer.open(db, spill=False)
    try:
        done = []
        for path, doc in docs:
            digest = _digest(doc)
            found = writer.con.execute("SELECT id FROM runs WHERE json_extract_string(options, '$.source_sha256') = ? "
                                       "ORDER BY started_at LIMIT 1", [digest]).fetchone()
            if found is not None:
                done.append(Imported(path, found[0], False))
                continue
            with writer.transaction():
                done.append(Imported(path, _import(writer, path, doc, digest), True))
    finally:
        writer.close()
    return done


def _digest(doc: dict[str, Any]) -> str:
    """The file's identity: SHA-256 of its canonical JSON (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _import(writer: Writer, path: Path, doc: dict[str, Any], digest: str) -> str:
    machine = doc.get("machine_info") if isinstance(doc.get("machine_info"), dict) else {}
    commit = doc.get("commit_info") if isinstance(doc.get("commit_info"), dict) else {}
    started = _when(doc.get("datetime")) or utcnow()
    run_id = new_run_id()
    writer.start_run(RunRow(
        id=run_id, started_at=started, status="finished", finished_at=started, exit_status=None,
        host=_text(machine.get("node")), os=_text(" ".join(str(machine.get(k) or "") for k in ("system", "release"))
                                                  .strip() or None),
        python=_text(machine.get("python_version")),
        packages=json.dumps({"pytest-benchmark": _text(doc.get("version"))}),
        hardware=None, options=json.dumps({"imported_from": str(path.resolve()), "source_sha256": digest}),
        args=None, rootdir=None, git_commit=_text(commit.get("id")),
    ))
    results, benches = [], []
    for bench in doc["benchmarks"]:
        stats, labels = bench["stats"], _labels(bench)
        node_id = str(bench.get("fullname") or bench.get("name"))
        batch = labels["batch_size"]
        median = float(stats["median"])
        p90, p99 = _percentiles(stats.get("data"))
        benches.append(BenchmarkRow(
            run_id=run_id, node_id=node_id, model=labels["model"], platform=labels["platform"],
            runtime=labels["runtime"], device=labels["device"], precision=labels["precision"], batch_size=batch,
            min_s=float(stats["min"]), max_s=float(stats["max"]), mean_s=float(stats["mean"]), median_s=median,
            stddev_s=_float(stats.get("stddev")), p90_s=p90, p99_s=p99, rounds=_whole(stats["rounds"]),
            iterations=_whole(stats.get("iterations")), ops_per_s=_float(stats.get("ops")),
            items_per_s=(batch or 1) / median if median > 0 else None, rounds_s=_rounds(stats.get("data")),
        ))
        results.append(TestResultRow(
            run_id=run_id, node_id=node_id, outcome="passed", kind="benchmark", duration_s=_float(stats.get("total")),
            **{k: labels[k] for k in ("model", "platform", "runtime", "device", "precision", "batch_size")}))
    writer.add_results(results)
    writer.add_benchmarks(benches)
    return run_id


def _labels_raw(bench: dict[str, Any]) -> dict[str, Any]:
    """``extra_info`` then ``params`` (params win), None values left out."""
    found: dict[str, Any] = {}
    for source in (bench.get("extra_info"), bench.get("params")):
        if isinstance(source, dict):
            found.update({k: v for k, v in source.items() if v is not None})
    return found


def _labels(bench: dict[str, Any]) -> dict[str, Any]:
    found = _labels_raw(bench)
    platform = _text(found.get("platform") or found.get("hw"))
    runtime, device = _text(found.get("runtime")), _text(found.get("device"))
    if platform and (runtime is None or device is None):
        try:
            from pytest_ipfs_accel.hardware import runtime_and_device

            runtime, device = runtime_and_device(platform)
        except Exception:  # an unknown platform name keeps runtime/device NULL
            pass
    return {"model": _text(found.get("model")), "platform": platform, "runtime": runtime, "device": device,
            "precision": _text(found.get("precision")), "batch_size": _whole(found.get("batch_size"))}


def _rounds(data) -> str | None:
    """The raw timings as the ``rounds_s`` JSON (the regression gate's input); None when not kept."""
    if not isinstance(data, list) or not data or not all(_number(x) for x in data):
        return None
    return json.dumps([float(x) for x in data[:MAX_ROUNDS_STORED]])


def _percentiles(data) -> tuple[float | None, float | None]:
    if not isinstance(data, list) or not data or not all(_number(x) for x in data):
        return None, None
    from pytest_ipfs_accel.rounds import percentile

    values = [float(x) for x in data]
    return percentile(values, 90), percentile(values, 99)


def _when(text) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _float(value) -> float | None:
    return float(value) if _number(value) else None


def _text(value) -> str | None:
    return None if value is None or value == "" else str(value)
