"""Release policies combine and default to deny."""

from __future__ import annotations

import uuid

import pytest

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.vault.policy import (
    AllOf,
    AnyOf,
    PerformerOrRepresentative,
    ReleaseDenied,
    ReleaseRequest,
    UnionAccess,
    default_release_policy,
)

PERFORMER = uuid.uuid4()


def request(role: Role, performer_id: uuid.UUID | None = None) -> ReleaseRequest:
    principal = Principal(account_id=uuid.uuid4(), name="x", role=role, performer_id=performer_id)
    return ReleaseRequest(principal=principal, asset_id=uuid.uuid4(), performer_id=PERFORMER, purpose="p")


class TestPolicies:
    @pytest.mark.parametrize("policy", [AnyOf([]), AllOf([])])
    def test_empty_composition_denies(self, policy: AnyOf | AllOf) -> None:
        with pytest.raises(ReleaseDenied, match="default deny"):
            policy.check(request(Role.UNION))

    @pytest.mark.parametrize(
        ("role", "performer_id", "allowed"),
        [
            (Role.PERFORMER, PERFORMER, True),
            (Role.REPRESENTATIVE, PERFORMER, True),
            (Role.UNION, None, True),
            (Role.PERFORMER, uuid.uuid4(), False),
            (Role.PRODUCER, None, False),
            (Role.ADMIN, None, False),
        ],
    )
    def test_default_policy(self, role: Role, performer_id: uuid.UUID | None, allowed: bool) -> None:
        policy = default_release_policy()
        if allowed:
            policy.check(request(role, performer_id))
        else:
            with pytest.raises(ReleaseDenied) as info:
                policy.check(request(role, performer_id))
            assert len(info.value.errors) == 2  # every child's reason is reported

    def test_all_of_needs_every_policy(self) -> None:
        with pytest.raises(ReleaseDenied):
            AllOf([UnionAccess(), PerformerOrRepresentative()]).check(request(Role.UNION))
