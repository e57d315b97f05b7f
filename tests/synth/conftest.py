"""Synthetic LAs shared by the synth tests: generated once per session."""

from __future__ import annotations

import pytest

from cwsw.synth import SynthSummary, generate


@pytest.fixture(scope="session")
def clean_la(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(tmp_path_factory.mktemp("clean"), seed=7, pupils=3000, faults="none")


@pytest.fixture(scope="session")
def faulty_la(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(tmp_path_factory.mktemp("faulty"), seed=11, pupils=8000, faults="default")


@pytest.fixture(scope="session")
def large_la(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(tmp_path_factory.mktemp("large"), seed=2025, pupils=100_000, faults="none")
