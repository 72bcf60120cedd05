"""``likeness clear PATHS... [--json]``: run clearance cases through the rules engine.

A thin adapter over :mod:`likeness_ledger.consent`: load every case (files, or folders searched
recursively for ``*.json``), decide each, and print the decision reports. Exit 0 when every case
was evaluated, whatever the decisions; exit 2 with ``error: <file>: <field>: <what>`` on stderr
when a case cannot be read or is invalid (shared/cases/FORMAT.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from likeness_ledger.compensation.rates import RateTable
from likeness_ledger.consent.cases import load_cases
from likeness_ledger.consent.clearance import Decision, clear
from likeness_ledger.errors import Error


def register(app: typer.Typer) -> None:
    """Add the ``clear`` command to ``app``."""
    app.command("clear")(clear_command)


def clear_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Case files, or folders searched recursively for *.json."),
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", metavar="", help="Print the decision reports as JSON.", envvar="LIKENESS_JSON"),
    ] = False,
    unverified_rates: Annotated[
        bool,
        typer.Option(
            "--unverified-rates",
            metavar="",
            help="Also use built-in scale rows RULES.md marks unverified or derived [U].",
            envvar="LIKENESS_RATES_INCLUDE_UNVERIFIED",
        ),
    ] = False,
) -> None:
    """Decide clearance cases (likeness-case/1) and print one report per case."""
    try:
        cases = load_cases(paths)
    except Error as error:
        error.log_and_exit()
    rates = RateTable.builtin(include_unverified=unverified_rates)
    decisions = [clear(case, rates=rates) for _, case in cases]
    if as_json:
        typer.echo(json.dumps([d.to_report() for d in decisions], indent=2, ensure_ascii=False))
        return
    _print_table(decisions)


def _print_table(decisions: list[Decision]) -> None:
    table = Table(title="Clearance decisions")
    table.add_column("case")
    table.add_column("decision")
    table.add_column("reasons")
    table.add_column("owed (USD)", justify="right")
    for decision in decisions:
        style = "green" if decision.allowed else "red"
        table.add_row(
            escape(decision.case_id),
            f"[{style}]{decision.decision}[/{style}]",
            escape("\n".join(f"{r.code}: {r.message}" for r in decision.reasons)),
            decision.payment_total,
        )
    Console().print(table)
