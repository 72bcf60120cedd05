"""Account and token commands."""

from __future__ import annotations

from typing import Annotated

import typer

from likeness_ledger.accounts import services as svc
from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.schemas import AccountIn, AccountOut, TokenOut
from likeness_ledger.cli.common import (
    STATE,
    console,
    emit,
    parse,
    parse_performer,
    parse_uuid,
    read_session,
    write_session,
)

account_app = typer.Typer(help="Accounts (admin).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)

ACCOUNT_COLS = ("id", "name", "role", "performer_id", "representative_id", "producer_id", "disabled_at")


@account_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="unique account name")],
    role: Annotated[str, typer.Option(help="performer, representative, producer, union or admin")],
    performer_id: Annotated[str | None, typer.Option(help="for role performer")] = None,
    representative_id: Annotated[str | None, typer.Option(help="for role representative")] = None,
    producer_id: Annotated[str | None, typer.Option(help="for role producer")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="")] = False,
) -> None:
    """Create an account (then `likeness token create NAME`)."""
    body = parse(
        AccountIn,
        name=name,
        role=role,
        performer_id=parse_performer(performer_id, "--performer-id") if performer_id else None,
        representative_id=representative_id,
        producer_id=producer_id,
    )
    STATE.principal().require(Role.ADMIN, action="create account")
    with write_session() as session:
        record = AccountOut.model_validate(svc.create_account(session, **body.model_dump()))
    emit(record, as_json=as_json, columns=ACCOUNT_COLS)


@account_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", metavar="")] = False) -> None:
    """List accounts."""
    principal = STATE.principal()
    with read_session() as session:
        rows, total = svc.list_accounts(session, principal, limit=500, offset=0)
        records = [AccountOut.model_validate(r) for r in rows]
    emit(records, as_json=as_json, columns=ACCOUNT_COLS, title=f"accounts ({total})")


@account_app.command("disable")
def disable(account_id: Annotated[str, typer.Argument()]) -> None:
    """Disable an account; its tokens stop working."""
    aid = parse_uuid(account_id, "ACCOUNT_ID")
    principal = STATE.principal()
    with write_session() as session:
        svc.disable_account(session, principal, aid)
    console.print("disabled")


@token_app.command("create")
def create(
    account: Annotated[str, typer.Argument(help="account name")],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Issue a token for an account and print it once."""
    principal = STATE.principal()
    with write_session() as session:
        target = svc.account_by_name(session, account)
        svc.get_account(session, principal, target.id)  # admins, or the account itself
        _, secret = svc.issue_token(session, target, label=label)
    typer.echo(secret)


@token_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument()]) -> None:
    """Revoke a token by id."""
    tid = parse_uuid(token_id, "TOKEN_ID")
    principal = STATE.principal()
    with write_session() as session:
        record = TokenOut.model_validate(svc.revoke_token(session, principal, tid))
    console.print(f"revoked {record.prefix}…")


def register(app: typer.Typer) -> None:
    """Add the account and token groups to the root app."""
    app.add_typer(account_app, name="account")
    app.add_typer(token_app, name="token")
