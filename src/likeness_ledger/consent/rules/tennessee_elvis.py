"""Tennessee ELVIS Act (HB 2091 / SB 2096), Tenn. Code §47-25-1101 ff.

RULES.md §3.4. Signed Mar 21, 2024; effective Jul 1, 2024 [V]. "Voice" covers a sound readily
identifiable as a person's "regardless of whether the sound contains the actual voice or a
simulation of the voice" [V], so a voice replica is covered like a face. Post-mortem rights are
exclusive for 10 years after death, then continue until ended by proof of 2 consecutive years of
non-use [V] (§47-25-1104).

What reaches a decision: after the performer's death, only the holder of these rights (an
authorized representative) consents, which :mod:`.postmortem` applies. The liability rules (knowing
unauthorized publication, "primary purpose" tools) bind the registry's own design rather than a
clearance, and a case records no commercial-use history, so the non-use end of the right is not
evaluated.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final

from likeness_ledger.consent.rules.common import years_after

if TYPE_CHECKING:
    from collections.abc import Set

LAW_ID: Final = "us-tn-elvis-act"
CITATION: Final = "Tenn. Code §47-25-1104 (ELVIS Act)"
SIGNED: Final = date(2024, 3, 21)
EFFECTIVE: Final = date(2024, 7, 1)

#: Exclusive post-mortem term, in years after death.
EXCLUSIVE_YEARS: Final = 10
#: Non-use, in consecutive years, that ends the right after the exclusive term.
NON_USE_YEARS: Final = 2

#: Every medium a replica can carry is a protected "likeness" or "voice" (simulations included).
PROTECTED_MEDIA: Final = frozenset({"face", "body", "voice"})


def in_force(on: date) -> bool:
    """Whether the Act is in force on ``on``."""
    return on >= EFFECTIVE


def exclusive_until(died: date) -> date:
    """Last day of the exclusive post-mortem term (10 years after death)."""
    return years_after(died, EXCLUSIVE_YEARS)


def covers(media: Set[str]) -> bool:
    """Whether a replica carrying ``media`` is protected (a simulated voice counts)."""
    return bool(PROTECTED_MEDIA & media)
