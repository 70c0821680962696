"""Edit kinds: one module per kind, registered in :data:`KINDS`.

Each module holds the kind's model (its YAML shape), its compile step, its predicate and the
facts of a line the predicate reads (see :mod:`claimedit.edits._check`), as yamllint keeps a rule
in one module and python-jsonschema maps keywords to functions in one table. The engine and the
loader know kinds only through this table. Adding a kind: ``docs/architecture.md``, "Add an edit
kind".

Example:
    >>> from claimedit.edits import KINDS
    >>> sorted(KINDS["procedure_to_procedure"].reads)
    [<Fact.COMPONENTS: 'components'>, <Fact.DAY_CODES: 'day_codes'>, <Fact.MODIFIERS: 'modifiers'>]
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from claimedit.edits import code_validity, component_modifier, line, procedure_to_procedure
from claimedit.edits._check import (
    Check,
    CodeTable,
    Compile,
    Fact,
    Facts,
    Kind,
    components_billed,
)
from claimedit.edits.code_validity import CodeValidityEdit
from claimedit.edits.component_modifier import ComponentModifierEdit
from claimedit.edits.line import LineEdit
from claimedit.edits.procedure_to_procedure import ProcedureToProcedureEdit

__all__ = [
    "CODE_SET_KEYS",
    "COMPILERS",
    "KINDS",
    "Check",
    "CodeTable",
    "CodeValidityEdit",
    "Compile",
    "ComponentModifierEdit",
    "Edit",
    "Fact",
    "Facts",
    "Kind",
    "LineEdit",
    "ProcedureToProcedureEdit",
    "components_billed",
]

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        code_validity.KIND,
        component_modifier.KIND,
        line.KIND,
        procedure_to_procedure.KIND,
    )
}
"""The YAML ``kind`` keyword -> the kind. The one table the engine and the loader read."""

# The union pydantic validates an edit against, discriminated on ``kind``. Written out (mypy
# needs a static type); a test checks it lists exactly the models of KINDS.
Edit = Annotated[
    CodeValidityEdit | ComponentModifierEdit | LineEdit | ProcedureToProcedureEdit,
    Field(discriminator="kind"),
]

COMPILERS: dict[str, Compile] = {name: kind.compile for name, kind in KINDS.items()}
"""The YAML ``kind`` keyword -> its compile step (derived from :data:`KINDS`)."""

CODE_SET_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(key for kind in KINDS.values() for key in kind.code_sets)
)
"""Every key that is a code set in some kind: what the loader checks when an edit's own kind
cannot be read."""
