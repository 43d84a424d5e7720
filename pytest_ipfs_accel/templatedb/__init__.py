"""The template database (DuckDB), template validation, and model-template scaffolding.

``store`` keeps templates by name (``tests/base.py.j2``) with kind, parent, hash and version;
``validate`` reports problems as ``file:line: message``; ``scaffold`` writes a new model template.
"""
