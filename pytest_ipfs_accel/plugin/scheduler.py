"""ModelScheduling: xdist scheduling by model (one worker builds/exports a model once) and by
hardware (an item needing a platform only goes to a worker that reported having it).

The unit of work is a *group*: the items of one generated module (one model) that the same set of
workers can run. A worker that runs low gets the whole next group; groups only one worker can run
go first, then the biggest. An item no worker can run is reported skipped with each worker's
reason. Items of non-generated modules are grouped by module too (like ``--dist loadscope``).

xdist constraint: a worker runs item i only once it has i+1 or a shutdown, so a worker with one
item left is either given a group or shut down.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScheduling

from pytest_ipfs_accel.plugin.worker_registry import Registry


class ModelScheduling(LoadScheduling):
    def __init__(self, config: pytest.Config, registry: Registry, log=None) -> None:
        super().__init__(config, log)
        self.registry = registry

    # -- helpers --------------------------------------------------------------------------------
    def _nodeid(self, idx: int) -> str:
        return self.collection[idx]

    def _eligible(self, idx: int) -> frozenset[str]:
        need = self.registry.needs.get(self._nodeid(idx))
        return frozenset(n.gateway.id for n in self.nodes
                         if need is None or need in self.registry.have.get(n.gateway.id, ()))

    def _group_key(self, idx: int) -> tuple[str, frozenset[str]]:
        return self._nodeid(idx).split("::", 1)[0], self._eligible(idx)

    # -- protocol -------------------------------------------------------------------------------
    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = next(iter(self.node2collection.values()))
            self.pending[:] = range(len(self.collection))
            self._drop_unrunnable()
        for node in self.nodes:
            self.check_schedule(node)

    def check_schedule(self, node, duration: float = 0) -> None:
        if node.shutting_down or self.collection is None:
            return
        if len(self.node2pending[node]) >= 2:
            return
        me = node.gateway.id
        groups: dict[tuple, list[int]] = {}
        for idx in self.pending:
            key = self._group_key(idx)
            if me in key[1]:
                groups.setdefault(key, []).append(idx)
        if not groups:
            node.shutdown()  # nothing left that it can run: it finishes what it holds, then leaves
            return
        # groups only few workers can run first, then the biggest (longest processing time first)
        key = min(groups, key=lambda k: (len(k[1]), -len(groups[k]), k[0]))
        chosen = groups[key]
        for idx in chosen:
            self.pending.remove(idx)
        self.node2pending[node].extend(chosen)
        node.send_runtest_some(chosen)
        if len(self.node2pending[node]) < 2:  # a single-item group: the worker needs a next one
            self.check_schedule(node)

    def remove_node(self, node) -> str | None:
        crashed = super().remove_node(node)  # re-pends the node's queue and reschedules the others
        self._drop_unrunnable()
        return crashed

    # -- items no worker can run ----------------------------------------------------------------
    def _drop_unrunnable(self) -> None:
        if not self.nodes:
            return
        for idx in [i for i in self.pending if not self._eligible(i)]:
            self.pending.remove(idx)
            self._report_skip(self._nodeid(idx))

    def _report_skip(self, nodeid: str) -> None:
        need = self.registry.needs.get(nodeid)
        why = "; ".join(f"{gw}: {self.registry.missing.get(gw, {}).get(need, 'not reported')}"
                        for gw in sorted(n.gateway.id for n in self.nodes))
        reason = f"no worker has {need} ({why})"
        path = nodeid.split("::", 1)[0]
        common: dict[str, Any] = dict(nodeid=nodeid, location=(path, None, nodeid.split("::", 1)[-1]),
                                      keywords={}, user_properties=[], sections=[])
        hook = self.config.hook
        hook.pytest_runtest_logstart(nodeid=nodeid, location=common["location"])
        setup = pytest.TestReport(outcome="skipped", when="setup", longrepr=(path, 0, f"Skipped: {reason}"),
                                  duration=0.0, **common)
        meta = self.registry.meta.get(nodeid)
        if meta is not None:
            setup.ipfs_accel = meta  # the store's labels (store.recorder.META)
        hook.pytest_runtest_logreport(report=setup)
        hook.pytest_runtest_logreport(report=pytest.TestReport(outcome="passed", when="teardown", longrepr=None,
                                                               duration=0.0, **common))
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=common["location"])
