"""New files from templates: a model test template that extends the default one, and skill modules.

``model_template`` is the seed's ``template_processor --create-template``; ``write_skill`` is the seed's
``skill_generator``: ``skills/skill_<model>.py`` (importable, one class, an ``init_<platform>`` per
platform) and ``skills/test_skill_<model>.py`` beside it, both rendered from ``templates/skills/``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

SKILL_TEMPLATE = "skills/skill.py.j2"
SKILL_TEST_TEMPLATE = "skills/test_skill.py.j2"
#: What a skill template is rendered with.
SKILL_CONTEXT = frozenset({"model", "class_name", "module_name", "platforms", "seed", "version", "template_name"})
#: init("auto") tries platforms in this order: accelerators first, the torch CPU reference last.
PREFERENCE = ("cuda", "rocm", "mps", "qualcomm", "openvino", "onnxruntime", "webgpu", "webnn", "cpu")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9_]*$")

MODEL_TEMPLATE = '''{{#- Tests template for {model_type} models: used instead of tests/model.py.j2 for every model
    whose model_type is {model_type!r}. Use it with: pytest --ipfs-templates={root} --ipfs-models={model_type}
    Override any block of tests/base.py.j2 (docstring, imports, model, tests); {{{{ super() }}}} keeps the
    default content. Check it with: ipfs-accel templates validate {path} -#}}
{{% extends "tests/model.py.j2" %}}
{{#- Example: keep the generated tests and add one of your own (remove the comment markers to use it).
{{% block tests %}}
{{{{ super() }}}}


def test_{model_type}_hidden_size():
    """The tiny {model_type} config keeps a positive hidden size."""
    assert checks.loaded(MODEL).config.hidden_size > 0
{{% endblock %}}
-#}}
'''


class ScaffoldError(Exception):
    """A file cannot be written or rendered as asked; one line."""


def _write(path: Path, text: str, force: bool) -> Path:
    """files.write_text with its problems as ScaffoldError (a hand-written file needs --force)."""
    from pytest_ipfs_accel.files import FileWriteError, write_text

    try:
        return write_text(path, text, force=force, flag="--force")
    except FileWriteError as exc:
        raise ScaffoldError(str(exc)) from None


def model_template(model_type: str, root: str | Path, force: bool = False) -> Path:
    """Write ``<root>/tests/models/<model_type>.py.j2``; refuses to overwrite unless ``force``."""
    if not _TYPE.match(model_type):
        raise ScaffoldError(f"{model_type!r} is not a model type (lower-case letters, digits and _, "
                            "e.g. bert, gpt2, wav2vec2)")
    root = Path(root)
    path = root / "tests" / "models" / f"{model_type}.py.j2"
    if os.path.lexists(path) and not force:
        raise ScaffoldError(f"{path} exists; pass --force to overwrite it")
    return _write(path, MODEL_TEMPLATE.format(model_type=model_type, root=root, path=path), force=True)


def class_name(model_name: str) -> str:
    """``bert`` -> ``BertSkill``, ``wav2vec2`` -> ``Wav2vec2Skill``, ``llava_next`` -> ``LlavaNextSkill``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", model_name) if part) + "Skill"


def skill_context(spec, platforms, template_name: str, seed: int = 0) -> dict:
    from pytest_ipfs_accel import __version__

    ordered = tuple(p for p in PREFERENCE if p in platforms) + tuple(p for p in platforms if p not in PREFERENCE)
    return {"model": spec, "class_name": class_name(spec.name), "module_name": f"skill_{spec.name}",
            "platforms": ordered, "seed": seed, "version": __version__, "template_name": template_name}


@dataclass(frozen=True)
class SkillFiles:
    module: Path
    test: Path


def write_skill(spec, platforms, out: str | Path, seed: int = 0, templates: tuple[str, ...] = (),
                force: bool = False) -> SkillFiles:
    """Render the skill module and its test into ``out``; both must parse as Python. Files there
    that pytest-ipfs-accel did not generate are kept unless ``force``."""
    from pytest_ipfs_accel.generate.environment import environment
    from pytest_ipfs_accel.generate.render import template_error

    out = Path(out)
    rendered = {}
    for template, filename in ((SKILL_TEMPLATE, f"skill_{spec.name}.py"),
                               (SKILL_TEST_TEMPLATE, f"test_skill_{spec.name}.py")):
        try:
            text = environment(tuple(templates)).get_template(template).render(
                **skill_context(spec, platforms, template, seed))
        except Exception as exc:  # noqa: BLE001 - jinja, sandbox or template database problems: one line
            raise ScaffoldError(str(template_error(exc, template))) from None
        try:
            ast.parse(text, filename=filename)
        except SyntaxError as exc:
            raise ScaffoldError(f"{template}: rendered {filename} is not valid Python at line {exc.lineno}: "
                                f"{exc.msg}") from None
        rendered[filename] = text
    from pytest_ipfs_accel.files import FileWriteError, check_target

    try:
        for filename in rendered:  # both checked before either is written
            check_target(out / filename, force, "--force")
    except FileWriteError as exc:
        raise ScaffoldError(str(exc)) from None
    return SkillFiles(*(_write(out / filename, text, force) for filename, text in rendered.items()))
