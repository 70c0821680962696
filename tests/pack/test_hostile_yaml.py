"""Hostile rule files: every one is a problem at its file and line, in bounded time and memory.

Rule files and overlays come from payers and vendors; a broken or malicious one must fail the
load with ``RulePackError`` (exit 2 at the command line), never crash or hang the loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimedit.pack import RulePackError, load_pack
from claimedit.pack.yaml_source import MAX_YAML_DEPTH, load_yaml


def _nested_aliases(levels: int) -> str:
    names = "abcdefghijklmnop"
    text = [f"{names[0]}: &{names[0]} [x, x, x, x, x, x, x, x, x]"]
    for depth in range(1, levels):
        text.append(f"{names[depth]}: &{names[depth]} ["
                    + ", ".join([f"*{names[depth - 1]}"] * 9) + "]")
    return "\n".join(text) + "\n"


@pytest.mark.parametrize(("text", "line", "kind", "fragment"), [
    (_nested_aliases(12), 2, "yaml_alias", "aliases are not allowed"),
    ("a: &a [*a]\n", 1, "yaml_alias", "alias *a"),
    ("a: &a {b: *a}\n", 1, "yaml_alias", "alias *a"),
    ("a: *nowhere\n", 1, "yaml_alias", "alias *nowhere"),
    ("a: 1\nb: !!int abc\n", 2, "yaml_not_plain_data", "cannot be read as int"),
    ("a:\n  b: !!timestamp abc\n", 2, "yaml_not_plain_data", "cannot be read as timestamp"),
    ("a: !!bool maybe\n", 1, "yaml_not_plain_data", "cannot be read as bool"),
    ("a: !!float x\n", 1, "yaml_not_plain_data", "cannot be read as float"),
    ("a: " + "9" * 5000 + "\n", 1, "yaml_not_plain_data", "cannot be read as int"),
    ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, "yaml_invalid", "nest"),
    ("".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
     MAX_YAML_DEPTH + 1, "yaml_invalid", f"deeper than {MAX_YAML_DEPTH}"),
    ("a: !!python/object/apply:os.system ['true']\n", 1, "yaml_not_plain_data",
     "could not determine a constructor"),
    ("a: 1\na: 2\n", 2, "duplicate_key", "duplicate key 'a'"),
])
def test_a_hostile_rule_file_is_a_problem_at_its_line(
    tmp_path: Path, text: str, line: int, kind: str, fragment: str
) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text(text)
    _, _, problems = load_yaml(path, "codes.yaml")
    assert problems, text[:80]
    first = problems[0]
    assert (first.line, first.type) == (line, kind), problems
    assert fragment in first.message
    assert len(str(first)) < 400


def test_aliases_are_never_expanded(tmp_path: Path) -> None:
    """Sixteen levels of nine-fold aliases would be 9^16 items if anything followed them."""
    path = tmp_path / "codes.yaml"
    path.write_text(_nested_aliases(16))
    data, _, problems = load_yaml(path, "codes.yaml")
    assert len(problems) == 15  # one a line, the line of each alias
    assert data["p"] == [None] * 9


def test_an_overlay_of_nested_aliases_fails_the_load_with_its_file_and_line(
    pack_copy: Path, tmp_path: Path
) -> None:
    overlay = tmp_path / "XX.yaml"
    overlay.write_text(_nested_aliases(9))
    with pytest.raises(RulePackError) as caught:
        load_pack(pack_copy, [overlay])
    places = {(p.file, p.line) for p in caught.value.problems if p.type == "yaml_alias"}
    assert (str(overlay), 2) in places and (str(overlay), 9) in places


def test_a_long_key_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text(f"{'k' * 500}: 1\n{'k' * 500}: 2\n")  # YAML keys stop at 1024
    _, _, problems = load_yaml(path, "codes.yaml")
    assert [p.type for p in problems] == ["duplicate_key"]
    assert "a text of 500 characters" in problems[0].message
    assert len(str(problems[0])) < 400


def test_a_large_code_table_loads_and_its_duplicates_are_still_found(pack_copy: Path) -> None:
    """The duplicate check compares entries of one code only: linear in the table. (The timing
    of a 40,000-code table is a benchmark figure in docs/reliability.md, not a test.)"""
    codes = pack_copy / "codes.yaml"
    extra = "".join(
        f'  - code: "{10000 + n:05d}"\n    label: synthetic {n}\n    category: synthetic\n'
        f"    modifier_26: false\n    modifier_tc: false\n    effective: {{start: 2015-01-01}}\n"
        "    source: load test\n"
        for n in [*range(3000), 7]  # code 10007 twice, for overlapping dates
    )
    codes.write_text(codes.read_text().rstrip("\n") + "\n" + extra)
    with pytest.raises(RulePackError) as caught:
        load_pack(pack_copy)
    assert [(p.type, p.message.split(" (")[0]) for p in caught.value.problems] == [
        ("duplicate_code", "code 10007 is listed twice for overlapping dates")]
