"""``ipfs-accel`` entry point: argparse, one module per subcommand. Errors exit 2 with one line.

Each subcommand module in this package has ``add_parser(subparsers)``, which sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pytest_ipfs_accel.cli.common import CliError

#: Subcommand modules, in --help order.
COMMANDS = ("generate", "skill", "templates", "benchmark", "report", "compare", "db", "expectations", "hw", "models",
            "setup")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ipfs-accel", description="pytest-ipfs-accel tools")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # usage errors: argparse prints them and exits 2
    try:
        return args.func(args)
    except CliError as exc:
        print(f"ipfs-accel: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
