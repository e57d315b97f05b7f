"""The web app's tests again on PostgreSQL (the server on this machine, 127.0.0.1:5432).

Django settles its database once per process, so the web tests run in a child pytest with
``DATABASE_URL`` pointing at PostgreSQL and a test database of their own. This is how the
suite covers both stores in one run; it fails (never skips) if the server is not there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

SERVER = os.environ.get("CWSW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[2]


def test_web_tests_pass_on_postgresql(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": SERVER,
        "CWSW_TEST_DATABASE_NAME": f"test_cwsw_web_{os.getpid()}",
        "CWSW_HOME": str(tmp_path),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/web",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-m",
            "not browser and not postgres and not slow",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), tail
    assert "skipped" not in summary and "failed" not in summary, tail
