"""Shared public test material: ``<project root>/../shared/fixtures``."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures").resolve()


@pytest.fixture(scope="session")
def fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES
