"""Greedy text generation on each runtime, its timings and its token parity (no pytest here).

* :mod:`.result`: the prompt, what one generation gives (tokens, first-step logits, timings), errors;
* :mod:`.architectures`: which model types can generate, and through which transformers class;
* :mod:`.checkpoint`: the generative torch model and its saved folder (weights + tokenizer);
* :mod:`.torch_loop`, :mod:`.ort_loop`, :mod:`.openvino_loop`: one generator per runtime;
* :mod:`.metrics`: optimum-benchmark's text-generation figures from the timings;
* :mod:`.parity`: greedy token ids against the reference, first differing step named.
"""
