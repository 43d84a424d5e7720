"""The controller's view of its workers: what each has, what each item needs (filled from the
capability channel, in execnet's receiver thread, before xdist handles collectionfinish)."""

from __future__ import annotations


class Registry:
    def __init__(self) -> None:
        self.have: dict[str, set[str]] = {}  # gateway id -> available platforms
        self.missing: dict[str, dict[str, str]] = {}  # gateway id -> {platform: reason}
        self.needs: dict[str, str] = {}  # nodeid -> platform (identical on every worker)
        self.meta: dict[str, dict] = {}  # nodeid -> store labels

    def receiver(self, gwid: str):
        def receive(message) -> None:
            if not isinstance(message, dict):
                return
            self.have[gwid] = set(message.get("have", ()))
            self.missing[gwid] = dict(message.get("missing", {}))
            self.needs.update(message.get("needs", {}))
            self.meta.update(message.get("meta", {}))

        return receive
