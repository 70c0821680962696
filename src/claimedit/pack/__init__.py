"""The rule pack: its schema, its loader and its error family."""

from claimedit.pack.errors import Problem, RulePackError
from claimedit.pack.loader import (
    RulePack,
    SourcedEdit,
    StateOverlay,
    load_pack,
    packaged_rules_path,
)

__all__ = [
    "Problem",
    "RulePack",
    "RulePackError",
    "SourcedEdit",
    "StateOverlay",
    "load_pack",
    "packaged_rules_path",
]
