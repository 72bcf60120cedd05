"""SAG-AFTRA 2025 Interactive Media (video game) Agreement.

RULES.md §1.3. Ratified Jul 9, 2025 (95.04%), effective immediately [V]. Encoded:

- separate, written, clear and conspicuous, reasonably specific consent before creation and use
  [V] (the 2023 consent policies, with this rulebook);
- performers may suspend consent to generating new material during a strike [V]. A case cannot
  record whether a performer used that right, so the engine takes the side the default-deny
  principle takes (STYLE.md habit 4): replica use during a strike under this agreement is denied;
- Real-Time Generation (e.g. a replica-voiced chatbot) minimum 7.5 x scale [V]
  (:func:`likeness_ledger.compensation.calculator.real_time_generation_minimum`; the case format
  has no field that marks a use as real-time, so ``clear`` does not apply it).

Scan notice: RULES.md gives the 48-hour notice for the TV/Theatrical and Commercials agreements
only; FORMAT.md defines ``SCAN_NOTICE_LATE`` for any SAG-AFTRA agreement, and the engine follows
the format. Not encoded: the wage increases (no dollar base in RULES.md; 15.17% vs 15.7% conflict
[R]), "usage reports" [U], Secondary Performance Payments (no amounts).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from likeness_ledger.compensation.calculator import REAL_TIME_GENERATION_MULTIPLE
from likeness_ledger.consent.rules.context import Rulebook
from likeness_ledger.consent.rules.sag_aftra_tv_theatrical_2023 import (
    POSTHUMOUS_SIGNERS,
    SCAN_NOTICE,
)

AGREEMENT: Final = "sag-aftra-interactive-2025"
RATIFIED: Final = date(2025, 7, 9)

RULEBOOK: Final = Rulebook(
    id=AGREEMENT,
    title="SAG-AFTRA 2025 Interactive Media Agreement",
    section="RULES.md §1.3",
    start=RATIFIED,
    end=None,
    requires_specific_description=True,
    requires_separate_signature=True,
    scan_notice=SCAN_NOTICE,
    strike_suspension="performers may suspend consent to new material during a strike",
    posthumous_signers=POSTHUMOUS_SIGNERS,
)

__all__ = ["AGREEMENT", "RATIFIED", "REAL_TIME_GENERATION_MULTIPLE", "RULEBOOK"]
