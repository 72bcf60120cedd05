"""Consent services: request transitions, release purposes, signers, and keeping the index fresh."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import insert, select

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal, account_by_name, principal_for
from likeness_ledger.consent import schemas
from likeness_ledger.consent import services as svc
from likeness_ledger.consent.models import ConsentGrant, GrantRevocation, RequestStatus, Signer
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.errors import Conflict, InvalidInput, NotFound
from likeness_ledger.registry.models import Production, ReplicaAsset
from likeness_ledger.runtime import Runtime

ADMIN = Principal(account_id=uuid.uuid4(), name="a", role=Role.ADMIN)


def as_principal(runtime: Runtime, name: str) -> Principal:
    with runtime.db.read() as session:
        return principal_for(session, account_by_name(session, name))


class TestTransitions:
    def test_every_step_not_in_the_table_is_a_conflict(self) -> None:
        terminal = {
            RequestStatus.APPROVED,
            RequestStatus.PARTIALLY_APPROVED,
            RequestStatus.REFUSED,
            RequestStatus.WITHDRAWN,
        }
        for status in terminal:
            assert svc.TRANSITIONS[status] == frozenset()
        assert RequestStatus.APPROVED not in svc.TRANSITIONS[RequestStatus.SENT_BACK]
        assert svc.TRANSITIONS[RequestStatus.SENT_BACK] == {RequestStatus.PENDING, RequestStatus.WITHDRAWN}


class TestPurpose:
    def test_reads_use_and_production(self) -> None:
        production = uuid.uuid4()
        assert svc.parse_purpose(f"stadium-crowd@{production} plates for scene 41") == ("stadium-crowd", production)

    @pytest.mark.parametrize("purpose", ["sequel", "@x", "crowd@not-an-id", "", "crowd@"])
    def test_refuses_anything_else(self, purpose: str) -> None:
        with pytest.raises(svc.ConsentReleaseDenied) as info:
            svc.parse_purpose(purpose)
        assert info.value.http_status == 403
        assert "USE_KEY@PRODUCTION_ID" in info.value.message


class TestSigners:
    def test_performer_signs_as_performer_only(self, runtime: Runtime, tokens) -> None:
        maya = as_principal(runtime, "maya")
        with runtime.db.read() as session:
            film = session.scalar(select(Production.id).where(Production.title == "Stadium"))
        assert film is not None and maya.performer_id is not None
        data = schemas.GrantIn(
            performer_id=maya.performer_id,
            scope="creation",
            production_id=film,
            specific=True,
            separately_signed=True,
            signed_by=Signer.UNION,
            signed_on=date(2026, 9, 1),
        )
        with pytest.raises(InvalidInput, match=r"^signed_by:"), runtime.db.write() as session:
            svc.create_grant(session, maya, data)
        with pytest.raises(InvalidInput, match=r"^signed_by: required"), runtime.db.write() as session:
            svc.create_grant(session, ADMIN, data.model_copy(update={"signed_by": None}))

    def test_producers_cannot_record_consents_and_performers_only_their_own(self, runtime: Runtime, tokens) -> None:
        maya = as_principal(runtime, "maya")
        jon = as_principal(runtime, "jon")
        studio = as_principal(runtime, "northlight")
        with runtime.db.read() as session:
            film = session.scalar(select(Production.id).where(Production.title == "Stadium"))
        assert film is not None and maya.performer_id is not None
        data = schemas.GrantIn(
            performer_id=maya.performer_id,
            scope="creation",
            production_id=film,
            specific=True,
            separately_signed=True,
            signed_on=date(2026, 9, 1),
        )
        with pytest.raises(Exception, match="role producer"), runtime.db.write() as session:
            svc.create_grant(session, studio, data)
        with pytest.raises(NotFound), runtime.db.write() as session:
            svc.create_grant(session, jon, data)


class TestIndexFreshness:
    def query(self, runtime: Runtime) -> ClearanceQuery:
        with runtime.db.read() as session:
            asset = session.scalars(select(ReplicaAsset)).one()
            film = session.scalar(select(Production.id).where(Production.title == "Stadium"))
        assert film is not None
        return ClearanceQuery(
            action="use",
            performer_id=asset.performer_id,
            production_id=film,
            on=date(2026, 12, 24),
            role="background",
            replaces_in_person_work=True,
            asset_id=asset.id,
            use="stadium-crowd",
        )

    def test_a_revocation_written_by_another_process_is_seen(self, runtime: Runtime, tokens) -> None:
        query = self.query(runtime)
        assert svc.clearance_index(runtime.db).evaluate(query).allowed
        assert svc.clearance_index(runtime.db) is svc.clearance_index(runtime.db)
        with runtime.db.read() as session:
            grant_id = session.scalar(select(ConsentGrant.id).where(ConsentGrant.scope == "use"))
            admin = account_by_name(session, "admin").id
        # Raw SQL, as another process would write it: no session events fire here.
        with runtime.db.engine.begin() as conn:
            conn.execute(
                insert(GrantRevocation).values(
                    id=uuid.uuid4(), grant_id=grant_id, effective_on=date(2026, 12, 20), revoked_by=admin
                )
            )
        decision = svc.clearance_index(runtime.db).evaluate(query)
        assert decision.codes == ("CONSENT_REVOKED",)

    def test_a_change_committed_here_reloads_the_index(self, runtime: Runtime, tokens) -> None:
        query = self.query(runtime)
        assert svc.clearance_index(runtime.db).evaluate(query).allowed
        other = ClearanceQuery(**{**{f: getattr(query, f) for f in query.__slots__}, "use": "stadium-night"})
        assert not svc.clearance_index(runtime.db).evaluate(other).allowed
        maya = as_principal(runtime, "maya")
        assert maya.performer_id is not None
        with runtime.db.write() as session:
            svc.create_grant(
                session,
                maya,
                schemas.GrantIn(
                    performer_id=maya.performer_id,
                    scope="use",
                    replica_asset_id=query.asset_id,
                    production_id=query.production_id,
                    uses=[schemas.UseIn(key="stadium-night", description="the night match, scenes 50-52")],
                    specific=True,
                    separately_signed=True,
                    signed_on=date(2026, 12, 1),
                ),
            )
        assert svc.clearance_index(runtime.db).evaluate(other).allowed

    def test_an_unknown_agreement_is_not_judged_as_none(self, runtime: Runtime, tokens) -> None:
        query = self.query(runtime)
        with runtime.db.write() as session:
            production = session.get(Production, query.production_id)
            assert production is not None
            production.agreement = "some-house-agreement"
        with runtime.db.read() as session, pytest.raises(Conflict, match=r"^production_id: .*does not know"):
            svc.evaluate(session, query)
        with pytest.raises(Conflict):
            svc.clearance_index(runtime.db).evaluate(query)
