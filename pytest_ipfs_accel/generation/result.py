"""What every generator takes and gives, whatever the runtime."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

#: Steps a runtime reports failures with (``expectations.classify.step_class`` maps them to classes).
STEPS = ("checkpoint", "export", "compile", "runtime")


class GenerationError(RuntimeError):
    """A runtime that cannot generate with this model; ``step`` says where it stopped."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(f"{step}: {message}")


class GenerationUnavailable(RuntimeError):
    """The runtime's generation package is not installed (a skip naming what to install)."""


@dataclass(frozen=True)
class Prompt:
    """``batch`` rows of ``length`` token ids; row ``i`` is the row of batch 1 with seed ``seed + i``."""

    input_ids: tuple[tuple[int, ...], ...]
    new_tokens: int

    @property
    def batch(self) -> int:
        return len(self.input_ids)

    @property
    def length(self) -> int:
        return len(self.input_ids[0])


def make_prompt(vocab_size: int, length: int, new_tokens: int, batch: int, seed: int,
                avoid: set[int] | frozenset[int] = frozenset()) -> Prompt:
    """Seeded ids drawn from the vocabulary without the special ids in ``avoid`` (and without 0..2)."""
    usable = [i for i in range(3, vocab_size) if i not in avoid] or list(range(vocab_size))
    rows = tuple(tuple(random.Random(seed + row).choice(usable) for _ in range(length)) for row in range(batch))
    return Prompt(rows, new_tokens)


@dataclass
class Generation:
    """One greedy generation: new token ids per row, first-step logits (None when the runtime hides
    them), and its timings: ``ttft_s`` (start to the first new token), ``steps_s`` (between
    consecutive new tokens: N-1 values), ``total_s`` (start to return)."""

    tokens: list[list[int]]
    ttft_s: float
    steps_s: list[float]
    total_s: float
    first_logits: Any = None  # numpy array (batch, vocab) or None
    info: dict[str, Any] = field(default_factory=dict)


#: Lines of a multi-line error that say more than its first line (OpenVINO's conversion reports).
_DETAIL = ("No conversion rule found for operations:",)


def one_line(exc: BaseException) -> str:
    """The first non-blank line of ``exc``, with the line that names the cause where the first does not:
    the unconverted ops of an OpenVINO ``OpConversionFailure`` (instead of its ``Check 'false' failed
    at <source file>`` line), the error under ``Exception:`` of a TorchScript tracing failure (bounded)."""
    lines = [ln.strip(" -") for ln in str(exc).splitlines() if ln.strip(" -")]
    if not lines:
        return ""
    detail = next((ln for ln in lines[1:] if ln.startswith(_DETAIL)), None)
    if detail is not None and lines[0].startswith("Check '"):
        return detail[:300]
    if detail is None and "Exception:" in lines[1:-1]:
        detail = lines[lines.index("Exception:", 1) + 1]
    return (f"{lines[0]} {detail}" if detail else lines[0])[:300]
