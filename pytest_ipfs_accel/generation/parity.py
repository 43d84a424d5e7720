"""Greedy token parity: every new token of every row equals the reference's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenParity:
    ok: bool
    detail: str
    step: int | None = None  # 0-based index of the first differing new token
    row: int | None = None


def token_parity(reference: list[list[int]], got: list[list[int]]) -> TokenParity:
    """Greedy token parity of ``got`` with ``reference``: equal, or the first step (then row) where
    the ids differ, with both ids named."""
    if len(reference) != len(got):
        return TokenParity(False, f"{len(got)} rows generated, reference has {len(reference)}")
    steps = max((len(r) for r in reference), default=0)
    for step in range(steps):
        for row, (ref, out) in enumerate(zip(reference, got)):
            if step >= len(out):
                return TokenParity(False, f"row {row}: generation stopped after {len(out)} tokens, "
                                          f"reference made {len(ref)}", step, row)
            if out[step] != ref[step]:
                return TokenParity(False, f"first difference at new token {step + 1} of {steps} (row {row}): "
                                          f"token {out[step]}, reference {ref[step]}; "
                                          f"equal before: {ref[:step]}", step, row)
    extra = [len(o) - len(r) for r, o in zip(reference, got) if len(o) > len(r)]
    if extra:
        return TokenParity(False, f"{max(extra)} more tokens than the reference's {steps}", steps, None)
    return TokenParity(True, f"all {steps} new tokens equal in {len(reference)} rows")
