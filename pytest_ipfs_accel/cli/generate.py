"""``ipfs-accel generate tests|key-tests``: write the test modules ``pytest --ipfs-emit`` writes.

The seed's model_test_generator / merged_test_generator / hardware_test_generator /
generate_key_tests, on the plugin's own pipeline (options -> plan -> render -> emit).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_ipfs_accel.cli.common import CliError, converted

TESTS_EPILOG = """examples:
  ipfs-accel generate tests -g bert -p cpu,cuda,openvino -o test_bert.py
  ipfs-accel generate tests --generate bert --platform webgpu,webnn   # no -o: printed to stdout
  ipfs-accel generate tests -g bert-base-uncased -p cpu,cuda,openvino,qualcomm
  ipfs-accel generate tests -g bert,t5 -p all -o generated/ --kinds load,forward,parity
  pytest test_bert.py          # the files need nothing but pytest and the plugin

-g takes registry names (bert, t5, ...), transformers model types, Hugging Face model ids
(resolved offline to their architecture through the local HF cache or a name table) or model
directories (their own weights, as pytest --ipfs-models=DIR). Without -o the module is printed
to stdout; a file that pytest-ipfs-accel did not generate is never replaced without --force. -p all means every platform family; tests for platforms
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
    p.add_argument("--force", action="store_true",
                   help="replace output files that pytest-ipfs-accel did not generate (hand-written files, links)")


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
                       help="a .py file (one model only) or a directory (default: print the module to stdout)")
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
    from pytest_ipfs_accel.seed_compat import GeneratorConfig
    from pytest_ipfs_accel.hardware import UnknownPlatformError, canonical
    from pytest_ipfs_accel.hardware.platform import families

    names = _split(raw)
    try:
        if not names:
            return GeneratorConfig.get_default_hardware_backends()
        if "all" in names:
            return list(families())
        return list(dict.fromkeys(canonical(n) for n in names))
    except UnknownPlatformError as exc:
        raise CliError(f"-p/--platform: {exc}") from None


#: The CLI's spelling of the options the pipeline reports problems in.
FLAGS = {"models": "-g/--generate", "templates": "--templates", "seed": "--seed", "batch-sizes": "--batch-sizes",
         "kinds": "--kinds", "precisions": "--precisions"}


def architectures(raw: str | list[str]) -> list[str]:
    """Model names, ids or directories -> what the registry resolves: a model directory stays a
    path (its own weights, as ``--ipfs-models=DIR``), an id becomes its architecture."""
    from pytest_ipfs_accel.models.ids import architecture
    from pytest_ipfs_accel.models.pretrained import is_model_dir, missing_dir
    from pytest_ipfs_accel.models.registry import InvalidModelNameError, UnknownModelError

    out = []
    for name in (_split(raw) if isinstance(raw, str) else raw):
        problem = missing_dir(name, hub_ids=True)
        if problem:
            raise CliError(f"{FLAGS['models']}: {problem}")
        if is_model_dir(Path(name).expanduser()):
            out.append(str(Path(name).expanduser().absolute()))
            continue
        try:
            out.append(architecture(name))
        except (UnknownModelError, InvalidModelNameError) as exc:
            raise CliError(f"{FLAGS['models']}: {exc}") from None
    if not out:
        raise CliError(f"{FLAGS['models']}: no model given")
    return list(dict.fromkeys(out))


def _option(key: str, convert, *args):
    """A converter shared with the pytest options; its error named with this CLI's flag."""
    return converted(FLAGS[key], convert, *args)


def run_config(models: list[str], hw: list[str], args: argparse.Namespace):
    """The RunConfig ``pytest --ipfs-models=... --ipfs-hw=... --ipfs-emit=...`` would build."""
    from pytest_ipfs_accel import settings as options

    kinds = _option("kinds", options.choices, tuple(_split(args.kinds)), options.KINDS) or None
    precisions = _option("precisions", options.choices, tuple(_split(args.precisions)) or ("fp32",),
                         options.PRECISIONS)
    extra = {"kinds": kinds} if kinds else {}
    return options.RunConfig(
        models=tuple(models), hw=tuple(hw), precisions=precisions,
        seed=_option("seed", options.seed, str(args.seed)),
        batch_sizes=_option("batch-sizes", options.batch_sizes, tuple(_split(args.batch_sizes))),
        templates=_option("templates", options.template_sources, tuple(_split(args.templates)), Path.cwd()),
        **extra)


def sources(cfg) -> dict[str, str]:
    """filename -> module source, through the plugin's pipeline (problems named with this CLI's flags)."""
    from pytest_ipfs_accel.generate import pipeline

    try:
        return {name: r.source for name, r in pipeline.sources(cfg, pipeline.plan(cfg)).items()}
    except pipeline.PlanError as exc:
        raise CliError(f"{FLAGS.get(exc.option, exc.option)}: {exc.detail}") from None


def write(directory: Path, files: dict[str, str], force: bool = False) -> list[Path]:
    from pytest_ipfs_accel.generate.emit import EmitError, emit

    try:
        return emit(directory, files, force=force, flag="--force")
    except EmitError as exc:
        raise CliError(str(exc)) from None


def _report(written: list[Path], where: Path) -> None:
    for path in written:
        print(f"ipfs-accel: wrote {path}")
    print(f"ipfs-accel: {len(written)} test file(s); run them with: pytest {where}", flush=True)


def run_tests(args: argparse.Namespace) -> int:
    models = architectures(args.generate)
    files = sources(run_config(models, platforms(args.platform), args))
    if not args.output:
        return _to_stdout(files)
    out = Path(args.output).expanduser()
    if out.suffix == ".py" and not out.is_dir():
        if len(files) != 1:
            raise CliError(f"-o {args.output}: {len(files)} models give {len(files)} files; pass a directory")
        from pytest_ipfs_accel.files import FileWriteError, write_text

        try:
            written = [write_text(out, next(iter(files.values())), force=args.force, flag="--force").absolute()]
        except FileWriteError as exc:
            raise CliError(str(exc)) from None
        _report(written, out)
        return 0
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {args.output}: exists and is not a directory (a single-model output file must end in .py)")
    _report(write(out, files, args.force), out)
    return 0


def _to_stdout(files: dict[str, str]) -> int:
    """No ``-o``: one module to stdout (nothing on disk is touched); several need a directory."""
    import sys

    if len(files) != 1:
        raise CliError(f"{len(files)} models give {len(files)} files: pass -o DIR (without -o one module is "
                       "printed to stdout)")
    ((name, source),) = files.items()
    sys.stdout.write(source)
    sys.stdout.flush()
    print(f"ipfs-accel: printed {name} to stdout; write it with -o {name} or -o DIR", file=sys.stderr)
    return 0


def run_key_tests(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.seed_compat import GeneratorConfig

    models = architectures(",".join(args.model)) if args.model else architectures(GeneratorConfig.get_key_model_types())
    out = Path(args.output or GeneratorConfig.DEFAULT_OUTPUT_DIR).expanduser()
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {out}: exists and is not a directory")
    files = sources(run_config(models, platforms(args.platform), args))
    _report(write(out, files, args.force), out)
    return 0
