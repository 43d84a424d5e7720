"""RunnerInfo: what a prepared runner reports about where and how it runs.

A dataclass with the fields every runner has, plus ``extra`` for what one runtime adds
(``artifact``, ``cache``, ``exporter``, ``inference_precision``, ``browser_run_ms``...). It reads like
the dict it replaces (``info["device"]``, ``info.get("executed_on")``, ``{**info}``), so templates and
the checks keep working; writes to unknown keys land in ``extra``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, MutableMapping
from typing import Any


@dataclasses.dataclass(eq=False)
class RunnerInfo(MutableMapping):
    """``runtime``/``runtime_version``; ``device`` where it executes, ``requested`` what was asked for;
    ``executed_on`` what really ran the graph (ORT profiling, OpenVINO ``EXECUTION_DEVICES``, torch
    output devices); ``emulated`` as the probe says (``"no"``, ``"simulator"``, ``"software (...)"``)."""

    runtime: str
    runtime_version: str
    device: str
    requested: str
    precision: str
    emulated: str = "no"
    executed_on: str = ""
    extra: dict[str, str] = dataclasses.field(default_factory=dict)

    def _fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if f.name != "extra"]

    def __getitem__(self, key: str) -> Any:
        if key in self._fields() and (key != "executed_on" or self.executed_on):
            return getattr(self, key)
        return self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self._fields():
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        del self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self._fields() if k != "executed_on" or self.executed_on)
        yield from self.extra

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (dict, MutableMapping)) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return repr(dict(self.items()))
