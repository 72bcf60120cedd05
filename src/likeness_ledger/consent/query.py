"""A clearance question about records in the database.

This is the contract between the consent service, which answers it, and the usage, vault and
detection services, which ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from likeness_ledger.consent.cases import Action, AlterationKind, Category


@dataclass(frozen=True, slots=True)
class ClearanceQuery:
    """Whether ``action`` may be done with a performer's replica in a production, for a use, on a day.

    ``asset_id`` names the replica asset (None when asking to create one); ``use`` is the use key a
    consent describes; ``role`` is the category of the part the replica plays.
    """

    action: Action
    performer_id: UUID
    production_id: UUID
    on: date
    role: Category
    replaces_in_person_work: bool
    asset_id: UUID | None = None
    use: str | None = None
    estimated_days: int | None = None
    alteration: AlterationKind | None = None
