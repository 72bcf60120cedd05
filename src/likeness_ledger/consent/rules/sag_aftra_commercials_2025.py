"""SAG-AFTRA 2025 Commercials Contracts.

RULES.md §1.4. Agreement Apr 11, 2025, effective (retroactively) Apr 1, 2025 [V]. Encoded, with
the 2023 consent policies and this rulebook: a reasonably specific description of use disclosed at
least 48 hours in advance (or at engagement); clear and conspicuous written consent via the
Digital Replica Rider or a separate signed writing; additional written consent for any use outside
the description [V].

Not encoded: consent for future commercials of the same advertiser and product line within the
Maximum Period of Use [V] - a case names productions, not advertisers, product lines or MPUs, so a
consent covers only the production it names; payments to P&H for synthetic performers [V] (no
synthetic performers in the format). No strike rule: RULES.md gives none for commercials.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from likeness_ledger.consent.rules.context import Rulebook
from likeness_ledger.consent.rules.sag_aftra_tv_theatrical_2023 import (
    POSTHUMOUS_SIGNERS,
    SCAN_NOTICE,
)

AGREEMENT: Final = "sag-aftra-commercials-2025"
EFFECTIVE: Final = date(2025, 4, 1)

RULEBOOK: Final = Rulebook(
    id=AGREEMENT,
    title="SAG-AFTRA 2025 Commercials Contracts",
    section="RULES.md §1.4",
    start=EFFECTIVE,
    end=None,
    requires_specific_description=True,
    requires_separate_signature=True,
    scan_notice=SCAN_NOTICE,
    strike_suspension=None,
    posthumous_signers=POSTHUMOUS_SIGNERS,
)
