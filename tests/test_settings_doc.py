"""Every environment variable is declared once (cwsw.settings.SETTINGS) and documented from it.

``docs/settings.md`` is generated from the registry by ``tools/settings_doc.py``; these tests
fail when the page is out of date, and when code reads a variable the registry does not
declare (found in the source by its syntax, not by importing it).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from cwsw import settings as cwsw_settings
from cwsw.settings import BY_NAME, RUNTIME, SETTINGS, Settings

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SETTINGS_MODULE = SRC / "cwsw" / "settings.py"
# cwsw.settings reads every variable through these, with the name as the first argument.
READ_HELPERS = {"_raw", "_text", "_int", "_optional_int", "_float", "_flag", "_choice"}
ENV_NAME = re.compile(r"^(CWSW_[A-Z0-9_]+|DATABASE_URL)$")


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "settings_doc", ROOT / "tools" / "settings_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_environ(node: ast.expr) -> bool:
    """``os.environ`` or a bare ``environ``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name)
    return isinstance(node, ast.Name) and node.id == "environ"


def env_reads(path: Path) -> list[tuple[int, str | None]]:
    """(line, variable) of each read of an environment variable in ``path``: ``os.environ.get``,
    ``os.environ[...]`` (not as an assignment target), ``os.getenv``, ``... in os.environ``,
    and, in ``cwsw.settings`` itself, its read helpers. A name held in a module-level constant
    is resolved; a name that cannot be is ``None``."""
    helpers = READ_HELPERS if path == SETTINGS_MODULE else set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }

    def name_of(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    reads: list[tuple[int, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            is_read = (
                (isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value))
                or (isinstance(func, ast.Attribute) and func.attr == "getenv")
                or (isinstance(func, ast.Name) and func.id in {"getenv", *helpers})
            )
            if is_read:
                reads.append((node.lineno, name_of(node.args[0])))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _is_environ(node.value):
                reads.append((node.lineno, name_of(node.slice)))
        elif isinstance(node, ast.Compare):
            tests_membership = any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
            if tests_membership and any(_is_environ(c) for c in node.comparators):
                reads.append((node.lineno, name_of(node.left)))
    return reads


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def test_docs_settings_md_is_up_to_date_with_the_registry() -> None:
    tool = _tool()
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert tool.updated(text) == text, "docs/settings.md is out of date: run tools/settings_doc.py"


def test_the_generated_table_names_every_setting_once() -> None:
    table = _tool().render()
    for setting in SETTINGS:
        assert table.count(f"| `{setting.name}` |") == 1, setting.name


def test_every_environment_variable_read_under_src_is_declared() -> None:
    undeclared = []
    for path in _python_files(SRC):
        for line, name in env_reads(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if name is None:
                # The one read by a computed name: cwsw.settings._raw, which checks the registry.
                if path != SETTINGS_MODULE:
                    undeclared.append(f"{where} reads a variable whose name is not a literal")
            elif name not in BY_NAME or BY_NAME[name].scope != RUNTIME:
                undeclared.append(f"{where} reads {name}")
    assert not undeclared, "declare these in cwsw.settings.SETTINGS:\n" + "\n".join(undeclared)


def test_every_cwsw_variable_named_under_src_is_declared() -> None:
    """A name written as a string anywhere (``WALK_VARIABLE = "CWSW_CIN_WALK"``) is declared."""
    named = set()
    for path in _python_files(SRC):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and ENV_NAME.match(node.value)
        }
    assert named, "the scan found no variable at all"
    assert named <= set(BY_NAME), sorted(named - set(BY_NAME))


def test_variables_the_tests_and_benchmarks_read_are_declared() -> None:
    undeclared = []
    for folder in (ROOT / "tests", ROOT / "benchmarks"):
        for path in _python_files(folder):
            for line, name in env_reads(path):
                if name is not None and ENV_NAME.match(name) and name not in BY_NAME:
                    undeclared.append(f"{path.relative_to(ROOT)}:{line} reads {name}")
    assert not undeclared, "\n".join(undeclared)


def test_every_runtime_setting_is_read_by_settings_from_env_into_its_field() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)), "a variable is declared twice"
    read = {name for _, name in env_reads(SETTINGS_MODULE) if name is not None}
    fields = {f.name for f in dataclasses.fields(Settings)}
    runtime = [s for s in SETTINGS if s.scope == RUNTIME]
    assert {s.name for s in runtime} <= read, "declared but never read by Settings.from_env"
    assert {s.field for s in runtime} == fields, "each field carries exactly one variable"
    assert all(s.field is None for s in SETTINGS if s.scope != RUNTIME)


def test_an_undeclared_variable_cannot_be_read() -> None:
    with pytest.raises(KeyError, match="not declared"):
        cwsw_settings._raw("CWSW_NOT_A_SETTING")


def test_unset_variables_give_the_fields_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    read = Settings.from_env()
    for field in dataclasses.fields(Settings):
        if field.default is dataclasses.MISSING or isinstance(field.default, Path):
            continue  # no default, or a path under <home> (resolved against CWSW_HOME)
        assert getattr(read, field.name) == field.default, field.name
    assert read.govuk_frontend_dir == cwsw_settings.DEFAULT_GOVUK_FRONTEND_DIR
    assert read.warehouse_path == read.home / "warehouse.duckdb"


def test_a_bad_number_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSW_INGEST_WORKERS", "two")
    with pytest.raises(ValueError, match="CWSW_INGEST_WORKERS must be a whole number"):
        Settings.from_env()
