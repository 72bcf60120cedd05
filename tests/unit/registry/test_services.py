"""Registry services: transactions, the single SQLite writer, and role checks at the service layer."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.errors import Conflict, Forbidden, NotFound
from likeness_ledger.registry import schemas
from likeness_ledger.registry import services as svc
from likeness_ledger.registry.models import PerformerCategory, Producer, ScanStatus
from likeness_ledger.runtime import Runtime

UNION = Principal(account_id=uuid.uuid4(), name="u", role=Role.UNION)


class TestTransactions:
    def test_an_error_midway_leaves_nothing(self, runtime: Runtime) -> None:
        with pytest.raises(Conflict), runtime.db.write() as session:
            svc.create_producer(session, UNION, schemas.ProducerIn(name="Half Done Films"))
            svc.create_producer(session, UNION, schemas.ProducerIn(name="Half Done Films"))
        with runtime.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Producer)) == 0

    def test_concurrent_writers_are_serialised_not_failed(self, runtime: Runtime) -> None:
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for j in range(5):
                    with runtime.db.write() as session:
                        svc.create_producer(session, UNION, schemas.ProducerIn(name=f"P{i}-{j}"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with runtime.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Producer)) == 30


class TestRoleChecks:
    def test_performer_cannot_register_performers(self, runtime: Runtime) -> None:
        me = Principal(account_id=uuid.uuid4(), name="p", role=Role.PERFORMER, performer_id=uuid.uuid4())
        with pytest.raises(Forbidden), runtime.db.write() as session:
            svc.create_performer(session, me, schemas.PerformerIn(legal_name="X", category=PerformerCategory.PRINCIPAL))

    def test_scan_status_only_moves_forward(self, runtime: Runtime, tokens: dict[str, str]) -> None:
        with runtime.db.write() as session:
            scan = svc.list_scan_sessions(session, UNION, limit=1, offset=0)[0][0]
            assert scan.status is ScanStatus.COMPLETED
            with pytest.raises(Conflict, match="cannot go from completed to cancelled"):
                svc.set_scan_status(session, UNION, scan.id, ScanStatus.CANCELLED)

    def test_unknown_ids_are_not_found(self, runtime: Runtime) -> None:
        with runtime.db.read() as session, pytest.raises(NotFound):
            svc.get_production(session, UNION, uuid.uuid4())
