"""EU AI Act, Article 50: transparency for deep fakes.

RULES.md §3.8 [V]: Article 50 applies from Aug 2, 2026. Under 50(4), deployers of deep fakes
(AI-generated or manipulated image, audio or video resembling real persons that would falsely
appear authentic, Art. 3(60)) must disclose it; for evidently artistic or fictional works, "in an
appropriate manner that does not hamper the display or enjoyment of the work". A performer's
consent does not remove the deployer's duty: the two stack. A cleared replica use in an EU member
state on or after that day therefore carries a ``disclose_ai`` obligation.

Not encoded: the Code of Practice's icon and watermark details [R]; 50(2) provider marking, which
binds the generator's provider rather than a clearance.
"""

from __future__ import annotations

from datetime import date
from typing import Final

ARTICLE_50_APPLIES_FROM: Final = date(2026, 8, 2)

#: ISO 3166-1 alpha-2 codes of the 27 member states.
MEMBER_STATES: Final = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)


def in_member_state(jurisdiction: str | None) -> bool:
    """Whether an ISO 3166-2 ``jurisdiction`` (``FR`` or ``FR-75``) is in the EU."""
    return jurisdiction is not None and jurisdiction[:2] in MEMBER_STATES


def deep_fake_disclosure_required(jurisdiction: str | None, on: date) -> bool:
    """Whether using a replica in ``jurisdiction`` on ``on`` must be disclosed as AI (Art. 50(4))."""
    return on >= ARTICLE_50_APPLIES_FROM and in_member_state(jurisdiction)
