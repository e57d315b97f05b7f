"""The layer contract that `make lint` runs holds on the tree, and fails on a planted bad import.

The contract (``[tool.importlinter]`` in ``pyproject.toml``, docs/architecture.md) is what
keeps ``cwsw.domain`` at the bottom and the web at the top; a contract that never fails would
be worse than none, so each test plants an import that breaks it in a copy of the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``src/cwsw`` under ``root`` with the project's contract."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(PROJECT_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(root / "src")},
        timeout=300,
    )


def _copy_of_the_tree(tmp_path: Path) -> Path:
    shutil.copytree(
        PROJECT_ROOT / "src" / "cwsw",
        tmp_path / "src" / "cwsw",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"),
    )
    return tmp_path


def test_the_tree_keeps_its_layers() -> None:
    done = _lint_imports(PROJECT_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import"),
    [
        # The shared vocabulary uses no other layer.
        ("domain/upn.py", "import cwsw.warehouse.connection"),
        # A reader knows nothing of the warehouse it is loaded into (the old cycle).
        ("formats/common.py", "import cwsw.linkage.run"),
        # Linkage and cohorts are siblings: neither imports the other.
        ("cohort/groups.py", "import cwsw.linkage.deterministic"),
        # Nothing below the web knows about it.
        ("indicators/measures.py", "import cwsw.web.access"),
    ],
)
def test_a_planted_import_that_breaks_a_layer_fails(
    tmp_path: Path, module: str, bad_import: str
) -> None:
    root = _copy_of_the_tree(tmp_path)
    target = root / "src" / "cwsw" / module
    target.write_text(target.read_text() + f"\n{bad_import}  # planted\n")
    done = _lint_imports(root)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout or "broken" in done.stdout
    assert f"cwsw.{module.removesuffix('.py').replace('/', '.')}" in done.stdout
