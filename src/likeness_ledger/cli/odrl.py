"""``likeness odrl``: grants as ODRL 2.2 Agreements, and the ODRL test suite run through our evaluator.

- ``export GRANT.json``: grant terms (the JSON of :class:`~likeness_ledger.consent.odrl.GrantTerms`)
  to an ODRL Agreement in JSON-LD;
- ``import ODRL.json``: such an Agreement back to grant terms;
- ``evaluate DIR``: run every case of a SolidLab-format ODRL test suite folder and print, per case,
  whether our report agrees with the expected one, then a summary. Exit 0 when every case was
  evaluated, whatever the verdicts; exit 2 when a file cannot be read, naming it.

The modules behind these commands are imported when a command runs, so ``likeness`` itself does
not pay for loading the RDF library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from likeness_ledger.errors import InvalidInput

odrl_app = typer.Typer(help="ODRL 2.2: export and import grants, evaluate ODRL test suites.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``odrl`` command group to ``app``."""
    app.add_typer(odrl_app, name="odrl")


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc


def _in_file(path: Path, error: InvalidInput) -> InvalidInput:
    return InvalidInput(f"{path}: {error.message}", errors=[f"{path}: {e}" for e in error.errors])


@odrl_app.command("export")
def export_command(
    grant: Annotated[Path, typer.Argument(help="Grant terms as JSON (the fields of GrantTerms).")],
) -> None:
    """Print a grant as an ODRL 2.2 Agreement in JSON-LD."""
    from likeness_ledger.consent.odrl import GrantTerms, grant_to_odrl  # noqa: PLC0415 - see module docstring

    try:
        terms = GrantTerms.from_json(_read_json(grant))
    except InvalidInput as exc:
        raise _in_file(grant, exc) from exc
    typer.echo(json.dumps(grant_to_odrl(terms), indent=2, ensure_ascii=False))


@odrl_app.command("import")
def import_command(
    agreement: Annotated[Path, typer.Argument(help="An ODRL Agreement in JSON-LD, as `odrl export` writes it.")],
) -> None:
    """Print the grant terms an ODRL Agreement describes, as JSON."""
    from likeness_ledger.consent.odrl import odrl_to_grant  # noqa: PLC0415 - see module docstring

    try:
        terms = odrl_to_grant(_read_json(agreement))
    except InvalidInput as exc:
        raise _in_file(agreement, exc) from exc
    typer.echo(json.dumps(terms.to_json(), indent=2, ensure_ascii=False))


@odrl_app.command("evaluate")
def evaluate_command(
    suite: Annotated[Path, typer.Argument(help="A test suite folder (test_cases/, policies/, requests/, sotw/).")],
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print the results as JSON.", envvar="LIKENESS_JSON")
    ] = False,
    reports: Annotated[
        bool,
        typer.Option("--reports", metavar="", help="With --json, include our full compliance report for each case."),
    ] = False,
) -> None:
    """Run every case of an ODRL test suite and say whether our reports agree with the expected ones."""
    from likeness_ledger.consent.odrl_suite import load_suite, run_case  # noqa: PLC0415 - see module docstring

    results = [run_case(case) for case in load_suite(suite)]
    summary = {
        "cases": len(results),
        "agree": sum(1 for r in results if r.verdict == "agree"),
        "disagree": sum(1 for r in results if r.verdict == "disagree"),
        "activation_agree": sum(1 for r in results if not r.activation_differences),
    }
    if as_json:
        cases: list[dict[str, Any]] = []
        for r in results:
            entry: dict[str, Any] = {
                "case": r.case.name,
                "id": r.case.id,
                "title": r.case.title,
                "verdict": r.verdict,
                "decision": r.report.decision,
                "expected_decision": r.case.expected.decision,
                "activation": "agree" if not r.activation_differences else "disagree",
                "differences": list(r.differences),
            }
            if reports:
                entry["report"] = r.report.to_json()
            cases.append(entry)
        typer.echo(json.dumps({"summary": summary, "cases": cases}, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"ODRL test suite: {suite}")
    table.add_column("case")
    table.add_column("verdict")
    table.add_column("decision")
    table.add_column("differences")
    for r in results:
        style = "green" if r.verdict == "agree" else "red"
        table.add_row(
            escape(r.case.name),
            f"[{style}]{r.verdict}[/{style}]",
            r.report.decision,
            escape("\n".join(r.differences)),
        )
    console = Console()
    console.print(table)
    console.print(
        f"{summary['agree']} of {summary['cases']} cases agree with the expected report "
        f"({summary['disagree']} disagree); rule activation agrees in {summary['activation_agree']}."
    )
