"""The rule-pack loader: a broken pack is one RulePackError listing every problem, each with its
file, its line and the dotted key at fault; a valid pack loads.

Every test copies the packaged pack into tmp_path and breaks it the way an analyst editing YAML
would. Expected line numbers are read from the broken file itself, never typed in.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import claimedit
from claimedit import Decision, RulePackError
from claimedit.pack import Problem, load_pack

POLICY = "edits/2025-policy.yaml"
CODE_SET = "edits/2026-code-set.yaml"


@dataclass(frozen=True)
class Expected:
    """A problem the loader must report."""

    file: str
    line: int | None
    key: str | None
    """``None``: the key is not checked (a YAML syntax-level problem has no data path)."""
    fragment: str
    """Words the message must contain."""


def _line_of(path: Path, needle: str) -> int:
    """The 1-based line of the only line of ``path`` that contains ``needle``."""
    found = [n for n, text in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in text]
    assert len(found) == 1, f"{needle!r} is on lines {found} of {path}"
    return found[0]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), "utf-8")


def _index(path: Path, section: str, field: str, value: str) -> int:
    """Position of the item of ``section`` whose ``field`` is ``value`` (for dotted keys)."""
    items = yaml.safe_load(path.read_text("utf-8"))[section]
    [index] = [i for i, item in enumerate(items) if str(item[field]) == value]
    return index


def _load_problems(pack: Path) -> tuple[Problem, ...]:
    with pytest.raises(RulePackError) as caught:
        load_pack(pack)
    return caught.value.problems


def _assert_reported(problems: tuple[Problem, ...], expected: Expected) -> None:
    listing = "\n".join(f"  {p!r}" for p in problems)
    candidates = [p for p in problems if p.file == expected.file
                  and (expected.key is None or p.key == expected.key)]
    assert candidates, f"no problem in {expected.file} at key {expected.key!r}; got:\n{listing}"
    assert any(p.line == expected.line and expected.fragment in p.message for p in candidates), (
        f"expected {expected} among:\n{listing}"
    )


# --- the breaks: each changes the pack and says what the loader must report -----------------

def unknown_key_in_an_edit(pack: Path) -> list[Expected]:
    path = pack / POLICY
    index = _index(path, "edits", "id", "IGRT-PC-CODED-WITH-GCODES")
    _replace(path, "  - id: IGRT-PC-CODED-WITH-GCODES\n",
             "  - id: IGRT-PC-CODED-WITH-GCODES\n    colour: red\n")
    return [Expected(POLICY, _line_of(path, "colour: red"), f"edits.{index}.colour",
                     "unknown key")]


def unknown_key_in_the_code_table(pack: Path) -> list[Expected]:
    path = pack / "codes.yaml"
    index = _index(path, "codes", "code", "G6002")
    _replace(path, "  - code: G6002\n", "  - code: G6002\n    pc_tc_indicator: 1\n")
    return [Expected("codes.yaml", _line_of(path, "pc_tc_indicator: 1"),
                     f"codes.{index}.pc_tc_indicator", "unknown key")]


def unknown_edit_kind(pack: Path) -> list[Expected]:
    path = pack / POLICY
    index = _index(path, "edits", "kind", "component_modifier")
    _replace(path, "kind: component_modifier\n", "kind: component_modifer\n")
    return [Expected(POLICY, _line_of(path, "kind: component_modifer"), f"edits.{index}.kind",
                     "unknown edit kind")]


def unknown_code_in_an_edit(pack: Path) -> list[Expected]:
    path = pack / CODE_SET
    index = _index(path, "edits", "id", "IGRT-CODE-NOT-EFFECTIVE")
    _replace(path, "codes: {categories: [igrt, imrt_delivery, conventional_delivery]}",
             'codes: {codes: ["77388"], categories: [igrt, imrt_delivery, conventional_delivery]}')
    return [Expected(CODE_SET, _line_of(path, '"77388"'), f"edits.{index}.codes.codes.0",
                     "unknown code 77388")]


def unknown_category_in_an_edit(pack: Path) -> list[Expected]:
    path = pack / CODE_SET
    index = _index(path, "edits", "id", "IGRT-MODIFIER-26-WITH-TC")
    _replace(path, "codes: {categories: [igrt]}", "codes: {categories: [igrt, image_guidance]}")
    return [Expected(CODE_SET, _line_of(path, "image_guidance"),
                     f"edits.{index}.codes.categories.1", "unknown category 'image_guidance'")]


_OVERLAPPING_REVISION = """\
revision:
  id: igrt-2025-zz-correction
  title: A correction that restates an edit already in force
  effective: {start: 2025-06-01, end: 2025-12-31}
  citation: {document: IGRT reimbursement policy (rev. 2025-08-04), text: 77387 for Medicare.}
edits:
  - id: IGRT-MEDICARE-77387
    kind: line
    codes: ["77387"]
    payers: [medicare]
    decision: deny
    message: "{code} is not valid for Medicare."
    group_code: CO
    carc: "96"
    rarcs: [N56]
    citation: {document: IGRT reimbursement policy (rev. 2025-08-04), text: 77387 for Medicare.}
"""


def duplicate_rule_id_with_overlapping_dates(pack: Path) -> list[Expected]:
    # Named to sort after 2025-policy.yaml: the later file is the duplicate.
    path = pack / "edits" / "2025-zz-correction.yaml"
    path.write_text(_OVERLAPPING_REVISION, "utf-8")
    return [Expected("edits/2025-zz-correction.yaml", _line_of(path, "- id: IGRT-MEDICARE-77387"),
                     "edits.0.id", "duplicate rule id IGRT-MEDICARE-77387")]


def inverted_date_range(pack: Path) -> list[Expected]:
    path = pack / "codes.yaml"
    index = _index(path, "codes", "code", "G6001")
    old = ("effective: {start: 2015-01-01, end: 2025-12-31}\n"
           "    source: HCPCS 2015 (high); MPFS 2024A PC/TC indicator 1; deleted 2026-01-01 "
           "(ASTRO 2026, moderate).\n  - code: G6002")
    text = path.read_text("utf-8")
    # G6001 is the entry before G6002: break the effective line of that entry only.
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace(
        "{start: 2015-01-01, end: 2025-12-31}", "{start: 2025-12-31, end: 2015-01-01}")), "utf-8")
    return [Expected("codes.yaml", _line_of(path, "end: 2015-01-01"), f"codes.{index}.effective",
                     "inverted date range")]


def edit_dates_outside_its_revision(pack: Path) -> list[Expected]:
    path = pack / CODE_SET
    index = _index(path, "edits", "id", "IGRT26-77387-TC-BUNDLED-INTO-DELIVERY")
    _replace(path, "    components: [technical, global]\n",
             "    components: [technical, global]\n    effective: {start: 2025-06-01}\n")
    return [Expected(CODE_SET, _line_of(path, "effective: {start: 2025-06-01}"),
                     f"edits.{index}.effective", "outside")]


def python_tag(pack: Path) -> list[Expected]:
    path = pack / "pack.yaml"
    marker = pack.parent / "python-tag-ran"
    _replace(path, "title: Image Guided Radiation Therapy",
             f'title: !!python/object/apply:os.system ["touch {marker}"]')
    return [Expected("pack.yaml", _line_of(path, "!!python/object"), None, "not plain data")]


def duplicate_yaml_key(pack: Path) -> list[Expected]:
    path = pack / "codes.yaml"
    index = _index(path, "codes", "code", "77385")
    first = _line_of(path, '- code: "77385"')
    lines = path.read_text("utf-8").splitlines(keepends=True)
    category = next(n for n in range(first, len(lines)) if "category:" in lines[n])
    lines.insert(category + 1, "    category: igrt\n")
    path.write_text("".join(lines), "utf-8")
    return [Expected("codes.yaml", category + 2, f"codes.{index}.category",
                     "duplicate key 'category'")]


BREAKS: list[Callable[[Path], list[Expected]]] = [
    unknown_key_in_an_edit,
    unknown_key_in_the_code_table,
    unknown_edit_kind,
    unknown_code_in_an_edit,
    unknown_category_in_an_edit,
    duplicate_rule_id_with_overlapping_dates,
    inverted_date_range,
    edit_dates_outside_its_revision,
    python_tag,
    duplicate_yaml_key,
]


@pytest.mark.parametrize("break_pack", BREAKS, ids=[b.__name__ for b in BREAKS])
def test_broken_pack_names_file_line_and_key(pack_copy: Path, break_pack: Callable[
        [Path], list[Expected]]) -> None:
    """One mistake in one rule file is reported at its file, its 1-based line and the dotted
    key of the offending value, so an analyst can go straight to it."""
    expected = break_pack(pack_copy)
    problems = _load_problems(pack_copy)
    for item in expected:
        _assert_reported(problems, item)


def test_every_problem_of_a_pack_is_reported_at_once(pack_copy: Path) -> None:
    """All the breaks together, in several files (two in the same edits file, as an analyst's
    afternoon of edits would leave them): one RulePackError lists every one, not the first."""
    expected = [item for break_pack in BREAKS for item in break_pack(pack_copy)]
    problems = _load_problems(pack_copy)
    missing = []
    for item in expected:
        try:
            _assert_reported(problems, item)
        except AssertionError:
            missing.append(item)
    listing = "\n".join(f"  {p}" for p in problems)
    assert not missing, (
        "not reported:\n" + "\n".join(f"  {m}" for m in missing) + f"\nreported:\n{listing}"
    )


def test_a_schema_error_in_an_edits_file_does_not_hide_its_other_problems(
    pack_copy: Path,
) -> None:
    """An unknown key on one edit and an unknown category on another edit of the same file are
    two problems; fixing the first must not be the only way to learn about the second."""
    expected = unknown_key_in_an_edit(pack_copy)
    path = pack_copy / POLICY
    _replace(path, "codes: {categories: [igrt, imrt_delivery, conventional_delivery]}",
             "codes: {categories: [igrt, imrt_delivery, conventional]}")
    expected.append(Expected(POLICY, _line_of(path, "conventional]}"),
                             "edits.0.codes.categories.2", "unknown category 'conventional'"))
    problems = _load_problems(pack_copy)
    for item in expected:
        _assert_reported(problems, item)


def test_a_broken_code_entry_does_not_make_every_edit_code_unknown(pack_copy: Path) -> None:
    """One inverted date range in codes.yaml is one problem. Reporting every category and code of
    every edit as "not in codes.yaml" as well buries the real problem under false ones."""
    [expected] = inverted_date_range(pack_copy)
    problems = _load_problems(pack_copy)
    _assert_reported(problems, expected)
    assert [p for p in problems if p.file != "codes.yaml"] == []


def test_unknown_code_in_a_shorthand_list_is_keyed_as_written(pack_copy: Path) -> None:
    """``column2: ["77387", "77388"]`` is a plain list in the file; the problem's dotted key is
    the place in the file (``edits.2.column2.1``), as for every other problem, not a path through
    a ``codes`` key the file does not have."""
    path = pack_copy / CODE_SET
    index = _index(path, "edits", "id", "IGRT26-77387-TC-BUNDLED-INTO-DELIVERY")
    _replace(path, 'codes: ["77387"]', 'codes: ["77387", "77388"]')
    problems = _load_problems(pack_copy)
    _assert_reported(problems, Expected(CODE_SET, _line_of(path, '"77388"'),
                                        f"edits.{index}.codes.1", "unknown code 77388"))


def test_python_tag_is_never_executed(pack_copy: Path) -> None:
    """Rule files are data: a ``!!python/object/apply`` tag is refused, not run."""
    python_tag(pack_copy)
    _load_problems(pack_copy)
    assert not (pack_copy.parent / "python-tag-ran").exists()


def test_missing_code_table(pack_copy: Path) -> None:
    """A pack without codes.yaml is broken; the problem names the missing file."""
    (pack_copy / "codes.yaml").unlink()
    problems = _load_problems(pack_copy)
    _assert_reported(problems, Expected("codes.yaml", None, "", "missing"))
    # ... and only that: the edits' codes are not each reported "unknown" on top of it.
    assert [p.file for p in problems] == ["codes.yaml"]


def test_broken_revision_header_does_not_add_false_duplicates(pack_copy: Path) -> None:
    """Without its revision's dates, a file's edits are not compared with other versions (they
    would all look like duplicates of the 2026 edits); the header problem is reported alone."""
    _replace(pack_copy / POLICY, "  effective: {end: 2025-12-31}\n",
             "  effective: {end: 2025-13-31}\n")
    problems = _load_problems(pack_copy)
    assert [(p.file, p.key) for p in problems] == [(POLICY, "revision.effective.end")]


def test_not_a_directory(tmp_path: Path) -> None:
    """A path that is not a pack directory is a RulePackError, not a crash."""
    with pytest.raises(RulePackError, match="not a rule pack directory"):
        load_pack(tmp_path / "nowhere")


def test_same_rule_id_with_later_dates_is_a_new_version(pack_copy: Path) -> None:
    """An edit id may come back in a later revision whose dates do not overlap: that is how an
    edit is versioned. The engine then applies each version on its own dates of service."""
    path = pack_copy / "edits" / "2027-medicare.yaml"
    path.write_text(_OVERLAPPING_REVISION
                    .replace("igrt-2025-zz-correction", "igrt-2027-medicare")
                    .replace("{start: 2025-06-01, end: 2025-12-31}", "{start: 2027-01-01}"),
                    "utf-8")
    engine = claimedit.load_engine(pack_copy)

    def medicare_77387(day: str) -> claimedit.LineResult:
        return engine.evaluate({"claim_id": "V", "payer": "medicare", "lines": [
            {"code": "77387", "modifiers": ["26"], "date_of_service": day}]}).lines[0]

    assert [r.source for r in medicare_77387("2025-06-02").reasons
            if r.rule_id == "IGRT-MEDICARE-77387"] == ["igrt-2025-08-04"]
    assert medicare_77387("2026-06-01").decision is Decision.ALLOW
    in_2027 = medicare_77387("2027-03-01")
    assert in_2027.decision is Decision.DENY
    assert [(r.rule_id, r.source) for r in in_2027.reasons] == [
        ("IGRT-MEDICARE-77387", "igrt-2027-medicare")]


def test_a_date_range_starting_on_the_first_calendar_day_compiles(pack_copy: Path) -> None:
    """The engine splits time at every start date and needs a day before the first split: a
    start of 0001-01-01 (the earliest date there is) made compiling raise OverflowError."""
    _replace(pack_copy / "codes.yaml", "effective: {start: 2015-01-01}",
             "effective: {start: 0001-01-01}")
    engine = claimedit.load_engine(pack_copy)
    line = engine.evaluate({"claim_id": "M", "payer": "medicare", "lines": [
        {"code": "77387", "date_of_service": "0001-01-01"}]}).lines[0]
    assert line.rule_ids == ("IGRT-MEDICARE-77387",)


def test_packaged_pack_loads(engine: claimedit.Engine) -> None:
    """The shipped pack is valid, and its provenance is the pack id, version and a sha256."""
    pack = engine.pack
    assert pack.meta.id == "igrt"
    assert {revision.id for revision in pack.revisions} == {"igrt-2025-08-04",
                                                            "igrt-2026-code-set"}
    assert engine.provenance == claimedit.Provenance(
        "igrt", pack.meta.version, pack.content_hash, claimedit.__version__)
    assert pack.content_hash.startswith("sha256:") and len(pack.content_hash) == 7 + 64


def test_rule_pack_error_pickles(pack_copy: Path) -> None:
    """A RulePackError crosses process boundaries (a worker pool loading packs) intact."""
    unknown_edit_kind(pack_copy)
    unknown_category_in_an_edit(pack_copy)
    with pytest.raises(claimedit.RulePackError) as caught:
        claimedit.load_engine(pack_copy)
    error = caught.value
    assert len(error.problems) >= 2
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is claimedit.RulePackError
    assert copy.pack == error.pack
    assert copy.problems == error.problems
    assert str(copy) == str(error)


def test_an_edit_with_a_schema_error_still_has_its_codes_checked(pack_copy: Path) -> None:
    """One edit with two mistakes, an unknown key and an unknown code: both are reported in the
    same run, not the second only after the first is fixed."""
    path = pack_copy / POLICY
    index = _index(path, "edits", "id", "IGRT-MEDICARE-77387")
    _replace(path, '  - id: IGRT-MEDICARE-77387\n    kind: line\n    codes: ["77387"]\n',
             '  - id: IGRT-MEDICARE-77387\n    kind: line\n    colour: red\n    codes: ["77388"]\n')
    problems = _load_problems(pack_copy)
    _assert_reported(problems, Expected(POLICY, _line_of(path, "colour: red"),
                                        f"edits.{index}.colour", "unknown key"))
    _assert_reported(problems, Expected(POLICY, _line_of(path, '["77388"]'),
                                        f"edits.{index}.codes.0", "unknown code 77388"))
    assert len(problems) == 2
