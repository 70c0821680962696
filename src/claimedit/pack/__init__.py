"""The rule pack: its schema, its loader and its error family."""

from claimedit.pack.errors import Problem, RulePackError
from claimedit.pack.loader import (
    RulePack,
    SourcedEdit,
    StateOverlay,
    check_composition,
    load_pack,
    load_packs,
    packaged_packs,
    packaged_rules_path,
    resolve_pack,
)

__all__ = [
    "Problem",
    "RulePack",
    "RulePackError",
    "SourcedEdit",
    "StateOverlay",
    "check_composition",
    "load_pack",
    "load_packs",
    "packaged_packs",
    "packaged_rules_path",
    "resolve_pack",
]
