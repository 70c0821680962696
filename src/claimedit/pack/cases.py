"""The models of a pack's case files (``<pack>/tests/*.yaml``): named claims and what each line
under test must come out as.

They are data of the pack, next to its rule files, so they live here with the other file
models; :mod:`claimedit.policy_tests` loads and runs them, and ``rules/schema/tests.schema.json``
(generated from :class:`CaseFile`) lets an editor complete keys and flag mistakes as an analyst
types. Strict like the rule files: an unknown key is an error, not a check quietly skipped.

Example:
    >>> CaseFile.model_validate({"cases": [{"name": "a", "payer": "medicare",
    ...     "date": "2025-06-02", "lines": [{"code": "77387",
    ...     "expect": {"decision": "deny"}}]}]}).cases[0].lines[0].expect.decision
    <Decision.DENY: 'deny'>
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from claimedit.results import Decision

__all__ = ["CaseFile", "CaseLine", "Expect", "PolicyCaseModel", "Remit"]


def _text(value: Any) -> Any:
    # YAML reads 77385, 26 and 97 as numbers: a case file is written by people, so take them as
    # the text they are (the codes and modifiers are then checked by the claim model).
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_Text = Annotated[str, BeforeValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Model):
    """What a line under test must come out as."""

    decision: Decision = Field(description="The line's decision: allow, bundle or deny.")
    fires: bool | None = Field(
        default=None, description="Does the file's edit (its `rule:`) fire on this line? "
                                  "Required in an edit's file, refused elsewhere.")
    rule_ids: list[str] | None = Field(
        default=None, description="Every edit that fires on the line, in any order; [] for none.")
    source: str | None = Field(
        default=None, description="The revision (or state:<ST>) every reason of the line comes "
                                  "from, e.g. igrt-2025-08-04.")


class CaseLine(_Model):
    """A claim line: context when it has no `expect`, a line under test when it has one."""

    code: _Text = Field(description='CPT/HCPCS code; quote all-digit codes: "77385".')
    modifiers: list[_Text] = Field(default_factory=list, description='E.g. ["26"] or [TC].')
    units: int | None = Field(default=None, description="Units of service (default 1).")
    date: dt.date | None = Field(
        default=None, description="Date of service of this line (default: the case's date).")
    expect: Expect | None = Field(default=None, description="What the line must come out as.")


class PolicyCaseModel(_Model):
    """One named case: a claim and the lines under test."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$",
                      description="Unique in the file; the test id is <file>_<name>.")
    note: str | None = Field(default=None,
                             description="The policy sentence or fact the case rests on.")
    payer: str = Field(description="medicare, medicaid or commercial.")
    claim_type: str | None = Field(default=None,
                                   description="professional (default) or institutional.")
    state: str | None = Field(default=None, description="Two-letter state (state overlays).")
    date: dt.date | None = Field(default=None,
                                 description="Date of service of every line without its own.")
    lines: list[CaseLine] = Field(min_length=1, description="The claim's lines, in order.")


class Remit(_Model):
    """The remittance codes the file's edit must carry wherever it fires."""

    group_code: str = Field(description="CO, PR, OA or PI.")
    carc: _Text = Field(description='Claim adjustment reason code, e.g. "97".')
    rarcs: list[_Text] = Field(description="Remark codes, e.g. [M15].")


class CaseFile(_Model):
    """A case file: ``tests/<RULE-ID>.yaml`` (cases of one edit), ``acceptance.yaml`` or
    ``allow.yaml``."""

    rule: str | None = Field(default=None,
                             description="The edit the file is about; equal to the file name.")
    remit: Remit | None = Field(default=None,
                                description="Checked on every line where the edit fires.")
    cases: list[PolicyCaseModel] = Field(min_length=1, description="At least one case.")
