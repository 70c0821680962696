"""Edit kinds: each module turns one kind of edit into compiled checks, per code.

The table :data:`COMPILERS` maps an edit's ``kind`` (the YAML keyword) to the function that
compiles it, as python-jsonschema maps keywords to validators. Adding a kind means adding a
model in :mod:`claimedit.pack.models`, a module here, and a row in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from claimedit.edits._check import Check, CodeTable
from claimedit.edits.code_validity import compile_code_validity
from claimedit.edits.component_modifier import compile_component_modifier
from claimedit.edits.line import compile_line
from claimedit.edits.procedure_to_procedure import compile_procedure_to_procedure
from claimedit.pack import SourcedEdit

__all__ = ["COMPILERS", "Check", "CodeTable", "Compiler"]

Compiler = Callable[[SourcedEdit, CodeTable], Iterator[tuple[str, Check]]]

COMPILERS: dict[str, Compiler] = {
    "code_validity": compile_code_validity,
    "component_modifier": compile_component_modifier,
    "line": compile_line,
    "procedure_to_procedure": compile_procedure_to_procedure,
}
