"""Statement documents: CSV for machines and spreadsheets, PDF (reportlab) for people.

Both are rendered from one :class:`~likeness_ledger.usage.statements.Statement`, so their
totals are the same Decimal sums. The PDF charts earnings per month with reportlab's graphics
module; the chart is fed integer cents, so no amount is turned into a float here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Any, Final
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from likeness_ledger.usage.statements import Statement

CSV_COLUMNS: Final = (
    "section",
    "date",
    "kind",
    "reference",
    "production",
    "producer",
    "description",
    "amount",
    "flags",
)
#: Itemised lines a PDF shows; beyond this the PDF points to the CSV, which has every line.
PDF_MAX_LINES: Final = 1000


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def money_text(cents: int) -> str:
    """Integer cents as dollars with two places, e.g. -1234 -> "-12.34" (no Decimal per line)."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


#: The flags column, indexed by (residuals_due, pending_rate).
_FLAGS: Final = (("", "pending_rate"), ("residuals_due", "residuals_due;pending_rate"))


def write_csv(statement: Statement, out: IO[str]) -> None:
    """Write the statement as CSV: an opening row, one row per line, violations, then totals.

    Rows are streamed to ``out`` as they are made; a line's date text is made once per day.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    period = statement.period
    writer.writerow(
        ["opening", period.start.isoformat(), "", "", "", "", "opening balance", _money(statement.opening), ""]
    )
    days: dict[date, str] = {}
    flags = _FLAGS
    writer.writerows(
        (
            "line",
            days.get(on) or days.setdefault(on, on.isoformat()),
            kind,
            reference,
            production,
            producer,
            description,
            # money_text inlined for the usual non-negative line: one call fewer per row.
            f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else money_text(cents),
            flags[residuals_due][pending_rate],
        )
        for on, kind, reference, production, producer, description, cents, residuals_due, pending_rate in (
            statement.lines
        )
    )
    for violation in statement.violations:
        writer.writerow(
            [
                "violation",
                violation.on.isoformat(),
                "violation",
                str(violation.report_id),
                violation.production,
                "",
                f"uncleared use {violation.use}: {violation.codes}",
                "",
                "",
            ]
        )
    end = period.end.isoformat()
    for label, amount in (
        ("earned", statement.earned),
        ("paid", statement.paid),
        ("closing balance", statement.closing),
    ):
        writer.writerow(["total", end, "", "", "", "", label, _money(amount), ""])


def csv_text(statement: Statement) -> str:
    """The statement's CSV as a string."""
    buffer = io.StringIO()
    write_csv(statement, buffer)
    return buffer.getvalue()


def _chart(statement: Statement) -> Drawing:
    # Sizes in points (1 mm is about 2.83 points): 170 x 60 mm, with room for the axis labels.
    width, height = 482, 170
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 42, 28
    chart.width, chart.height = width - 56, height - 56
    cents = [int(amount.scaleb(2)) for _, amount in statement.monthly] or [0]
    chart.data = [cents]
    chart.categoryAxis.categoryNames = [label[2:] for label, _ in statement.monthly] or [""]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = min(0, *cents)
    chart.valueAxis.labels.fontSize = 7
    # Axis values are cents; show whole dollars.
    chart.valueAxis.labelTextFormat = lambda value: f"{int(value) // 100:,}"
    chart.bars[0].fillColor = colors.HexColor("#3b6ea5")
    drawing.add(chart)
    drawing.add(String(42, height - 17, "Earnings per month (USD)", fontSize=8))
    return drawing


def pdf_bytes(statement: Statement) -> bytes:
    """Render the statement as a PDF: summary, chart, per-production totals, lines, violations."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Statement {statement.subject_name} {statement.period.label}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    heading = f"Statement: {escape(statement.subject_name)} ({statement.subject})"
    story: list[Flowable] = [
        Paragraph(heading, styles["Title"]),
        Paragraph(
            f"Period {statement.period.label}: {statement.period.start.isoformat()} to "
            f"{statement.period.end.isoformat()}. Amounts in USD.",
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    summary = Table(
        [
            ["Opening balance", _money(statement.opening)],
            ["Earned in period", _money(statement.earned)],
            ["Paid in period", _money(statement.paid)],
            ["Closing balance", _money(statement.closing)],
        ],
        colWidths=[60 * mm, 35 * mm],
        hAlign="LEFT",
    )
    summary.setStyle(
        TableStyle(
            [
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 1, colors.black),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ]
        )
    )
    story += [summary, Spacer(1, 4 * mm), _chart(statement), Spacer(1, 4 * mm)]
    if statement.by_production:
        rows = [["Production", "Earned", "Paid"]] + [
            [Paragraph(escape(name), small), _money(earned), _money(paid)]
            for name, earned, paid in statement.by_production
        ]
        story += [Paragraph("By production", styles["Heading3"]), _grid(rows, [110 * mm, 30 * mm, 30 * mm])]
    flagged_residuals = sum(1 for line in statement.lines if line.residuals_due)
    pending = sum(1 for line in statement.lines if line.pending_rate)
    if flagged_residuals or pending:
        notes = []
        if flagged_residuals:
            notes.append(f"{flagged_residuals} line(s) also owe residuals, paid as if the work was done in person.")
        if pending:
            notes.append(f"{pending} line(s) await a rate: the union sets their amount by adjustment.")
        story.append(Paragraph(" ".join(notes), styles["BodyText"]))
    story.append(Paragraph("Lines", styles["Heading3"]))
    shown = statement.lines[:PDF_MAX_LINES]
    production_cell = _CellMaker(38 * mm, small)
    description_cell = _CellMaker(75 * mm, small)
    rows = [["Date", "Kind", "Production", "Description", "Amount"]] + [
        [
            line.on.isoformat(),
            line.kind.replace("_", " "),
            production_cell(line.production),
            description_cell(line.description),
            money_text(line.cents),
        ]
        for line in shown
    ]
    story.append(_grid(rows, [20 * mm, 22 * mm, 38 * mm, 75 * mm, 25 * mm]))
    if len(statement.lines) > len(shown):
        story.append(
            Paragraph(
                f"{len(statement.lines) - len(shown)} more lines are in the CSV statement; the totals above "
                "include every line.",
                styles["BodyText"],
            )
        )
    if statement.violations:
        story.append(Paragraph("Uncleared uses reported (violations)", styles["Heading3"]))
        rows = [["Date", "Production", "Use", "Reasons"]] + [
            [v.on.isoformat(), Paragraph(escape(v.production), small), Paragraph(escape(v.use), small), v.codes]
            for v in statement.violations
        ]
        story.append(_grid(rows, [22 * mm, 50 * mm, 50 * mm, 58 * mm]))
    doc.build(story)
    return buffer.getvalue()


class _CellMaker:
    """Table cells for one column: plain text where it fits on one line, a wrapping Paragraph otherwise.

    A Paragraph costs reportlab a line-breaking pass per cell, which was most of the time of a
    1,000-line PDF; most cells are short enough to be drawn as they are.
    """

    #: The grid's cells have reportlab's default padding of 6 points on each side.
    PADDING: Final = 12

    def __init__(self, width: Any, style: Any) -> None:
        # width: the column width in points (a layout length, never money).
        self._room = width - self.PADDING
        self._style = style
        self._fits: dict[str, bool] = {}

    def __call__(self, text: str) -> str | Paragraph:
        fits = self._fits.get(text)
        if fits is None:
            fits = "\n" not in text and stringWidth(text, "Helvetica", 7) <= self._room
            self._fits[text] = fits
        return text if fits else Paragraph(escape(text), self._style)


def _grid(rows: Sequence[list[Any]], widths: Sequence[Any]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
