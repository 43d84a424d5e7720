"""pytest-ipfs-accel: models x detected hardware as ordinary pytest runs.

Importing this package is cheap: nothing heavy (torch, transformers, onnxruntime,
openvino, duckdb) is imported until a generated test needs it.
"""

__version__ = "0.1.0"
