"""Expectations as data: ``ipfs-expectations.toml`` (per model x platform x kind), failure classes."""
