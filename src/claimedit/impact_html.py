"""The impact report as one self-contained HTML page: the flip matrix, bar charts of lines and
billed charge by rule, payer type and month, and the groups with example ids.

Everything is inline (CSS and SVG, no script, no font, no image, no link), so the page opens
offline, from a mail attachment or a ticket, exactly as it was written.

Example:
    >>> import io, claimedit
    >>> from claimedit.impact import ImpactReport
    >>> engine = claimedit.load_engine()
    >>> page = io.StringIO()
    >>> write_html(ImpactReport(engine, engine), page)
    >>> "<table class=\\"matrix\\">" in page.getvalue(), "http" in page.getvalue()
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TextIO

from claimedit._version import __version__
from claimedit.impact import Group, ImpactReport, Tally
from claimedit.results import Decision

__all__ = ["write_html"]

_DECISIONS = (Decision.ALLOW, Decision.BUNDLE, Decision.DENY)
_LINES_COLOUR = "#3b6ea5"
_MONEY_COLOUR = "#b5651d"
_MINUS = "\u2212"
_CHART_ROWS = 25  # bars per chart (months are never folded: a time axis keeps every month)
_GROUP_ROWS = 200  # groups listed on the page (JSON has them all)

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 4px 10px; text-align: left; }
.provenance td { padding: 2px 10px 2px 0; font-size: 13px; } code { font-size: 12px; }
.totals { display: flex; gap: 14px; flex-wrap: wrap; margin: 16px 0; }
.totals div { background: #f2f4f7; border-radius: 6px; padding: 8px 14px; }
.totals b { display: block; font-size: 20px; }
table.matrix td, table.matrix th { border: 1px solid #d5dae1; text-align: right; min-width: 90px; }
table.matrix th { background: #f2f4f7; } table.matrix td.same { color: #8a93a0; }
table.matrix td.flip { font-weight: bold; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px; }
.chart { border: 1px solid #e3e7ec; border-radius: 6px; padding: 8px 12px; }
.chart h3 { font-size: 14px; margin: 0 0 6px; } .chart.wide { grid-column: 1 / -1; }
table.groups { width: 100%; font-size: 13px; }
table.groups th { border-bottom: 2px solid #d5dae1; }
table.groups td { border-bottom: 1px solid #e8ebef; vertical-align: top; }
.num { text-align: right; white-space: nowrap; }
.added { color: #1f7a3a; } .removed { color: #b3261e; } .recoded { color: #6b4fa0; }
.added, .removed, .recoded, .id { white-space: nowrap; }
.note { color: #5b6573; font-size: 13px; }
"""


def _lines(count: int) -> str:
    return f"{count:,} line{'' if count == 1 else 's'}"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _charge(tally: Tally) -> str:
    if not tally.charged:
        return "&ndash;"
    text = _money(tally.charge)
    if tally.charged < tally.lines:
        text += f" <span class=note>({tally.charged} of {tally.lines} lines)</span>"
    return text


def _bars(title: str, rows: Sequence[tuple[str, float, str]], colour: str) -> str:
    """A horizontal bar chart in inline SVG: one row per (label, value, value as text)."""
    if not rows:
        return ""
    label_width, bar_width, row_height = 270, 200, 22
    height = row_height * len(rows) + 6
    top = max(value for _, value, _ in rows) or 1.0
    parts = [f'<div class="chart"><h3>{escape(title)}</h3>'
             f'<svg viewBox="0 0 {label_width + bar_width + 90} {height}" width="100%" '
             f'style="max-width: {label_width + bar_width + 90}px" '
             f'role="img" aria-label="{escape(title)}">']
    for index, (label, value, text) in enumerate(rows):
        y = index * row_height + 3
        width = max(1.0, bar_width * value / top) if value else 0.0
        shown = label if len(label) <= 38 else label[:37] + "\u2026"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f'<title>{escape(label)}</title>{escape(shown)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="{row_height - 6}" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + width + 5:.1f}" y="{y + 15}" font-size="12">'
            f'{escape(text)}</text>')
    parts.append("</svg></div>")
    return "".join(parts)


def _columns(title: str, rows: Sequence[tuple[str, float, str]], colour: str) -> str:
    """A column chart in inline SVG for a time axis (months, in order), as wide as the page: a
    value over each column when there is room, else in the column's tooltip and the axis."""
    if not rows:
        return ""
    width, axis, plot, top_margin = 1000, 70, 160, 18
    step = min(60.0, (width - axis - 10) / len(rows))  # a few months: columns, not slabs
    column = step * 0.75
    top = max(value for _, value, _ in rows) or 1.0
    # A gridline at half the top, unless that would be half a line.
    money = any("." in text for _, _, text in rows)
    ticks = (0.0, top / 2, top) if money or top >= 4 else (0.0, top)
    scale = [(value, _axis(value, rows)) for value in ticks]
    every = max(1, round(22 / step))  # a label every so many columns, so they do not overlap
    height = top_margin + plot + 60
    parts = [f'<div class="chart wide"><h3>{escape(title)}</h3>'
             f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}">']
    for value, text in scale:
        y = top_margin + plot - plot * value / top
        parts.append(f'<line x1="{axis - 4}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e3e7ec"/><text x="{axis - 8}" y="{y + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{escape(text)}</text>')
    for index, (label, value, text) in enumerate(rows):
        x = axis + index * step
        bar = max(1.0, plot * value / top) if value else 0.0
        y = top_margin + plot - bar
        middle = x + column / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{bar:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>')
        if step >= 56:
            parts.append(f'<text x="{middle:.1f}" y="{y - 4:.1f}" font-size="11" '
                         f'text-anchor="middle">{escape(text)}</text>')
        if index % every == 0:
            base = top_margin + plot + 14
            parts.append(f'<text x="{middle:.1f}" y="{base}" font-size="11" text-anchor="end" '
                         f'transform="rotate(-40 {middle:.1f} {base})">{escape(label)}</text>')
    parts.append("</svg></div>")
    return "".join(parts)


def _axis(value: float, rows: Sequence[tuple[str, float, str]]) -> str:
    # Axis labels in the rows' own format: money when the rows' texts carry cents.
    money = any("." in text for _, _, text in rows)
    if money:
        return f"{value:,.2f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _top(tallies: Sequence[tuple[str, Tally]], what: str) -> list[tuple[str, Tally]]:
    """The first rows (already ordered by lines), the rest folded into one row, so that a pack of
    thousands of edits (NCCI pairs) still gives a readable chart."""
    if len(tallies) <= _CHART_ROWS:
        return list(tallies)
    rest = Tally()
    for _, tally in tallies[_CHART_ROWS - 1:]:
        rest.lines += tally.lines
        rest.charged += tally.charged
        rest.charge += tally.charge
    return [*tallies[:_CHART_ROWS - 1],
            (f"{len(tallies) - _CHART_ROWS + 1:,} other {what}", rest)]


def _pair(title: str, tallies: Sequence[tuple[str, Tally]], columns: bool = False) -> str:
    chart = _columns if columns else _bars
    lines = [(label, float(t.lines), f"{t.lines:,}") for label, t in tallies]
    out = chart(f"Lines by {title}", lines, _LINES_COLOUR)
    money = [(label, float(t.charge), _money(t.charge)) for label, t in tallies if t.charged]
    if money:
        out += chart(f"Billed charge by {title}", money, _MONEY_COLOUR)
    return out


def _rules(group: Group) -> str:
    items = [f'<span class="added">+{escape(r)}</span>' for r in group.rules_added]
    items += [f'<span class="removed">&minus;{escape(r)}</span>' for r in group.rules_removed]
    items += [f'<span class="recoded">~{escape(r)}</span>' for r in group.rules_recoded]
    return "<br>".join(items) or '<span class="note">same rules</span>'


def _counts(counts: dict[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"<span class=id>{escape(name)}&nbsp;{count:,}</span>"
                      for name, count in ordered[:6])
    return shown + (f", +{len(ordered) - 6} more" if len(ordered) > 6 else "")


def _groups_table(groups: Sequence[Group]) -> str:
    shown = groups[:_GROUP_ROWS]
    rows = ["<table class=groups><tr><th>old &rarr; new</th><th>rules</th>"
            "<th class=num>lines</th><th class=num>billed charge</th><th>payer types</th>"
            "<th>months</th><th>examples (claim / line)</th></tr>"]
    for group in shown:
        examples = ", ".join(f"<span class=id>{escape(claim)}&nbsp;/&nbsp;{escape(line or '')}"
                             "</span>" for claim, line in group.examples)
        rows.append(
            f"<tr><td>{group.old.value} &rarr; {group.new.value}</td><td>{_rules(group)}</td>"
            f"<td class=num>{group.lines:,}</td><td class=num>{_charge(group)}</td>"
            f"<td>{_counts(group.payers)}</td><td>{_counts(group.months)}</td>"
            f"<td>{examples}</td></tr>")
    rows.append("</table>")
    if len(groups) > len(shown):
        rest = groups[len(shown):]
        rows.append(f"<p class=note>{len(rest):,} smaller groups ({sum(g.lines for g in rest):,} "
                    "lines) are left out of the page; <code>--format json</code> lists every "
                    "group.</p>")
    return "".join(rows)


def write_html(report: ImpactReport, out: TextIO) -> None:
    """Write the report as one self-contained page (see the module)."""
    changed = report.changed
    share = f"{changed.lines / report.lines:.2%}" if report.lines else "0%"
    w = out.write
    w('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
      '<meta name="viewport" content="width=device-width, initial-scale=1">'
      '<title>claimedit diff: impact of a rule-pack change</title>'
      f"<style>{_STYLE}</style></head><body>\n")
    w("<h1>Impact of a rule-pack change</h1>\n<table class=provenance>")
    for side, engine in (("old", report.old), ("new", report.new)):
        p = engine.provenance
        w(f"<tr><td><b>{side}</b></td><td>{escape(p.pack)} {escape(p.version)}</td>"
          f"<td><code>{escape(p.content_hash)}</code></td></tr>")
    w("</table>\n<div class=totals>")
    for label, value in (
        ("claims", f"{report.claims:,}"), ("lines", f"{report.lines:,}"),
        ("lines changing decision", f"{changed.lines:,} ({share})"),
        ("on claims", f"{report.changed_claims:,}"),
        ("their billed charge", _charge(changed)),
        ("become payable", f"{_lines(report.payable.lines)}, {_charge(report.payable)}"),
        ("no longer payable", f"{_lines(report.unpayable.lines)}, {_charge(report.unpayable)}"),
        ("invalid records", f"{report.invalid:,}"),
    ):
        w(f"<div>{label}<b>{value}</b></div>")
    w("</div>\n<h2>Flip matrix: lines by old decision (rows) and new decision (columns)</h2>\n")
    w('<table class="matrix"><tr><th>old \\ new</th>')
    w("".join(f"<th>{d.value}</th>" for d in _DECISIONS) + "</tr>")
    money: dict[tuple[Decision, Decision], Tally] = {}
    for group in report.groups:
        total = money.setdefault((group.old, group.new), Tally())
        total.lines += group.lines
        total.charged += group.charged
        total.charge += group.charge
    for old, row in report.matrix().items():
        w(f"<tr><th>{old.value}</th>")
        for new, count in row.items():
            css = "same" if old is new else ("flip" if count else "")
            cell = money.get((old, new))
            priced = f"<br><span class=note>{_charge(cell)}</span>" \
                if cell is not None and cell.charged else ""
            w(f'<td class="{css}">{count:,}{priced}</td>')
        w("</tr>")
    w("</table>\n<p class=note>The diagonal holds the lines whose decision stayed. Billed charge "
      "is the lines' charge as sent (SV102 / SV203, FHIR net, CSV / JSON <code>charge</code>); "
      "lines without one are counted, not priced.</p>\n")
    if changed.lines:
        rules = [(("+" if side == "added" else _MINUS) + rule, tally)
                 for (rule, side), tally in sorted(report.by_rule.items(),
                                                   key=lambda i: (-i[1].lines, i[0]))]
        payers = sorted(report.by_payer.items(), key=lambda i: (-i[1].lines, i[0]))
        months = sorted(report.by_month.items())
        w("<h2>Where the changed lines are</h2>\n<p class=note>+ a rule that fires under the new "
          "rules and not the old; &minus; one that no longer fires.</p>\n<div class=charts>")
        w(_pair("rule", _top(rules, "rules")) + _pair("payer type", payers)
          + _pair("month of service", months, columns=True))
        w("</div>\n<h2>Groups: lines whose decision changed</h2>\n")
        w(_groups_table(report.groups))
    else:
        w("<h2>No line changes decision</h2>\n")
    if report.recoded_groups:
        w("\n<h2>Same decision, other reasons (the remittance codes change, not the payment)"
          "</h2>\n")
        w(_groups_table(report.recoded_groups))
    w(f"\n<p class=note>Written by claimedit {escape(__version__)} <code>diff</code>. "
      "Self-contained: no script, no network.</p>\n</body></html>\n")
