"""The command line as a new user meets it: which rules are used, argument order, the table, the
summary and the messages. In process (``cli.main``), except where noted."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import _docs
import pytest

import claimedit
from claimedit import cli
from claimedit.adapters.x12 import _Problem
from claimedit.outputs import Summary, TableWriter
from claimedit.results import ClaimError, FieldIssue

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "claims.jsonl"
OVERLAY = ROOT / "examples" / "states" / "XX.yaml"


def main(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main([str(arg) for arg in args])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.getvalue(), err.getvalue()


# --- which rules: a checkout's rules/ is used when named, and the commands say which pack -----

def _changed_pack(where: Path) -> Path:
    """A copy of the pack at where/rules/igrt whose TC-into-IMRT bundle answers CARC 234."""
    pack = where / "rules" / "igrt"
    shutil.copytree(claimedit.pack.packaged_rules_path(), pack)
    policy = pack / "edits" / "2025-policy.yaml"
    text = policy.read_text(encoding="utf-8")
    start = text.index("id: IGRT-TC-BUNDLED-INTO-IMRT")
    carc = text.index('carc: "97"', start)
    policy.write_text(text[:carc] + 'carc: "234"' + text[carc + len('carc: "97"'):],
                      encoding="utf-8")
    return pack


def _documented_pack_commands() -> list[list[str]]:
    """The README's commands for checking a changed pack (those naming rules/igrt)."""
    found = [c.text.split()[1:] for c in _docs.commands(ROOT / "README.md")
             if c.text.startswith("claimedit ") and "rules/igrt" in c.text.split()]
    assert len(found) >= 2, "the README shows how to check a changed pack"
    return found


def test_the_documented_commands_for_a_changed_pack_use_the_folder_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `pip install .` the packaged copy is the default; the README's commands name the
    checkout's folder, so a changed CARC shows, and stderr says which pack was used."""
    _changed_pack(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    packaged = claimedit.load_engine().provenance.content_hash
    outputs = {}
    for args in _documented_pack_commands():
        status, out, err = main(*args)
        assert status == 0, err
        outputs[args[0]] = out + err
        assert packaged not in out + err
    assert "CO-234" in outputs["explain"] and "CO-97" not in outputs["explain"]
    assert re.search(r"^rules: igrt \S+ sha256:[0-9a-f]{64} from rules/igrt$",
                     outputs["explain"], re.MULTILINE)
    assert outputs["rules"].startswith("ok: rules/igrt: igrt ")
    assert "CO-234" in outputs["check"]


def test_without_rules_the_default_pack_is_named_and_a_local_one_pointed_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run where a different rules/igrt sits, without --rules: the default pack is used, stderr
    says so, names its path, and tells how to use the local one."""
    _changed_pack(tmp_path)
    monkeypatch.chdir(tmp_path)
    default = claimedit.load_engine()
    status, out, err = main("explain", "G6001-TC", "--date", "2025-03-03",
                            "--payer", "commercial", "--with", "77385")
    assert status == 0 and "CO-97" in out
    assert (f"rules: igrt {default.provenance.version} {default.provenance.content_hash} from "
            f"{default.pack.root} (default)") in err
    assert "note: rules/igrt/ in this directory is not the pack in use" in err
    assert "--rules rules/igrt" in err
    status, out, err = main("rules", "check")
    assert status == 0 and "(default)" in out
    assert "claimedit rules check rules/igrt" in err


def test_no_note_where_no_other_pack_sits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = main("rules", "show", "--as-of", "2025-03-03")
    assert status == 0 and err.startswith("rules: igrt ") and "note:" not in err


def test_load_engine_logs_the_pack_it_loaded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="claimedit"):
        engine = claimedit.load_engine()
    assert f"{engine.provenance.content_hash} from {engine.pack.root}" in caplog.text


# --- explain: --with before or after the code -------------------------------------------------

@pytest.mark.parametrize("args", [
    ["G6001-TC", "--with", "77385", "--date", "2025-03-03", "--payer", "commercial"],
    ["--with", "77385", "G6001-TC", "--date", "2025-03-03", "--payer", "commercial"],
    ["G6001-TC", "--date", "2025-03-03", "--payer", "commercial", "--with", "77385"],
    ["G6001-TC", "--date", "2025-03-03", "--payer", "commercial", "--with", "77412,77385"],
    ["G6001-TC", "--date", "2025-03-03", "--payer", "commercial", "--with", "77412",
     "--with", "77385"],
])
def test_explain_reads_with_in_any_place(args: list[str]) -> None:
    status, out, err = main("explain", *args)
    assert status == 0, err
    assert out.startswith("G6001-TC on 2025-03-03, commercial, with ")
    assert "BUNDLE" in out.splitlines()[0] and "IGRT-TC-BUNDLED-INTO-IMRT" in out


def test_explain_with_two_codes_after_one_with_is_a_usage_error_not_a_guess() -> None:
    status, _, err = main("explain", "G6001-TC", "--date", "2025-03-03", "--payer", "commercial",
                          "--with", "77412", "77385")
    assert status == 2 and "unrecognized arguments: 77385" in err


# --- help shows defaults ------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "shown"), [
    (["check"], ["(default: table)", "(default: the packaged IGRT pack)",
                 "example: claimedit check examples/claims.jsonl"]),
    (["rules", "show"], ["(default: today)"]),
    (["rules", "check"], ["(default: the packaged IGRT pack)"]),
])
def test_help_shows_defaults_and_an_example(command: list[str], shown: list[str]) -> None:
    status, out, _ = main(*command, "--help")
    assert status == 0
    text = " ".join(out.split())
    for item in shown:
        assert item in text


# --- the table and the summary --------------------------------------------------------------

def _table(claims: list[dict[str, object]]) -> list[str]:
    engine = claimedit.load_engine()
    out, err = io.StringIO(), io.StringIO()
    writer = TableWriter(out, err)
    for claim in claims:
        writer.write(engine.evaluate(claim))
    writer.close()
    return out.getvalue().splitlines()


def test_a_38_character_claim_id_and_four_modifiers_keep_the_table_aligned() -> None:
    """CLM01 runs to 38 characters; four modifiers fill the modifier column."""
    long_id = "C" * 38
    rows = _table([
        {"claim_id": long_id, "payer": "commercial", "lines": [
            {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"},
            {"line_id": "2", "code": "G6001", "modifiers": ["TC", "59", "XS", "XU"],
             "date_of_service": "2025-03-03"}]},
        {"claim_id": "C2", "payer": "medicare", "lines": [
            {"line_id": "123456", "code": "77387", "date_of_service": "2025-03-03"}]},
    ])
    header, *body = [row for row in rows if row and not row.startswith("summary")]
    columns = ("claim", "line", "code", "mods", "date", "payer", "decision", "reasons")
    offsets = [header.index(column) for column in columns]
    ends = [*offsets[1:], None]
    cells = [[row[start:end].strip() for start, end in zip(offsets, ends, strict=True)]
             for row in body]
    assert cells == [
        [long_id, "1", "77385", "", "2025-03-03", "commercial", "allow", ""],
        [long_id, "2", "G6001", "TC,59,XS,XU", "2025-03-03", "commercial", "bundle",
         "CO-97 M15 IGRT-TC-BUNDLED-INTO-IMRT"],
        ["C2", "123456", "77387", "", "2025-03-03", "medicare", "deny",
         "CO-96 N56 IGRT-MEDICARE-77387"],
    ]


@pytest.mark.parametrize(("claims", "lines", "invalid", "text"), [
    (1, 1, 1, "1 claim, 1 line: 1 allow, 0 bundle, 0 deny; 1 invalid record"),
    (2, 5, 0, "2 claims, 5 lines: 5 allow, 0 bundle, 0 deny; 0 invalid records"),
])
def test_the_summary_counts_in_words(claims: int, lines: int, invalid: int, text: str) -> None:
    summary = Summary()
    engine = claimedit.load_engine()
    sizes = [1] if claims == 1 else [2, 3]
    for size in sizes:
        summary.add(engine.evaluate({"claim_id": "S", "payer": "commercial", "lines": [
            {"code": "77412", "date_of_service": "2025-03-03"}] * size}))
    for _ in range(invalid):
        summary.add(ClaimError("f.jsonl", 1, None, (FieldIssue("payer", "bad"),)))
    assert summary.lines == lines
    assert str(summary) == text


# --- messages ---------------------------------------------------------------------------------

def test_an_x12_finding_without_loop_or_segment_has_no_empty_place() -> None:
    assert _Problem(2, "", "", "", "bad envelope").place == "(segment 2)"
    assert _Problem(26, "2400[2]", "SV1", "SV101-2", "x").place == "2400[2] SV101-2 (segment 26)"
    error = _Problem(2, "", "", "", "bad envelope").as_error("f.x12")
    assert "  " not in str(error)


def test_a_fhir_document_without_resource_type_says_it_is_missing(tmp_path: Path) -> None:
    pytest.importorskip("fhir.resources")
    path = tmp_path / "claim.json"
    path.write_text(json.dumps({"id": "x", "status": "active"}), encoding="utf-8")
    status, _, err = main("check", path, "--input-format", "fhir", "--format", "jsonl")
    assert status == 1
    assert "resourceType: missing: expected a Claim or a Bundle of Claims" in err
    assert "no resourceType is not" not in err


def test_an_unquoted_payer_map_code_gets_the_loaders_advice(tmp_path: Path) -> None:
    path = tmp_path / "payers.yaml"
    path.write_text("x12_claim_filing_indicators:\n  16: commercial\n"
                    "fhir_payer_types:\n  https://nahdo.org/sopt:\n    121: medicaid\n",
                    encoding="utf-8")
    status, _, err = main("check", EXAMPLES, "--payer-map", path)
    assert status == 2
    assert 'write the code in quotes, e.g. "16"' in err
    path.write_text("fhir_payer_types:\n  https://nahdo.org/sopt:\n    121: medicaid\n",
                    encoding="utf-8")
    status, _, err = main("check", EXAMPLES, "--payer-map", path)
    assert status == 2 and 'write the code in quotes, e.g. "121"' in err
    path.write_text('x12_claim_filing_indicators:\n  "16": commercial\n', encoding="utf-8")
    assert main("check", EXAMPLES, "--payer-map", path, "--format", "jsonl")[0] == 0


# --- the overlay demo changes the output ----------------------------------------------------

def test_the_overlay_demo_changes_the_state_xx_claims_and_nothing_else() -> None:
    """The command in examples/states/XX.yaml and the README: the example claims with and
    without the overlay differ, on claims of state XX only."""
    assert "claimedit check examples/claims.jsonl --overlay examples/states/XX.yaml" \
        in OVERLAY.read_text(encoding="utf-8")
    _, plain, _ = main("check", EXAMPLES, "--format", "jsonl")
    _, overlaid, _ = main("check", EXAMPLES, "--format", "jsonl", "--overlay", OVERLAY)
    before = [json.loads(line) for line in plain.splitlines()]
    after = [json.loads(line) for line in overlaid.splitlines()]
    changed = {b["claim_id"] for b, a in zip(before, after, strict=True)
               if b["lines"] != a["lines"]}
    assert changed
    assert all(b["state"] == "XX" for b in before if b["claim_id"] in changed)


def test_a_fault_of_the_whole_file_names_no_record_zero(tmp_path: Path) -> None:
    status, _, err = main("check", tmp_path, "--format", "jsonl")
    assert status == 1
    assert f"error: {tmp_path}: cannot read: " in err and "record 0" not in err
    assert str(ClaimError("f.jsonl", 3, "C3", (FieldIssue("payer", "bad"),))) \
        == "f.jsonl: record 3 (claim C3): payer: bad"
