"""``ipfs-accel skill``: a standalone skill module per model, and its test beside it.

    ipfs-accel skill --model bert [--cross-platform | --platform cpu,openvino] [-o skills/]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pytest_ipfs_accel.cli.common import CliError

_EXAMPLES = """examples:
  ipfs-accel skill --model bert                         # skills/skill_bert.py (cpu only) + test_skill_bert.py
  ipfs-accel skill --model bert --cross-platform -o skills/
  ipfs-accel skill --model t5 --platform cpu,openvino
  python -c "import sys; sys.path.insert(0, 'skills'); from skill_bert import BertSkill; \\
             print(BertSkill.available_platforms(), [o.shape for o in BertSkill().init('auto').run()])"
  pytest skills/test_skill_bert.py                      # cpu vs every other platform present here
"""


def add_parser(sub) -> None:
    p = sub.add_parser("skill", help="write a standalone skill module (one class, init_<platform>, run) per model",
                       description="Render templates/skills/skill.py.j2 into OUT/skill_<model>.py: a class with "
                                   "init_<platform>() per platform, init('auto'), available_platforms() and "
                                   "run(inputs=None) -> numpy outputs, built on pytest-ipfs-accel's models, "
                                   "backends and hardware probes; and OUT/test_skill_<model>.py, which checks "
                                   "every platform against cpu.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", "-m", required=True, action="append",
                   help="registry name, model type or local model folder (repeatable, or comma list)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--cross-platform", "-c", action="store_true",
                       help="an init_<platform>() for every registered platform family, plugins' included "
                            "(default: cpu only)")
    group.add_argument("--platform", "-p", default=None, help="comma list of platforms (default: cpu)")
    p.add_argument("--output", "-o", type=Path, default=Path("skills"), help="output folder (default ./skills)")
    p.add_argument("--seed", type=int, default=0, help="seed of tiny weights and inputs (default 0)")
    p.add_argument("--templates", default=None, metavar="DIR|DB",
                   help="templates folder or .duckdb template database searched before the shipped ones")
    p.add_argument("--trust-remote-code", action="store_true", help="allow custom code of local model folders")
    p.add_argument("--force", action="store_true",
                   help="replace files in the output folder that pytest-ipfs-accel did not generate")
    p.set_defaults(func=run)


def _platforms(args: argparse.Namespace) -> tuple[str, ...]:
    from pytest_ipfs_accel.hardware import UnknownPlatformError, canonical, families

    if args.cross_platform:
        return families()
    if not args.platform:
        return ("cpu",)
    out = []
    for name in filter(None, (n.strip() for n in args.platform.split(","))):
        try:
            name = canonical(name)
        except UnknownPlatformError as exc:
            raise CliError(f"--platform: {exc}") from None
        if not name.isidentifier():
            raise CliError(f"--platform: {name!r}: a skill takes platform families ({', '.join(families())}), "
                           "not runtime:device spellings")
        out.append(name)
    if not out:
        raise CliError("--platform: empty list")
    return tuple(dict.fromkeys(out))


def run(args: argparse.Namespace) -> int:
    from pytest_ipfs_accel.models.registry import InvalidModelNameError, UnknownModelError, resolve
    from pytest_ipfs_accel.templatedb.scaffold import ScaffoldError, write_skill

    platforms = _platforms(args)
    templates: tuple[str, ...] = ()
    if args.templates:
        path = Path(args.templates)
        if not (path.is_dir() or (path.suffix == ".duckdb" and path.is_file())):
            raise CliError(f"--templates: {args.templates!r} is not a directory or a .duckdb template database")
        templates = (str(path.resolve()),)
    names = [n.strip() for value in args.model for n in value.split(",") if n.strip()]
    specs = []
    for name in names:
        try:
            specs.append(resolve(name, trust_remote_code=args.trust_remote_code))
        except (UnknownModelError, InvalidModelNameError) as exc:
            raise CliError(f"--model: {exc}") from None
    for spec in specs:
        try:
            files = write_skill(spec, platforms, args.output, seed=args.seed, templates=templates,
                                force=args.force)
        except ScaffoldError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"cannot write to {args.output}: {exc.strerror or exc}") from None
        print(f"ipfs-accel: wrote {files.module} ({', '.join(platforms)}) and {files.test}")
    return 0
