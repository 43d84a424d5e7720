"""Reports rendered from the results store: HTML (one offline file), Markdown, and the terminal table.

``data.load(db)`` reads the facts; ``html.render``/``markdown.render`` turn them into text;
``write(data, path)`` picks the format by suffix.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def format_for(path: Path | str, default: str | None = None) -> str:
    """``html`` or ``md`` from the file suffix; ValueError naming the path when it is neither."""
    found = FORMATS.get(Path(path).suffix.lower(), default)
    if found is None:
        raise ValueError(f"{path}: cannot tell the report format from the suffix (use .html or .md)")
    return found


def render(data, fmt: str) -> str:
    if fmt == "html":
        from pytest_ipfs_accel.report.html import render as render_html

        return render_html(data)
    if fmt == "md":
        from pytest_ipfs_accel.report.markdown import render as render_md

        return render_md(data)
    raise ValueError(f"unknown report format {fmt!r} (html or md)")


def write(data, path: Path | str, fmt: str | None = None, *, force: bool = False, flag: str = "--force") -> Path:
    """Render ``data`` to ``path`` (format from ``fmt`` or the suffix) through :func:`files.write_text`:
    the folder is created, a report we wrote is replaced, a file a person wrote only with ``force``
    (``flag`` names how to ask); problems raise :class:`files.FileWriteError`."""
    from pytest_ipfs_accel.files import write_text

    path = Path(path)
    return write_text(path, render(data, fmt or format_for(path)), force=force, flag=flag)
