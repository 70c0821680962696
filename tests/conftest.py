"""Fixtures shared by the whole suite, and the Hypothesis profiles.

Profiles: ``ci`` (the default) is derandomized, so a run is reproducible from the commit alone;
``dev`` explores with fresh randomness and more examples. Choose one with
``HYPOTHESIS_PROFILE=dev pytest``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from _history import postgres_url, shared_location, store  # noqa: F401 - claim history fixtures
from hypothesis import HealthCheck, settings

import claimedit
from claimedit.pack import packaged_rules_path

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,  # a shared CI runner is not a benchmark; slowness is not a failure here
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def engine() -> claimedit.Engine:
    """The engine of the packaged IGRT pack, compiled once for the session (it is immutable)."""
    return claimedit.load_engine()


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged rule pack, to break or change one file at a time."""
    target = tmp_path / "igrt"
    shutil.copytree(packaged_rules_path(), target)
    return target
