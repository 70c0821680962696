"""Load the table-driven policy cases under ``tests/cases/`` (one YAML file per edit).

A case file is data a payer analyst can read next to the policy, in the manner of sqlfluff's
``std_rule_cases``::

    rule: IGRT-TC-BUNDLED-INTO-IMRT          # the edit the file is about (omit for
                                             # acceptance.yaml and allow.yaml)
    remit: {group_code: CO, carc: "97", rarcs: [M15]}   # optional: checked whenever it fires
    cases:
      - name: g6001_tc_with_imrt_same_day    # test id: IGRT-TC-BUNDLED-INTO-IMRT_g6001_tc_...
        note: the policy sentence or fact the case rests on (optional)
        payer: commercial
        state: OH                            # optional
        date: 2025-03-03                     # date of service of every line unless it says so
        lines:
          - {code: "77385"}
          - {code: G6001, modifiers: [TC], expect: {decision: bundle, fires: true}}

Lines without ``expect`` are the claim around the line(s) under test. ``expect`` holds
``decision`` (required), ``fires`` (required in a rule file: does *that* edit fire on the line),
``rule_ids`` (optional: every edit that fires, order aside) and ``source`` (optional: the rule-pack
revision every reason of the line comes from).

Keys are checked strictly, so a misspelt ``fire:`` fails collection instead of being ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"

_FILE_KEYS = {"rule", "remit", "cases"}
_CASE_KEYS = {"name", "note", "payer", "state", "date", "lines"}
_LINE_KEYS = {"code", "modifiers", "date", "expect"}
_EXPECT_KEYS = {"decision", "fires", "rule_ids", "source"}
_REMIT_KEYS = {"group_code", "carc", "rarcs"}


@dataclass(frozen=True)
class Expectation:
    """What a line under test must come out as."""

    position: int
    """0-based position of the line in the claim."""
    decision: str
    fires: bool | None
    rule_ids: tuple[str, ...] | None
    source: str | None


@dataclass(frozen=True)
class PolicyCase:
    """One named case: a claim, the edit the file is about, and the expected line results."""

    file: str
    """Stem of the case file: a rule id, ``acceptance`` or ``allow``."""
    rule: str | None
    remit: dict[str, Any] | None
    name: str
    note: str | None
    claim: dict[str, Any]
    expectations: tuple[Expectation, ...]

    @property
    def id(self) -> str:
        return f"{self.file}_{self.name}"


def _check_keys(where: str, data: Any, allowed: set[str], required: set[str]) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {data!r}")
    unknown = set(data) - allowed
    missing = required - set(data)
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _load_file(path: Path) -> list[PolicyCase]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _check_keys(path.name, data, _FILE_KEYS, {"cases"})
    rule = data.get("rule")
    if rule is not None and rule != path.stem:
        raise ValueError(f"{path.name}: rule {rule!r} does not match the file name")
    remit = data.get("remit")
    if remit is not None:
        _check_keys(f"{path.name}: remit", remit, _REMIT_KEYS, _REMIT_KEYS)
    cases = []
    names: set[str] = set()
    for number, case in enumerate(data["cases"], start=1):
        where = f"{path.name}: case {number}"
        _check_keys(where, case, _CASE_KEYS, {"name", "payer", "lines"})
        name = case["name"]
        if name in names:
            raise ValueError(f"{where}: duplicate case name {name!r}")
        names.add(name)
        lines = []
        expectations = []
        for position, line in enumerate(case["lines"]):
            line_where = f"{where} ({name}), line {position + 1}"
            _check_keys(line_where, line, _LINE_KEYS, {"code"})
            day = line.get("date", case.get("date"))
            if day is None:
                raise ValueError(f"{line_where}: no date of service (set date on the case)")
            lines.append({
                "line_id": str(position + 1),
                "code": str(line["code"]),
                "modifiers": [str(item) for item in line.get("modifiers", [])],
                "date_of_service": _iso(day),
            })
            expect = line.get("expect")
            if expect is None:
                continue
            required = {"decision", "fires"} if rule is not None else {"decision"}
            _check_keys(f"{line_where}: expect", expect, _EXPECT_KEYS, required)
            if rule is None and "fires" in expect:
                raise ValueError(f"{line_where}: 'fires' needs a rule at the top of the file")
            rule_ids = expect.get("rule_ids")
            expectations.append(Expectation(
                position=position,
                decision=expect["decision"],
                fires=expect.get("fires"),
                rule_ids=None if rule_ids is None else tuple(rule_ids),
                source=expect.get("source"),
            ))
        if not expectations:
            raise ValueError(f"{where} ({name}): no line has an expect")
        claim = {"claim_id": f"{path.stem}:{name}", "payer": case["payer"], "lines": lines}
        if case.get("state") is not None:
            claim["state"] = case["state"]
        cases.append(PolicyCase(
            file=path.stem, rule=rule, remit=remit, name=name, note=case.get("note"),
            claim=claim, expectations=tuple(expectations),
        ))
    return cases


def case_files(directory: Path = CASES_DIR) -> list[Path]:
    """Every case file, in name order."""
    return sorted(directory.glob("*.yaml"))


def load_cases(directory: Path = CASES_DIR) -> list[PolicyCase]:
    """Every case of every file, in file then case order."""
    return [case for path in case_files(directory) for case in _load_file(path)]
