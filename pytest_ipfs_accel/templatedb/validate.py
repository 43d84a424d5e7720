"""Template checks: jinja syntax, required blocks, known variables, no reach into Python internals,
and a sample render that parses.

A validator never runs a template's code: a template that reaches for Python internals
(``x.__init__``, ``x["__globals__"]``, ``x|attr(...)`` with a computed or private name) is a problem
found in its syntax tree and is never rendered; the others render only in the generation sandbox
(jinja2's ``ImmutableSandboxedEnvironment``), where such access fails instead of running. Every problem is a :class:`Problem` printed as ``file:line: message``. A tests module template
(``tests/*.py.j2``, ``tests/models/*.py.j2``) is rendered for bert on cpu, onnxruntime and openvino
with every kind, and the output must parse with :func:`ast.parse`; a skill template is rendered for
bert on every registered platform family (plugins' included).
"""

from __future__ import annotations

import ast
import traceback
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pytest_ipfs_accel.store.templates import KINDS, SUFFIX

#: What generate.render passes to a tests template.
TESTS_CONTEXT = frozenset({"model", "kinds", "platforms", "seed", "model_arg", "version", "template_name"})
#: tests/kinds/*.j2 are included inside base.py.j2's ``{% for kind, targets in kinds.items() %}``.
KIND_CONTEXT = TESTS_CONTEXT | {"kind", "targets", "loop"}
REQUIRED_BLOCKS = ("docstring", "imports", "model", "tests")
BASE = "tests/base.py.j2"
SAMPLE_MODEL = "bert"
SAMPLE_PLATFORMS = ("cpu", "onnxruntime", "openvino")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A template to check: its loader name, the label problems are reported under, its text."""

    name: str
    label: str
    text: str


def known_context(name: str) -> frozenset[str] | None:
    """The variables a template may use, or None when its context is not checked (reports)."""
    from pytest_ipfs_accel.templatedb.scaffold import SKILL_CONTEXT

    if name.startswith("tests/kinds/"):
        return KIND_CONTEXT
    if name.startswith("tests/"):
        return TESTS_CONTEXT
    if name.startswith("skills/"):
        return SKILL_CONTEXT
    return None


def is_module_template(name: str) -> bool:
    """A template rendered as a whole test module (not an include or a macro file)."""
    path = PurePosixPath(name)
    return (name.startswith("tests/") and not name.startswith("tests/kinds/") and not path.name.startswith("_")
            and path.name.endswith(".py" + SUFFIX))


def sources_from_path(path: Path) -> list[Source]:
    """Templates to check from a file or a folder; names are taken from the tests/skills/reports part."""
    from pytest_ipfs_accel.store.templates import files_in

    if path.is_file():
        parts = path.resolve().parts
        idx = max((i for i, p in enumerate(parts) if p in KINDS), default=None)
        name = "/".join(parts[idx:]) if idx is not None else f"tests/{path.name}"
        return [Source(name, str(path), _read(path))]
    files = files_in(path)
    prefix = ""
    if path.resolve().name in KINDS and not any(n.split("/")[0] in KINDS for n in files):
        prefix = path.resolve().name + "/"
    return [Source(prefix + name, str(file), _read(file)) for name, file in files.items()]


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def sources_from_db(db: str | Path) -> list[Source]:
    from pytest_ipfs_accel.store.templates import read_sources

    return [Source(name, f"{db}:{name}", text) for name, text in read_sources(db).items()]


def validate(sources: list[Source], search: tuple[str, ...] = ()) -> list[Problem]:
    """Every problem in ``sources``; other templates resolve through them first, then ``search``
    (folders or template databases), then the shipped templates."""
    import jinja2

    from pytest_ipfs_accel.generate.environment import loader_for, make_environment

    by_name = {s.name: s for s in sources}

    def load(name: str):
        s = by_name.get(name)
        return None if s is None else (s.text, s.label, lambda: True)

    env = make_environment(jinja2.ChoiceLoader([jinja2.FunctionLoader(load), loader_for(search)]))
    problems: list[Problem] = []
    for s in sources:
        problems += _check(env, s)
    return problems


def _check(env, s: Source) -> list[Problem]:
    import jinja2
    from jinja2 import meta, nodes

    try:
        tree = env.parse(s.text, s.name, s.label)
    except jinja2.TemplateSyntaxError as exc:
        return [Problem(s.label, exc.lineno or 1, f"jinja syntax error: {exc.message}")]
    problems = _unsafe(s, tree)
    if problems:
        return problems  # never rendered: a validator runs nothing
    context = known_context(s.name)
    if context is not None:
        allowed = context | set(env.globals)
        for var in sorted(meta.find_undeclared_variables(tree) - allowed):
            line = next((n.lineno for n in tree.find_all(nodes.Name) if n.name == var), 1)
            problems.append(Problem(s.label, line, f"unknown variable {var!r}: a {s.name.split('/')[0]} "
                                                   f"template is rendered with {', '.join(sorted(context))}"))
    if is_module_template(s.name):
        block_problems = _blocks(env, s, tree)
        problems += block_problems
        if not block_problems and not problems:
            problems += _render_tests(env, s)
    elif s.name.startswith("skills/") and s.name.endswith(".py" + SUFFIX) and not problems:
        problems += _render_skill(env, s)
    return problems


def unsafe_attribute(name: str) -> bool:
    """An attribute the sandbox refuses: private/dunder names and frame/code handles."""
    from jinja2 import sandbox

    internals = (sandbox.UNSAFE_FUNCTION_ATTRIBUTES | sandbox.UNSAFE_METHOD_ATTRIBUTES
                 | sandbox.UNSAFE_GENERATOR_ATTRIBUTES | sandbox.UNSAFE_COROUTINE_ATTRIBUTES
                 | sandbox.UNSAFE_ASYNC_GENERATOR_ATTRIBUTES | {"mro"})
    return name.startswith("_") or name in internals


def _unsafe(s: Source, tree) -> list[Problem]:
    """Attribute and item access into Python internals, found in the template's syntax tree."""
    from jinja2 import nodes

    found: list[tuple[int, str]] = []
    for node in tree.find_all(nodes.Getattr):
        if unsafe_attribute(node.attr):
            found.append((node.lineno, f".{node.attr}"))
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) and unsafe_attribute(node.arg.value):
            found.append((node.lineno, f"[{node.arg.value!r}]"))
    for node in tree.find_all(nodes.Filter):
        if node.name == "attr" and node.args:
            arg = node.args[0]
            name = arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None
            if name is None or unsafe_attribute(name):
                found.append((node.lineno, f"|attr({name!r})" if name else "|attr(<computed name>)"))
    return [Problem(s.label, line, f"reaches into Python internals ({what}): templates render in a sandbox "
                                   "that refuses this; use the context values and filters (py, text, ident)")
            for line, what in sorted(set(found))]


def _extends(tree) -> tuple[str | None, int]:
    from jinja2 import nodes

    for node in tree.find_all(nodes.Extends):
        if isinstance(node.template, nodes.Const):
            return node.template.value, node.lineno
        return "<dynamic>", node.lineno
    return None, 0


def _blocks(env, s: Source, tree) -> list[Problem]:
    """The four blocks of a module exist along the extends chain; a child defines no unknown block."""
    import jinja2
    from jinja2 import nodes

    own = {b.name: b.lineno for b in tree.find_all(nodes.Block)}
    parent, line = _extends(tree)
    if parent is None:
        missing = [b for b in REQUIRED_BLOCKS if b not in own]
        if missing:
            return [Problem(s.label, 1, f"a tests module template that does not extend {BASE} must define "
                                        f"the blocks {', '.join(REQUIRED_BLOCKS)}; missing: {', '.join(missing)}")]
        return []
    if parent == "<dynamic>":
        return []
    inherited: set[str] = set()
    seen = {s.name}
    while parent is not None and parent not in seen:
        seen.add(parent)
        try:
            source, filename, _ = env.loader.get_source(env, parent)
        except jinja2.TemplateNotFound:
            return [Problem(s.label, line, f"extends {parent!r}: no such template")]
        try:
            ptree = env.parse(source, parent, filename)
        except jinja2.TemplateSyntaxError:
            return []  # reported when that template is checked
        inherited |= {b.name for b in ptree.find_all(nodes.Block)}
        parent, _ = _extends(ptree)
    problems = [Problem(s.label, lineno, f"block {name!r} is not defined in any template it extends, so it is "
                                          f"never rendered (known: {', '.join(sorted(inherited))})")
                for name, lineno in own.items() if name not in inherited]
    missing = [b for b in REQUIRED_BLOCKS if b not in inherited | set(own)]
    if missing:
        problems.append(Problem(s.label, line, f"the blocks {', '.join(missing)} are missing from the templates "
                                               "it extends"))
    return problems


def _where(exc: BaseException, s: Source) -> Problem:
    """Locate a render failure: jinja puts template frames (filename = label) into the traceback."""
    lineno = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if not lineno:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(SUFFIX) or frame.filename == s.label:
                filename, lineno = frame.filename, frame.lineno
                break
    message = getattr(exc, "message", None) or str(exc)
    return Problem(filename or s.label, lineno or 1, f"rendering failed: {type(exc).__name__}: {message}")


def _parse_rendered(s: Source, text: str, what: str) -> list[Problem]:
    try:
        ast.parse(text)
    except SyntaxError as exc:
        bad = (exc.text or "").strip()
        # The template line that produced the bad output line, when it appears there literally.
        line = next((i for i, src in enumerate(s.text.splitlines(), 1) if bad and bad in src), 1)
        return [Problem(s.label, line, f"rendered {what} is not valid Python at output line {exc.lineno}: "
                                       f"{exc.msg}: {bad!r}")]
    return []


def sample_context(name: str) -> dict:
    """The context generate.render would pass for bert on cpu, onnxruntime, openvino, every kind."""
    from pytest_ipfs_accel import __version__
    from pytest_ipfs_accel.generate.matrix import build_matrix
    from pytest_ipfs_accel.models.registry import resolve
    from pytest_ipfs_accel.settings import KINDS as TEST_KINDS, RunConfig

    cfg = RunConfig(models=(SAMPLE_MODEL,), hw=SAMPLE_PLATFORMS, kinds=TEST_KINDS)
    cells = build_matrix([resolve(SAMPLE_MODEL)], list(SAMPLE_PLATFORMS), cfg)[0]
    return {"model": cells.model, "kinds": cells.kinds, "platforms": cells.platforms, "seed": 0,
            "model_arg": SAMPLE_MODEL, "version": __version__, "template_name": name}


def _render_tests(env, s: Source) -> list[Problem]:
    try:
        text = env.get_template(s.name).render(**sample_context(s.name))
    except Exception as exc:  # noqa: BLE001 - any failure is a problem of this template
        return [_where(exc, s)]
    return _parse_rendered(s, text, f"test module (sample: {SAMPLE_MODEL} on {', '.join(SAMPLE_PLATFORMS)})")


def _render_skill(env, s: Source) -> list[Problem]:
    from pytest_ipfs_accel.hardware import families
    from pytest_ipfs_accel.models.registry import resolve
    from pytest_ipfs_accel.templatedb.scaffold import skill_context

    platforms = families()  # every registered platform: the built-ins and those installed plugins add
    try:
        text = env.get_template(s.name).render(**skill_context(resolve(SAMPLE_MODEL), platforms, s.name))
    except Exception as exc:  # noqa: BLE001
        return [_where(exc, s)]
    return _parse_rendered(s, text, f"skill module (sample: {SAMPLE_MODEL} on {', '.join(platforms)})")
