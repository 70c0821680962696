"""``claimedit diff``: the same claims under two rule packs.

The acceptance change (the TC-into-IMRT bundle switched off for commercial claims) is checked
against a count made here from the claims themselves and the code table, not from the engine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import claimedit
from claimedit.cli import main
from claimedit.impact import ImpactReport, diff_claims, load_rules

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "claims.jsonl"
TC_RULE = "IGRT-TC-BUNDLED-INTO-IMRT"
_ANCHOR = "    components: [technical, global]\n    modifier_indicator: 0\n"


def _switch_off_for_commercial(pack: Path) -> Path:
    policy = pack / "edits" / "2025-policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count(_ANCHOR) == 1
    policy.write_text(text.replace(_ANCHOR, _ANCHOR.replace(
        "    modifier_indicator", "    payers: [medicare, medicaid]\n    modifier_indicator")),
        encoding="utf-8")
    return pack


def _diff_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["diff", *args, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def _commercial_tc_lines_with_imrt(pack: Path) -> list[tuple[str, str]]:
    """Commercial IGRT technical / global lines billed the same day as an IMRT delivery, in the
    2025 policy's years, read from the claims and the code table alone."""
    codes = yaml.safe_load((pack / "codes.yaml").read_text(encoding="utf-8"))["codes"]
    imrt = {entry["code"] for entry in codes if entry.get("category") == "imrt_delivery"}
    guidance = {"77014", "G6001", "G6002", "77387"}
    found = []
    for row in EXAMPLES.read_text(encoding="utf-8").splitlines():
        claim = json.loads(row)
        if claim["payer"].lower() != "commercial":
            continue
        for line in claim["lines"]:
            modifiers = set(line.get("modifiers", []))
            day = line["date_of_service"]
            same_day = {other["code"] for other in claim["lines"]
                        if other is not line and other["date_of_service"] == day}
            if (line["code"] in guidance and ("TC" in modifiers or "26" not in modifiers)
                    and line["date_of_service"] <= "2025-12-31" and same_day & imrt):
                found.append((claim["claim_id"], line["line_id"]))
    return found


def test_acceptance_commercial_tc_into_imrt_switched_off(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _commercial_tc_lines_with_imrt(pack_copy)
    assert expected, "the examples must bill commercial IGRT TC lines with IMRT"
    new = _switch_off_for_commercial(pack_copy)

    status, report = _diff_json(capsys, "--old", "igrt", "--new", str(new), str(EXAMPLES))

    assert status == 0
    assert report["changed_lines"] == len(expected)
    assert report["lines"] == sum(len(json.loads(row)["lines"])
                                  for row in EXAMPLES.read_text(encoding="utf-8").splitlines())
    [group] = report["groups"]
    assert (group["from"], group["to"]) == ("bundle", "allow")
    assert group["rules_removed"] == [TC_RULE] and group["rules_added"] == []
    assert group["lines"] == len(expected)
    assert group["charge"] is None  # the examples carry no charge
    assert group["payers"] == {"commercial": len(expected)}
    assert sorted((e["claim_id"], e["line_id"]) for e in group["examples"]) == sorted(expected)
    assert report["old"]["content_hash"] != report["new"]["content_hash"]
    assert report["old"]["pack"] == report["new"]["pack"] == "igrt"
    assert report["matrix"]["bundle"]["allow"] == len(expected)


def test_a_pack_against_itself_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _diff_json(capsys, "--old", "igrt", "--new", "igrt", str(EXAMPLES))
    assert status == 0
    assert report["changed_lines"] == 0
    assert report["groups"] == [] and report["reasons_changed"] == []
    assert report["lines"] == sum(report["matrix"][d][d] for d in ("allow", "bundle", "deny"))
    assert report["old"] == report["new"]


def test_json_shape_is_the_pinned_one(capsys: pytest.CaptureFixture[str], pack_copy: Path) -> None:
    new = _switch_off_for_commercial(pack_copy)
    _, report = _diff_json(capsys, "--old", "igrt", "--new", str(new), str(EXAMPLES))
    assert list(report)[:5] == ["changed_lines", "lines", "groups", "old", "new"]
    group = report["groups"][0]
    pinned = {"from", "to", "rules_added", "rules_removed", "lines", "charge", "examples"}
    assert pinned <= set(group)
    assert set(group["examples"][0]) == {"claim_id", "line_id"}
    assert set(report["old"]) == {"pack", "version", "content_hash", "library"}


def _claim(claim_id: str, payer: str, charge: str | None, day: str = "2025-03-03",
           modifiers: tuple[str, ...] = ("TC",)) -> dict[str, Any]:
    guidance: dict[str, Any] = {"line_id": "2", "code": "G6001", "modifiers": list(modifiers),
                                "date_of_service": day}
    if charge is not None:
        guidance["charge"] = charge
    return {"claim_id": claim_id, "payer": payer, "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": day, "charge": "500.00"},
        guidance]}


def test_charges_payer_types_months_and_examples(pack_copy: Path) -> None:
    old = claimedit.load_engine()
    new = load_rules([str(_switch_off_for_commercial(pack_copy))])
    claims = [_claim(f"C{n}", "commercial", "100.10", day=f"2025-0{1 + n % 3}-06")
              for n in range(8)]
    claims += [_claim("NOCHARGE", "commercial", None), _claim("M1", "medicare", "70.00")]
    report = diff_claims(old, new, claims)

    assert report.changed_lines == 9 and report.lines == 20 and report.claims == 10
    [group] = report.groups
    assert group.charge == Decimal("800.80") and group.charged == 8
    data = group.to_dict()
    assert data["charge"] == "800.80" and data["charge_unknown_lines"] == 1
    assert data["payers"] == {"commercial": 9}
    assert data["months"] == {"2025-01": 3, "2025-02": 3, "2025-03": 3}
    assert len(data["examples"]) == 5
    assert report.payable.lines == 9 and report.unpayable.lines == 0
    assert report.by_rule[(TC_RULE, "removed")].charge == Decimal("800.80")


def test_same_decision_other_reasons_is_counted_apart(pack_copy: Path) -> None:
    """A line denied by two edits stays denied when one of them is switched off: its payment is
    the same, its remittance is not, so it is reported apart from the decision changes."""
    new = load_rules([str(_switch_off_for_commercial(pack_copy))])
    # G6001 with 26 and TC: denied (both components on one line) and bundled (TC with IMRT).
    claim = _claim("BOTH", "commercial", "10.00", modifiers=("26", "TC"))
    report = diff_claims(claimedit.load_engine(), new, [claim])
    assert report.changed_lines == 0
    [group] = report.recoded_groups
    assert (group.old.value, group.new.value, group.rules_removed) == ("deny", "deny", (TC_RULE,))
    assert report.to_dict()["reasons_changed_lines"] == 1


def test_memory_stays_flat(pack_copy: Path) -> None:
    """Aggregates only: however many claims, the groups and their examples stay bounded."""
    report = ImpactReport(claimedit.load_engine(),
                          load_rules([str(_switch_off_for_commercial(pack_copy))]), examples=3)
    for number in range(3000):
        report.add(_claim(f"C{number}", "commercial", "1.00", day=f"2025-0{1 + number % 9}-02"))
    assert report.changed_lines == 3000
    assert len(report.groups) == 1 and len(report.groups[0].examples) == 3
    assert len(report.by_month) == 9


def test_html_report_is_self_contained(
    pack_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _switch_off_for_commercial(pack_copy)
    page = tmp_path / "report.html"
    claims = tmp_path / "claims.jsonl"
    claims.write_text("\n".join(json.dumps(_claim(f"C{n}", "commercial", "12.50"))
                                for n in range(3)) + "\n", encoding="utf-8")
    assert main(["diff", "--old", "igrt", "--new", str(new), str(claims),
                 "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # the flip matrix: a header row and one row per old decision, 3 lines bundle -> allow
    assert '<table class="matrix">' in html
    assert re.search(r"<tr><th>bundle</th><td class=\"flip\">3<br>", html)
    # bar charts of lines and money by rule, payer type and month, as inline SVG
    for title in ("Lines by rule", "Billed charge by rule", "Lines by payer type",
                  "Billed charge by payer type", "Lines by month of service",
                  "Billed charge by month of service"):
        assert f"<h3>{title}</h3><svg" in html
    assert "37.50" in html and "C0&nbsp;/&nbsp;2" in html
    # nothing online, nothing executable
    for reference in ("http:", "https:", "//", "<script", "src=", "href=", "url(", "@import"):
        assert reference not in html, reference
    assert "summary" not in capsys.readouterr().err


def test_html_names_are_escaped(tmp_path: Path) -> None:
    from claimedit.impact_html import write_html

    engine = claimedit.load_engine()
    report = diff_claims(engine, engine, [_claim("<b>x</b>", "commercial", None)])
    page = tmp_path / "r.html"
    with open(page, "w", encoding="utf-8") as out:
        write_html(report, out)
    assert "<b>x" not in page.read_text(encoding="utf-8")


def test_invalid_records_are_counted_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(_claim("OK", "medicaid", None)) + "\n{not json\n",
                      encoding="utf-8")
    status, report = _diff_json(capsys, "--old", "igrt", "--new", "igrt", str(claims))
    assert status == 1
    assert report["invalid_records"] == 1 and report["claims"] == 1


def test_table_output_and_broken_rules(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _switch_off_for_commercial(pack_copy)
    assert main(["diff", "--old", "igrt", "--new", str(new), str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "bundle -> allow: " in out and f"-{TC_RULE}" in out
    assert "payer types: commercial" in out and "e.g. EX-" in out
    (pack_copy / "codes.yaml").write_text("codes: [\n", encoding="utf-8")
    assert main(["diff", "--old", "igrt", "--new", str(new), str(EXAMPLES)]) == 2
    assert "codes.yaml" in capsys.readouterr().err
    assert main(["diff", "--old", "igrt", "--old", "igrt", "--new", "igrt", str(EXAMPLES)]) == 2
    assert "name one rule pack" in capsys.readouterr().err


def test_overlays_ride_along_with_the_pack(capsys: pytest.CaptureFixture[str]) -> None:
    overlay = ROOT / "examples" / "states" / "XX.yaml"
    status, report = _diff_json(capsys, "--old", "igrt", "--new", "igrt", "--new", str(overlay),
                                str(EXAMPLES))
    assert status == 0
    assert report["old"]["content_hash"] != report["new"]["content_hash"]


def test_command_line(pack_copy: Path) -> None:
    """One real process: exit status and JSON on stdout."""
    new = _switch_off_for_commercial(pack_copy)
    run = subprocess.run([sys.executable, "-m", "claimedit", "diff", "--old", "igrt", "--new",
                          str(new), str(EXAMPLES), "--format", "json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["groups"][0]["rules_removed"] == [TC_RULE]
