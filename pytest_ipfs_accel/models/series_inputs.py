"""Forecasting-window inputs (PatchTST, time-series transformers, TimesFM) from the config."""

from __future__ import annotations

from typing import Any

from pytest_ipfs_accel.models.config_values import config_int, config_value


def series_input(name: str, cfg: Any, g: Any) -> Any:
    """History of ``context_length`` + the largest lag steps: values, masks, padding, time features."""
    import torch

    lags = config_value(cfg, ("lags_sequence",), None) or [0]
    length = config_int(cfg, ("context_length",), 32) + max(lags)
    channels = config_int(cfg, ("num_input_channels",), 0)
    size = config_int(cfg, ("input_size",), 1)
    shape: tuple[int, ...] = (1, length, channels) if channels else ((1, length) if size == 1 else (1, length, size))
    if name.endswith("time_features"):
        return torch.randn(1, length, config_int(cfg, ("num_time_features",), 1), generator=g)
    if name == "freq":  # one frequency index per series (TimesFM)
        return torch.zeros(1, dtype=torch.long)
    if name.endswith("padding"):
        return torch.zeros(1, length)
    return torch.randn(*shape, generator=g) if name == "past_values" else torch.ones(*shape)
