"""The examples in the docstrings of the public surface run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import claimedit

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(claimedit.__path__, "claimedit.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
