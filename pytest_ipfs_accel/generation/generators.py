"""One generator per runtime, behind one call: ``generator_for(runtime, device, ...)``."""

from __future__ import annotations

from typing import Any

from pytest_ipfs_accel.generation.checkpoint import generating_family
from pytest_ipfs_accel.generation.result import GenerationError

#: Runtimes with a generation loop here; anything else (qnn, the browser) is not supported.
RUNTIMES = ("torch", "onnxruntime", "openvino")


class NotSupported(RuntimeError):
    """Generation is not supported on this runtime at all (a skip, not an xfail)."""


def generator_for(runtime: str, device: str, loaded: Any, model: Any, artifacts: Any = None) -> Any:
    """A ready generator (``.generate(prompt, logits) -> Generation``, ``.info``).

    ``model`` is the generative torch model (:func:`checkpoint.build_model`). Raises NotSupported,
    GenerationUnavailable (package missing) or GenerationError (step and reason).
    """
    family = generating_family(loaded)
    if runtime == "torch":
        from pytest_ipfs_accel.generation.torch_loop import TorchGenerator

        return TorchGenerator(model, device, family, loaded)
    if runtime not in RUNTIMES:
        raise NotSupported(f"generation is not supported on the {runtime} runtime")
    if family != "causal":
        raise GenerationError("export", f"{family} models: only decoder-only models are exported for "
                                        f"{runtime} generation here")
    from pytest_ipfs_accel.generation import checkpoint

    if runtime == "onnxruntime":
        from pytest_ipfs_accel.generation import ort_loop

        ep = ort_loop.BUILDER_EP.get(device)
        if ep is None:
            raise NotSupported(f"onnxruntime-genai has no model builder target for {device}")
        ort_loop.require_package()
        ort_loop.check_architecture(type(model).__name__)  # what save_pretrained writes as architectures[0]
        folder = checkpoint.folder_for(loaded, model, artifacts)
        built = ort_loop.folder_for(folder, folder.parent.name, "fp32", ep, artifacts)
        return ort_loop.OrtGenaiGenerator(built, device)
    from pytest_ipfs_accel.generation import openvino_loop

    openvino_loop.require_package()
    folder = checkpoint.folder_for(loaded, model, artifacts)
    return openvino_loop.OpenVINOGenerator(openvino_loop.folder_for(model, folder, folder.parent.name, artifacts),
                                           device)
