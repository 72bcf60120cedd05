"""Every ORM change becomes a log leaf in the same transaction, and nothing else does."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from likeness_ledger.accounts import services as accounts
from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import set_actor
from likeness_ledger.errors import InvalidInput
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as registry
from likeness_ledger.registry.models import Performer, PerformerCategory
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import events, log
from likeness_ledger.transparency.canonical import canonical_json
from likeness_ledger.transparency.models import LogLeaf, LogPerformerRun
from likeness_ledger.transparency.signer import sign_if_grown

UNION = Principal(account_id=uuid.uuid4(), name="union-desk", role=Role.UNION)


def performer_in(member: str = "SAG-1") -> schemas.PerformerIn:
    return schemas.PerformerIn(
        legal_name="Ada Lovelace",
        professional_name=None,
        category=PerformerCategory.PRINCIPAL,
        born_on=date(1990, 1, 2),
        died_on=None,
        union_member_id=member,
        domicile="US-CA",
    )


def leaves(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.db.read() as session:
        return [json.loads(e) for e in session.scalars(select(LogLeaf.event).order_by(LogLeaf.index))]


def count(runtime: Runtime, model: type[Any]) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_registry_create_appends_one_attributed_event(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        performer = registry.create_performer(session, UNION, performer_in())
        performer_id = performer.id
    [event] = leaves(runtime)
    assert event["type"] == "performers.created"
    assert event["table"] == "performers"
    assert event["entity_id"] == str(performer_id)
    assert event["actor"] == "union-desk"
    assert event["performer_ids"] == [str(performer_id)]
    assert event["data"]["legal_name"] == "Ada Lovelace"
    assert event["data"]["born_on"] == "1990-01-02"
    assert event["data"]["category"] == "principal"
    assert event["data"]["created_at"].endswith("+00:00")  # defaults were assigned before the event was made
    with runtime.db.read() as session:
        assert list(session.scalars(select(LogPerformerRun.first_leaf))) == [0]
        assert log.performer_leaves(session, performer_id, limit=10, offset=0) == ([0], 1)


def test_a_receipt_for_the_registry_event_verifies(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        registry.create_performer(session, UNION, performer_in())
    signer = log.log_signer(runtime.settings)
    with runtime.db.write() as session:
        made = log.receipt(session, 0, signer=signer, origin=runtime.settings.log_origin)
    made.verify([signer.vkey])
    assert made.event["type"] == "performers.created"


def test_updates_name_the_changed_columns_and_no_op_updates_log_nothing(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        performer_id = registry.create_performer(session, UNION, performer_in()).id
    with runtime.db.write() as session:
        registry.update_performer(session, UNION, performer_id, schemas.PerformerUpdate(professional_name="Ada L."))
    with runtime.db.write() as session:
        row = session.get(Performer, performer_id)
        assert row is not None
        row.professional_name = "Ada L."  # the same value: not a change
    logged = leaves(runtime)
    assert [e["type"] for e in logged] == ["performers.created", "performers.updated"]
    assert logged[1]["changed"] == ["professional_name"]
    assert logged[1]["data"]["professional_name"] == "Ada L."


def test_deletes_are_logged(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        performer_id = registry.create_performer(session, UNION, performer_in()).id
    with runtime.db.write() as session:
        set_actor(session, "cleanup")
        session.delete(session.get(Performer, performer_id))
    logged = leaves(runtime)
    assert logged[-1]["type"] == "performers.deleted"
    assert logged[-1]["actor"] == "cleanup"
    assert logged[-1]["data"]["legal_name"] == "Ada Lovelace"


def test_without_set_actor_the_actor_is_system(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        accounts.create_account(session, name="ops", role=Role.ADMIN)
    assert leaves(runtime)[0]["actor"] == "system"


def test_token_hashes_are_left_out_of_events(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        account = accounts.create_account(session, name="ops", role=Role.ADMIN)
        _, secret = accounts.issue_token(session, account)
    token_event = leaves(runtime)[1]
    assert token_event["type"] == "api_tokens.created"
    assert "token_hash" not in token_event["data"]
    assert token_event["redacted"] == ["token_hash"]
    assert accounts.hash_token(secret) not in json.dumps(leaves(runtime))


def test_an_exception_after_the_flush_leaves_neither_row_nor_leaf(runtime: Runtime) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), runtime.db.write() as session:
        registry.create_performer(session, UNION, performer_in())  # flushed: row and leaf are written
        assert log.size(session) == 1
        raise Boom
    assert count(runtime, Performer) == 0
    assert count(runtime, LogLeaf) == 0
    assert count(runtime, LogPerformerRun) == 0


def test_a_failing_append_rolls_the_change_back(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(session: object, batch: object) -> int:
        raise InvalidInput("event: refused by the test")

    monkeypatch.setattr(log, "append_many", refuse)
    with pytest.raises(InvalidInput, match="refused by the test"), runtime.db.write() as session:
        registry.create_performer(session, UNION, performer_in())
    monkeypatch.undo()
    assert count(runtime, Performer) == 0
    assert count(runtime, LogLeaf) == 0
    # and the next change logs normally, at index 0
    with runtime.db.write() as session:
        registry.create_performer(session, UNION, performer_in("SAG-2"))
    assert [e["type"] for e in leaves(runtime)] == ["performers.created"]


def test_every_committed_row_has_its_leaf(runtime: Runtime) -> None:
    """Across a mixed workload, the count of logged creations per table equals the rows there."""
    from likeness_ledger.demo import seed  # noqa: PLC0415

    seed(runtime)
    logged = leaves(runtime)
    created: dict[str, int] = {}
    for event in logged:
        table, action = event["type"].split(".")
        created[table] = created.get(table, 0) + (action == "created") - (action == "deleted")
    from likeness_ledger.all_models import Base  # noqa: PLC0415

    with runtime.db.read() as session:
        present = set(inspect(session.connection()).get_table_names())  # others' tables may be mid-migration
        for table in Base.metadata.sorted_tables:
            if table.name.startswith("log_") or table.name not in present:
                continue
            rows = session.scalar(select(func.count()).select_from(table)) or 0
            assert created.get(table.name, 0) == rows, table.name
        log.audit(session)
    actors = {event["actor"] for event in logged}
    assert {"union", "admin"} <= actors


def test_suspended_sessions_log_nothing(runtime: Runtime) -> None:
    with runtime.db.write() as session, events.suspended(session):
        accounts.create_account(session, name="quiet", role=Role.ADMIN)
    assert leaves(runtime) == []


def test_json_safe_values() -> None:
    assert events.json_safe(2**60) == str(2**60)
    assert events.json_safe(b"\x01\xff") == "01ff"
    assert events.json_safe(float("nan")) == "nan"
    assert events.json_safe(Role.UNION) == "union"
    assert events.json_safe({"a": (1, uuid.UUID(int=1))}) == {"a": [1, str(uuid.UUID(int=1))]}


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_canonical_json_matches_the_reference_encoder(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_sign_if_grown_signs_only_when_the_log_grew(runtime: Runtime) -> None:
    assert sign_if_grown(runtime.db, runtime.settings) is None  # empty log: nothing to sign
    with runtime.db.write() as session:
        registry.create_performer(session, UNION, performer_in())
    note = sign_if_grown(runtime.db, runtime.settings)
    assert note is not None and note.split("\n")[1] == "1"
    assert sign_if_grown(runtime.db, runtime.settings) is None


def test_the_background_signer_signs_when_the_log_grows(runtime: Runtime) -> None:
    from likeness_ledger.transparency.signer import CheckpointSigner  # noqa: PLC0415

    signer = CheckpointSigner(runtime.db, runtime.settings, 0.02).start()
    try:
        with runtime.db.write() as session:
            registry.create_performer(session, UNION, performer_in())
        deadline = time.monotonic() + 5
        while signer.signed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        signer.stop()
    assert signer.signed == 1  # grown once, signed once; idle ticks after that sign nothing
    with runtime.db.read() as session:
        note = log.latest_checkpoint(session)
    assert note is not None and note.split("\n")[1] == "1"
    with pytest.raises(ValueError, match="interval"):
        CheckpointSigner(runtime.db, runtime.settings, 0)


def test_the_interval_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from likeness_ledger.config import load_settings  # noqa: PLC0415

    monkeypatch.setenv("LIKENESS_CHECKPOINT_INTERVAL", "30")
    assert load_settings().checkpoint_interval == 30
    assert load_settings(checkpoint_interval=0).checkpoint_interval == 0


@pytest.mark.parametrize(
    "value",
    [
        {"s": "".join(map(chr, range(0x20))) + '"\\/\x7f\u2028\u00e9\U0001f600'},
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 order differs from code point order here
        {"big": 2**53, "small": -(2**53)},
        {"f": 1.0, "g": 1e21, "h": 5e-324},
        {"lone": "\ud800"},
        [{"z": None, "a": [True, False]}],
    ],
)
def test_canonical_json_edge_cases(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_a_rolled_back_savepoint_leaves_no_stale_cached_nodes(runtime: Runtime) -> None:
    from likeness_ledger.transparency import merkle  # noqa: PLC0415
    from likeness_ledger.transparency.receipts import event_leaf_hash  # noqa: PLC0415

    kept = [{"type": "kept", "n": n} for n in range(4)]
    later = [{"type": "later", "n": n} for n in range(4)]
    with runtime.db.write() as session:
        log.append_many(session, kept)
        savepoint = session.begin_nested()
        log.append_many(session, [{"type": "undone", "n": n} for n in range(4)])
        log.root(session, 8)  # reads (and caches) nodes the rollback below undoes
        savepoint.rollback()
        log.append_many(session, later)
        expected = merkle.root([event_leaf_hash(e) for e in kept + later])
        assert log.root(session, 8) == expected


def test_rows_without_a_performer_column_name_their_parents_performer(runtime: Runtime) -> None:
    from likeness_ledger.registry.models import ReplicaAsset, ReplicaKind, ReplicaMedia  # noqa: PLC0415
    from likeness_ledger.vault.models import Release, VaultBlob  # noqa: PLC0415

    with runtime.db.write() as session:
        performer_id = registry.create_performer(session, UNION, performer_in()).id
        account = accounts.create_account(session, name="ops", role=Role.ADMIN)
        session.add(VaultBlob(sha256="ab" * 32, size=3))
        session.flush()
        asset = ReplicaAsset(
            performer_id=performer_id,
            kind=next(iter(ReplicaKind)),
            media=next(iter(ReplicaMedia)),
            sha256="ab" * 32,
            size=3,
            content_type="application/octet-stream",
        )
        session.add(asset)
        session.flush()
        # A release has no performer_id: it hangs off the asset, whose performer it concerns.
        session.add(Release(asset_id=asset.id, account_id=account.id, purpose="test"))
    logged = {e["type"]: e for e in leaves(runtime)}
    assert logged["releases.created"]["performer_ids"] == [str(performer_id)]
    assert logged["replica_assets.created"]["performer_ids"] == [str(performer_id)]
    assert logged["vault_blobs.created"]["performer_ids"] == []
    assert logged["accounts.created"]["performer_ids"] == []


def test_a_model_hook_names_the_performers(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from likeness_ledger.registry.models import Producer  # noqa: PLC0415

    chosen = [uuid.UUID(int=5), uuid.UUID(int=6)]
    monkeypatch.setattr(Producer, "log_performer_ids", lambda self, session: chosen, raising=False)
    with runtime.db.write() as session:
        registry.create_producer(session, UNION, schemas.ProducerIn(name="Hooked Films"))
    [event] = leaves(runtime)
    assert event["performer_ids"] == [str(p) for p in chosen]
    with runtime.db.read() as session:
        assert log.performer_leaves(session, chosen[1], limit=5, offset=0) == ([0], 1)
