"""``ipfs-accel generate tests|key-tests``: write the test modules ``pytest --ipfs-emit`` writes.

The seed's model_test_generator / merged_test_generator / hardware_test_generator /
generate_key_tests, on the plugin's own pipeline (options -> plan -> render -> emit).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from .common import CliError

TESTS_EPILOG = """examples:
  ipfs-accel generate tests -g bert -p cpu,cuda,openvino -o test_bert.py
  ipfs-accel generate tests --generate bert --platform webgpu,webnn
  ipfs-accel generate tests -g bert-base-uncased -p cpu,cuda,openvino,qualcomm
  ipfs-accel generate tests -g bert,t5 -p all -o generated/ --kinds load,forward,parity
  pytest test_bert.py          # the files need nothing but pytest and the plugin

-g takes registry names (bert, t5, ...), transformers model types, Hugging Face model ids
(resolved offline to their architecture through a local directory, the local HF cache or a
name table) or model directories. -p all means every platform family; tests for platforms
absent here skip, saying why. Without -p: GeneratorConfig.get_default_hardware_backends()
($IPFS_ACCEL_DEFAULT_HW overrides it)."""

KEY_EPILOG = """examples:
  ipfs-accel generate key-tests -o generated/
  ipfs-accel generate key-tests -o generated/ -p cpu,openvino --model bert --model t5
  pytest generated/

One file per key model type (GeneratorConfig.get_key_model_types(); $IPFS_ACCEL_KEY_MODELS overrides)."""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--platform", "--hw", dest="platform", metavar="LIST",
                   help="comma list of platforms (cpu, cuda, rocm, mps, onnxruntime|ort[:EP], openvino[:DEVICE], "
                        "qualcomm, webgpu, webnn) or 'all'")
    p.add_argument("--kinds", metavar="LIST", help="comma list of test kinds (load, forward, parity, batch, "
                                                   "benchmark); default load,forward,parity,batch")
    p.add_argument("--seed", default="0", metavar="N", help="seed for tiny weights and inputs (default 0)")
    p.add_argument("--batch-sizes", default="1,2", metavar="LIST", help="comma list of batch sizes (default 1,2)")
    p.add_argument("--precisions", default="fp32", metavar="LIST", help="comma list of fp32, fp16, bf16")
    p.add_argument("--templates", metavar="DIRS", help="comma list of template directories or .duckdb template databases searched first")


def add_parser(sub) -> None:
    gen = sub.add_parser("generate", help="write generated test modules (the seed's test generators)",
                         description="Write the test modules `pytest --ipfs-emit` writes.",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="examples:\n  ipfs-accel generate tests -g bert -p cpu,openvino -o test_bert.py\n"
                                "  ipfs-accel generate key-tests -o generated/\n\n"
                                "ipfs-accel generate tests --help   for every flag")
    what = gen.add_subparsers(dest="what", metavar="WHAT")
    what.required = True
    tests = what.add_parser("tests", help="test modules for the models given with -g",
                            description="Write one test module per model (model_test_generator, "
                                        "merged_test_generator, hardware_test_generator).",
                            formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TESTS_EPILOG)
    tests.add_argument("-g", "--generate", "--model", dest="generate", required=True, metavar="MODEL[,MODEL]",
                       help="model(s): registry name, model type, HF model id or model directory")
    tests.add_argument("-o", "--output", metavar="FILE|DIR",
                       help="a .py file (one model only) or a directory (default: the current directory)")
    _common(tests)
    tests.set_defaults(func=run_tests)
    key = what.add_parser("key-tests", help="one test module per key model type (generate_key_tests)",
                          description="Write one test module per key model type.",
                          formatter_class=argparse.RawDescriptionHelpFormatter, epilog=KEY_EPILOG)
    key.add_argument("-o", "--output", metavar="DIR", help="directory (default: GeneratorConfig.DEFAULT_OUTPUT_DIR)")
    key.add_argument("--model", action="append", metavar="MODEL", help="only these key models (repeatable)")
    _common(key)
    key.set_defaults(func=run_key_tests)


def _split(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


def platforms(raw: str | None) -> list[str]:
    """``-p`` -> canonical platform names; ``all`` = every family; none = the GeneratorConfig default."""
    from ..config import GeneratorConfig
    from ..hardware import UnknownPlatformError, canonical
    from ..hardware.platform import families

    names = _split(raw)
    try:
        if not names:
            return GeneratorConfig.get_default_hardware_backends()
        if "all" in names:
            return list(families())
        return list(dict.fromkeys(canonical(n) for n in names))
    except UnknownPlatformError as exc:
        raise CliError(f"-p/--platform: {exc}") from None


def architectures(raw: str | list[str]) -> list[str]:
    """Model names or ids -> what the registry resolves (ids mapped to their architecture)."""
    from ..models.ids import architecture
    from ..models.registry import InvalidModelNameError, UnknownModelError

    out = []
    for name in (_split(raw) if isinstance(raw, str) else raw):
        try:
            out.append(architecture(name))
        except (UnknownModelError, InvalidModelNameError) as exc:
            raise CliError(str(exc)) from None
    if not out:
        raise CliError("-g/--generate: no model given")
    return list(dict.fromkeys(out))


def run_config(models: list[str], hw: list[str], args: argparse.Namespace):
    """The RunConfig ``pytest --ipfs-models=... --ipfs-hw=... --ipfs-emit=...`` would build."""
    from ..options import KINDS, PRECISIONS, RunConfig

    kinds = tuple(dict.fromkeys(_split(args.kinds))) or None
    for kind in kinds or ():
        if kind not in KINDS:
            raise CliError(f"--kinds: unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    precisions = tuple(dict.fromkeys(_split(args.precisions))) or ("fp32",)
    for p in precisions:
        if p not in PRECISIONS:
            raise CliError(f"--precisions: unknown precision {p!r}; choose from {', '.join(PRECISIONS)}")
    if not re.fullmatch(r"\d+", str(args.seed).strip()):
        raise CliError(f"--seed: {args.seed!r} is not an integer >= 0")
    sizes = _split(args.batch_sizes)
    if not sizes or any(not re.fullmatch(r"\d+", s) or int(s) < 1 for s in sizes):
        raise CliError(f"--batch-sizes: {args.batch_sizes!r} is not a comma list of integers >= 1")
    import pytest

    from ..options import _template_dirs  # the plugin's own check: directories or .duckdb template DBs

    try:
        templates = _template_dirs(tuple(_split(args.templates)), Path.cwd())
    except pytest.UsageError as exc:
        raise CliError(str(exc).replace("--ipfs-templates", "--templates")) from None
    extra = {"kinds": kinds} if kinds else {}
    return RunConfig(models=tuple(models), hw=tuple(hw), seed=int(args.seed),
                     batch_sizes=tuple(sorted({int(s) for s in sizes})), precisions=precisions,
                     templates=tuple(templates), **extra)


def sources(cfg) -> dict[str, str]:
    """filename -> module source, through the plugin's pipeline (usage problems -> CliError)."""
    import pytest

    from ..generate import pipeline

    try:
        return {name: r.source for name, r in pipeline.sources(cfg, pipeline.plan(cfg)).items()}
    except pytest.UsageError as exc:
        raise CliError(str(exc)) from None


def write(directory: Path, files: dict[str, str]) -> list[Path]:
    from ..generate.emit import EmitError, emit

    try:
        return emit(directory, files)
    except EmitError as exc:
        raise CliError(str(exc)) from None


def _report(written: list[Path], where: Path) -> None:
    for path in written:
        print(f"ipfs-accel: wrote {path}")
    print(f"ipfs-accel: {len(written)} test file(s); run them with: pytest {where}", flush=True)


def run_tests(args: argparse.Namespace) -> int:
    models = architectures(args.generate)
    files = sources(run_config(models, platforms(args.platform), args))
    out = Path(args.output).expanduser() if args.output else Path(".")
    if args.output and out.suffix == ".py" and not out.is_dir():
        if len(files) != 1:
            raise CliError(f"-o {args.output}: {len(files)} models give {len(files)} files; pass a directory")
        (source,) = files.values()
        if re.fullmatch(r"test_[a-z0-9_]+\.py", out.name):
            written = write(out.parent, {out.name: source})
        else:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_name(out.name + ".tmp")
                tmp.write_text(source, encoding="utf-8")
                os.replace(tmp, out)
            except OSError as exc:
                raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
            written = [out.resolve()]
        _report(written, out)
        return 0
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {args.output}: exists and is not a directory (a single-model output file must end in .py)")
    _report(write(out, files), out)
    return 0


def run_key_tests(args: argparse.Namespace) -> int:
    from ..config import GeneratorConfig

    models = architectures(",".join(args.model)) if args.model else architectures(GeneratorConfig.get_key_model_types())
    out = Path(args.output or GeneratorConfig.DEFAULT_OUTPUT_DIR).expanduser()
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {out}: exists and is not a directory")
    files = sources(run_config(models, platforms(args.platform), args))
    _report(write(out, files), out)
    return 0
