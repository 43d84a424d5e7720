"""Browser runtime: onnxruntime-web in headless Chromium on wasm, WebGPU and WebNN.

Nothing here is imported unless a browser platform is probed or prepared.
"""
