"""Write the clearance cases in this folder (run: python tests/cases/make_cases.py).

Each case is the base case below with a few fields changed, plus an ``expect`` worked out by hand
from RULES.md and shared/cases/FORMAT.md - never by running the engine. The title of each case
cites the RULES.md section it rests on (the case format is closed, so there is no other field for
it). Scale used in ``expect`` comes from each case's own ``rates`` (the same table as
shared/cases/examples): background 208.00 from 2023-11-09 and 216.00 from 2024-07-01; principal
1158.00 / 1204.00 / 1246.00 from 2023-11-09 / 2024-07-01 / 2025-07-01; under the 2026 agreement
principal 1283.00 and background 231.00 from 2026-07-01.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

RATES = [
    {
        "agreement": "sag-aftra-tv-theatrical-2023",
        "category": "background",
        "per": "day",
        "amount": "208.00",
        "effective": "2023-11-09",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2023",
        "category": "background",
        "per": "day",
        "amount": "216.00",
        "effective": "2024-07-01",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2023",
        "category": "principal",
        "per": "day",
        "amount": "1158.00",
        "effective": "2023-11-09",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2023",
        "category": "principal",
        "per": "day",
        "amount": "1204.00",
        "effective": "2024-07-01",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2023",
        "category": "principal",
        "per": "day",
        "amount": "1246.00",
        "effective": "2025-07-01",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2026",
        "category": "principal",
        "per": "day",
        "amount": "1283.00",
        "effective": "2026-07-01",
    },
    {
        "agreement": "sag-aftra-tv-theatrical-2026",
        "category": "background",
        "per": "day",
        "amount": "231.00",
        "effective": "2026-07-01",
    },
]

CONSENT: dict[str, Any] = {
    "id": "c-1",
    "scope": "use",
    "replica": "rep-1",
    "production": "prod-A",
    "uses": [{"key": "stadium-crowd", "description": "crowd in the stadium sequence, scenes 40-44"}],
    "specific": True,
    "separately_signed": True,
    "signed_by": "performer",
    "signed_on": "2024-05-20",
    "valid_from": None,
    "expires_on": None,
    "revoked_on": None,
    "representation": "union",
}

CREATION_CONSENT: dict[str, Any] = {
    **CONSENT,
    "id": "c-0",
    "scope": "creation",
    "replica": None,
    "uses": [{"key": "stadium-crowd", "description": "crowd in the stadium sequence"}],
    "signed_on": "2024-05-20",
}

BASE: dict[str, Any] = {
    "format": "likeness-case/1",
    "id": "",
    "title": "",
    "as_of": "2024-09-01",
    "jurisdiction": "US-CA",
    "agreement": "sag-aftra-tv-theatrical-2023",
    "performer": {"id": "perf-1", "category": "principal", "born": "1988-04-02", "died": None},
    "replica": {
        "id": "rep-1",
        "kind": "employment_based",
        "media": ["face", "body"],
        "created_for": "prod-A",
        "created_on": "2024-06-01",
    },
    "productions": {
        "prod-A": {"title": "Stadium", "producer": "studio-1", "type": "theatrical"},
        "prod-B": {"title": "Stadium II", "producer": "studio-1", "type": "theatrical"},
    },
    "consents": [CONSENT],
    "facts": [],
    "request": {
        "action": "use",
        "replica": "rep-1",
        "production": "prod-A",
        "use": "stadium-crowd",
        "on": "2024-09-01",
        "role": "principal",
        "estimated_days": 2,
        "replaces_in_person_work": True,
        "alteration": None,
    },
    "rates": RATES,
}

#: A creation request for a background actor's scan on 2024-06-01 09:00Z, engaged a month before.
SCAN: dict[str, Any] = {
    "as_of": "2024-05-29",
    "performer": {"id": "perf-1", "category": "background", "born": "1988-04-02", "died": None},
    "replica": None,
    "consents": [CREATION_CONSENT],
    "facts": [
        {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
        {"type": "scan_notice", "at": "2024-05-29T09:00:00Z"},
        {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
    ],
    "request": {
        "action": "create",
        "replica": None,
        "use": None,
        "on": "2024-06-01",
        "role": "background",
        "estimated_days": None,
        "replaces_in_person_work": False,
    },
}

#: A non-union contract judged by the laws alone: a replica made in 2025, a vague clause, no
#: lawyer, and the replica replacing a shoot day.
LAWS_ONLY: dict[str, Any] = {
    "as_of": "2025-06-01",
    "agreement": None,
    "replica": {"created_on": "2025-03-01"},
    "consents": [{**CONSENT, "specific": False, "representation": "none", "signed_on": "2025-02-01"}],
    "request": {"on": "2025-06-01"},
}

#: A performer who died on 2024-10-01; the request uses the replica in prod-B in 2025.
DECEASED: dict[str, Any] = {
    "as_of": "2025-03-01",
    "performer": {"died": "2024-10-01"},
    "consents": [{**CONSENT, "production": "prod-B", "signed_on": "2025-01-15"}],
    "request": {"production": "prod-B", "on": "2025-03-01"},
}


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``patch`` applied: objects merge, everything else replaces."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def consent(**changes: Any) -> dict[str, Any]:
    """The base use consent with ``changes``."""
    return {**CONSENT, **changes}


def allow(total: str | None = "0.00") -> dict[str, Any]:
    """Expect an allow on a covering consent."""
    out: dict[str, Any] = {"decision": "allow", "reasons": ["CONSENT_OK"]}
    if total is not None:
        out["payment_total"] = total
    return out


def deny(*codes: str) -> dict[str, Any]:
    """Expect a deny on exactly ``codes``; a denial owes nothing."""
    return {"decision": "deny", "reasons": list(codes), "payment_total": "0.00"}


def exempt() -> dict[str, Any]:
    """Expect an allowed typical post-production alteration."""
    return {"decision": "allow", "reasons": ["ALTERATION_EXEMPT"], "payment_total": "0.00"}


BACKGROUND = {"performer": {"category": "background"}, "request": {"role": "background"}}
TV2026 = {"agreement": "sag-aftra-tv-theatrical-2026", "as_of": "2026-08-01"}


def alteration(kind: str) -> dict[str, Any]:
    """A request to alter recorded material of rep-1 in prod-A."""
    return {
        "consents": [],
        "request": {
            "action": "alter",
            "use": None,
            "estimated_days": None,
            "alteration": kind,
        },
    }


# (id, title with its RULES.md citation, patches applied in order, expect)
CASES: list[tuple[str, str, list[dict[str, Any]], dict[str, Any]]] = [
    # --- payments (RULES.md §1.1 compensation, §2 scale) ---
    (
        "own-bg-same-production-paid",
        "Background scan used as consented, 3 days at background scale 216 [RULES.md §1.1, §2]",
        [BACKGROUND, {"request": {"estimated_days": 3}}],
        allow("648.00"),
    ),
    (
        "own-bg-rate-day-before-raise",
        "Use on the day before the Jul 1 2024 raise is paid at 208 [RULES.md §2 effective dates]",
        [BACKGROUND, {"request": {"on": "2024-06-30", "estimated_days": 3}}],
        allow("624.00"),
    ),
    (
        "own-bg-rate-on-raise-day",
        "Use on Jul 1 2024 itself is paid at the new 216 [RULES.md §2 effective dates]",
        [BACKGROUND, {"request": {"on": "2024-07-01"}}],
        allow("432.00"),
    ),
    (
        "own-bg-replica-in-principal-role",
        "Background actor's replica plays a principal: principal scale 1204 [RULES.md §1.1]",
        [BACKGROUND, {"request": {"role": "principal"}}],
        allow("2408.00"),
    ),
    (
        "own-principal-own-rate-below-scale",
        "Own daily rate 900 below principal scale 1204: scale is paid [RULES.md §1.1 whichever is higher]",
        [{"performer": {"daily_rate": "900.00"}}],
        allow("2408.00"),
    ),
    (
        "own-bg-own-rate-above-scale",
        "Background actor's own 300 a day beats background scale 216 [RULES.md §1.1 whichever is higher]",
        [BACKGROUND, {"performer": {"daily_rate": "300.00"}}],
        allow("600.00"),
    ),
    (
        "own-bg-own-rate-principal-role",
        "Background actor at 300 a day, replica plays a principal: principal scale 1204 wins [RULES.md §1.1]",
        [BACKGROUND, {"performer": {"daily_rate": "300.00"}, "request": {"role": "principal"}}],
        allow("2408.00"),
    ),
    (
        "own-2026-principal-scale",
        "Principal replica used under the 2026 agreement: 2 days at 1283 [RULES.md §1.2, §2]",
        [TV2026, {"request": {"on": "2026-08-01"}}],
        allow("2566.00"),
    ),
    (
        "own-2023-case-after-successor",
        "2023-agreement case used on Jul 15 2026: paid under the 2026 agreement in force "
        "[RULES.md §1.2; FORMAT payments]",
        [{"as_of": "2026-07-15", "request": {"on": "2026-07-15", "estimated_days": 1}}],
        allow("1283.00"),
    ),
    (
        "own-2023-last-day",
        "Use on Jun 30 2026, last day of the 2023 term: 2023 scale 1246 [RULES.md §1.1, §2]",
        [{"as_of": "2026-06-30", "request": {"on": "2026-06-30", "estimated_days": 1}}],
        allow("1246.00"),
    ),
    (
        "own-no-rates-own-daily-rate",
        "No rate table in the case; own daily rate 1500 is paid for 2 days [RULES.md §1.1]",
        [{"performer": {"daily_rate": "1500.00"}, "rates": []}],
        allow("3000.00"),
    ),
    # --- strikes (RULES.md §1.2 picket line, §1.3) ---
    (
        "own-strike-2026-first-day",
        "Use on the first day of a strike under the 2026 agreement [RULES.md §1.2 picket line]",
        [
            TV2026,
            {
                "facts": [
                    {"type": "strike", "agreement": "sag-aftra-tv-theatrical-2026", "from": "2027-03-01", "to": None}
                ],
                "as_of": "2027-03-01",
                "request": {"on": "2027-03-01"},
            },
        ],
        deny("STRIKE_SUSPENDED"),
    ),
    (
        "own-strike-2026-ended",
        "Use the day after a 2026-agreement strike ended [RULES.md §1.2]",
        [
            TV2026,
            {
                "facts": [
                    {
                        "type": "strike",
                        "agreement": "sag-aftra-tv-theatrical-2026",
                        "from": "2027-03-01",
                        "to": "2027-03-31",
                    }
                ],
                "as_of": "2027-04-01",
                "request": {"on": "2027-04-01"},
            },
        ],
        allow("2566.00"),
    ),
    (
        "own-strike-under-2023-no-suspension",
        "A strike fact under the 2023 agreement, which has no picket-line rule [RULES.md §1.1, §1.2 new in 2026]",
        [
            {
                "facts": [
                    {"type": "strike", "agreement": "sag-aftra-tv-theatrical-2023", "from": "2025-01-01", "to": None}
                ],
                "as_of": "2025-03-01",
                "request": {"on": "2025-03-01"},
            }
        ],
        allow("2408.00"),
    ),
    (
        "own-strike-and-no-consent",
        "No consent and a 2026 strike: both reasons are listed [RULES.md §1.1, §1.2; FORMAT several codes]",
        [
            TV2026,
            {
                "consents": [],
                "facts": [
                    {"type": "strike", "agreement": "sag-aftra-tv-theatrical-2026", "from": "2027-03-01", "to": None}
                ],
                "as_of": "2027-04-01",
                "request": {"on": "2027-04-01"},
            },
        ],
        deny("NO_CONSENT", "STRIKE_SUSPENDED"),
    ),
    (
        "own-strike-other-agreement",
        "A video-game strike does not suspend a TV/theatrical replica use [RULES.md §1.2, §1.3]",
        [
            TV2026,
            {
                "facts": [
                    {"type": "strike", "agreement": "sag-aftra-interactive-2025", "from": "2027-03-01", "to": None}
                ],
                "as_of": "2027-04-01",
                "request": {"on": "2027-04-01"},
            },
        ],
        allow("2566.00"),
    ),
    (
        "own-strike-interactive",
        "Game replica used during an Interactive Media strike: consent suspended [RULES.md §1.3]",
        [
            {
                "agreement": "sag-aftra-interactive-2025",
                "as_of": "2025-10-01",
                "productions": {"prod-A": {"type": "video_game"}},
                "facts": [
                    {"type": "strike", "agreement": "sag-aftra-interactive-2025", "from": "2025-09-15", "to": None}
                ],
                "request": {"on": "2025-10-01"},
            }
        ],
        deny("STRIKE_SUSPENDED"),
    ),
    # --- consent dates (FORMAT reason codes; RULES.md §6.1 term) ---
    (
        "own-consent-not-yet-valid",
        "Consent valid only from Oct 1, replica used Sep 1 [RULES.md §6.1 term; FORMAT dates]",
        [{"consents": [consent(valid_from="2024-10-01")]}],
        deny("CONSENT_NOT_YET_VALID"),
    ),
    (
        "own-consent-signed-after-use",
        "Consent signed two weeks after the use it covers [RULES.md §1.3 consent before use]",
        [{"consents": [consent(signed_on="2024-09-15")]}],
        deny("CONSENT_NOT_YET_VALID"),
    ),
    (
        "own-consent-revoked",
        "Consent revoked in August, replica used in September [RULES.md §6.1; FORMAT dates]",
        [{"consents": [consent(revoked_on="2024-08-01")]}],
        deny("CONSENT_REVOKED"),
    ),
    (
        "own-consent-revoked-after-use",
        "Consent revoked in October, after the September use [RULES.md §6.1; FORMAT dates]",
        [{"consents": [consent(revoked_on="2024-10-01")]}],
        allow("2408.00"),
    ),
    (
        "own-consent-expires-on-use-day",
        "Consent's last day is the day of the use [RULES.md §6.1; FORMAT dates]",
        [{"consents": [consent(expires_on="2024-09-01")]}],
        allow("2408.00"),
    ),
    (
        "own-consent-expired-and-revoked",
        "Consent both expired and revoked before the use: both listed [FORMAT several codes]",
        [{"consents": [consent(expires_on="2024-08-01", revoked_on="2024-07-01")]}],
        deny("CONSENT_EXPIRED", "CONSENT_REVOKED"),
    ),
    (
        "own-second-consent-valid",
        "An expired consent and a fresh one for the same use: the fresh one covers [RULES.md §1.1]",
        [{"consents": [consent(expires_on="2024-08-01"), consent(id="c-2", signed_on="2024-08-15")]}],
        allow("2408.00"),
    ),
    # --- specificity and separate signature (RULES.md §1.1) ---
    (
        "own-consent-not-specific",
        "Union-negotiated consent without a reasonably specific description [RULES.md §1.1]",
        [{"consents": [consent(specific=False)]}],
        deny("CONSENT_NOT_SPECIFIC"),
    ),
    (
        "own-not-specific-not-separate",
        "Vague consent buried in the contract's standard terms [RULES.md §1.1]",
        [{"consents": [consent(specific=False, separately_signed=False)]}],
        deny("CONSENT_NOT_SPECIFIC", "CONSENT_NOT_SEPARATE"),
    ),
    # --- AB 2602 family (RULES.md §3.1, §3.3, §3.5) ---
    (
        "own-laws-only-union-represented",
        "No agreement; vague, unseparated clause but union-represented: enforceable [RULES.md "
        "§3.1; FORMAT agreement null]",
        [
            LAWS_ONLY,
            {"consents": [{**LAWS_ONLY["consents"][0], "representation": "union", "separately_signed": False}]},
        ],
        allow("0.00"),
    ),
    (
        "own-ab2602-counsel",
        "Vague clause replacing a shoot day, but negotiated by the performer's lawyer [RULES.md §3.1 (3)(a)]",
        [LAWS_ONLY, {"consents": [{**LAWS_ONLY["consents"][0], "representation": "counsel"}]}],
        allow("0.00"),
    ),
    (
        "own-ab2602-not-replacing-work",
        "Vague, unrepresented clause, but the replica does no in-person work [RULES.md §3.1 (1)]",
        [LAWS_ONLY, {"request": {"replaces_in_person_work": False}}],
        allow("0.00"),
    ),
    (
        "own-ab2602-before-effective",
        "California replica made Dec 31 2024, before AB 2602 took effect [RULES.md §3.1]",
        [LAWS_ONLY, {"replica": {"created_on": "2024-12-31"}}],
        allow("0.00"),
    ),
    (
        "own-ab2602-new-york",
        "New York replica made Feb 2025 under a vague, unrepresented clause [RULES.md §3.5 GOL §5-302]",
        [LAWS_ONLY, {"jurisdiction": "US-NY", "replica": {"created_on": "2025-02-01"}}],
        deny("UNENFORCEABLE_CONTRACT"),
    ),
    (
        "own-ab2602-illinois-first-day",
        "Illinois replica made Aug 9 2024, the day the Act took effect [RULES.md §3.3]",
        [LAWS_ONLY, {"jurisdiction": "US-IL", "replica": {"created_on": "2024-08-09"}}],
        deny("UNENFORCEABLE_CONTRACT"),
    ),
    (
        "own-ab2602-illinois-day-before",
        "Illinois replica made Aug 8 2024, a day before the Act [RULES.md §3.3]",
        [LAWS_ONLY, {"jurisdiction": "US-IL", "replica": {"created_on": "2024-08-08"}}],
        allow("0.00"),
    ),
    (
        "own-ab2602-texas",
        "Same clause in Texas, which has no AB 2602-type law in RULES.md [RULES.md §3]",
        [LAWS_ONLY, {"jurisdiction": "US-TX"}],
        allow("0.00"),
    ),
    (
        "own-ab2602-under-agreement",
        "Under the 2023 agreement, an unrepresented vague clause in CA: both rules hold [RULES.md §1.1, §3.1]",
        [
            {
                "as_of": "2025-06-01",
                "replica": {"created_on": "2025-02-01"},
                "consents": [consent(specific=False, representation="none", signed_on="2025-01-20")],
                "request": {"on": "2025-06-01"},
            }
        ],
        deny("CONSENT_NOT_SPECIFIC", "UNENFORCEABLE_CONTRACT"),
    ),
    # --- deceased performers (RULES.md §1.1, §3.2) ---
    (
        "own-deceased-signed-by-performer",
        "Consent 'signed by the performer' three months after the performer died [RULES.md §1.1 deceased]",
        [DECEASED],
        deny("CONSENT_WRONG_SIGNER"),
    ),
    (
        "own-deceased-union-signed",
        "No representative; the union consents for a deceased performer [RULES.md §1.1 deceased]",
        [DECEASED, {"consents": [{**DECEASED["consents"][0], "signed_by": "union"}]}],
        allow("2408.00"),
    ),
    (
        "own-deceased-consent-given-in-life",
        "Performer consented in life and died before the use [FORMAT CONSENT_WRONG_SIGNER; RULES.md §1.1]",
        [DECEASED, {"consents": [consent(production="prod-B")]}],
        allow(None),
    ),
    (
        "own-deceased-wrong-signer-and-expired",
        "Posthumous consent signed by 'the performer' and already expired [RULES.md §1.1; FORMAT several codes]",
        [DECEASED, {"consents": [{**DECEASED["consents"][0], "expires_on": "2025-02-01"}]}],
        deny("CONSENT_EXPIRED", "CONSENT_WRONG_SIGNER"),
    ),
    (
        "own-deceased-laws-only-california",
        "No agreement: California replica of a deceased performer needs the estate's consent [RULES.md §3.2 AB 1836]",
        [DECEASED, {"agreement": None}],
        deny("CONSENT_WRONG_SIGNER"),
    ),
    (
        "own-deceased-estate-laws-only",
        "No agreement: the estate's representative consents [RULES.md §3.2 AB 1836]",
        [
            DECEASED,
            {"agreement": None, "consents": [{**DECEASED["consents"][0], "signed_by": "authorized_representative"}]},
        ],
        allow("0.00"),
    ),
    # --- scans: notice and scan-only call (RULES.md §1.1) ---
    (
        "own-scan-notice-exactly-48h",
        "Scan notice exactly 48 hours ahead, scan-only call paid one background day [RULES.md §1.1]",
        [
            SCAN,
            {
                "facts": [
                    {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-30T09:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
                ]
            },
        ],
        allow("208.00"),
    ),
    (
        "own-scan-notice-47h",
        "Scan notice 47 hours ahead though engaged a month earlier [RULES.md §1.1 48 hours]",
        [
            SCAN,
            {
                "facts": [
                    {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-30T10:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
                ]
            },
        ],
        deny("SCAN_NOTICE_LATE"),
    ),
    (
        "own-scan-engaged-late-notice-at-engagement",
        "Engaged 24 hours before the scan and told at engagement [RULES.md §1.1 at engagement]",
        [
            SCAN,
            {
                "facts": [
                    {"type": "engaged", "at": "2024-05-31T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-31T09:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
                ]
            },
        ],
        allow("208.00"),
    ),
    (
        "own-scan-on-a-work-day",
        "Scan during a day the performer works anyway: no extra paid day [RULES.md §1.1 work time]",
        [
            SCAN,
            {
                "facts": [
                    {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-29T09:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": False},
                ]
            },
        ],
        allow("0.00"),
    ),
    (
        "own-scan-only-principal-own-rate",
        "Principal at 1500 a day called in only for a scan [RULES.md §1.1 paid day]",
        [SCAN, {"performer": {"category": "principal", "daily_rate": "1500.00"}, "request": {"role": "principal"}}],
        allow("1500.00"),
    ),
    (
        "own-scan-only-principal-scale",
        "Principal without own rate called in only for a scan in June 2024 [RULES.md §1.1, §2]",
        [SCAN, {"performer": {"category": "principal"}, "request": {"role": "principal"}}],
        allow("1158.00"),
    ),
    (
        "own-create-with-use-consent-only",
        "Scan requested with only a use consent on file, no creation consent [RULES.md §1.1 consent before creation]",
        [SCAN, {"consents": [consent(replica=None)]}],
        deny("NO_CONSENT"),
    ),
    (
        "own-create-consent-other-production",
        "Creation consent given for another production [RULES.md §1.1 separate consent]",
        [SCAN, {"consents": [{**CREATION_CONSENT, "production": "prod-B"}]}],
        deny("CONSENT_WRONG_PRODUCTION"),
    ),
    (
        "own-create-no-consent-late-notice",
        "No creation consent and a late scan notice [RULES.md §1.1; FORMAT several codes]",
        [
            SCAN,
            {
                "consents": [],
                "facts": [
                    {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-31T18:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
                ],
            },
        ],
        deny("NO_CONSENT", "SCAN_NOTICE_LATE"),
    ),
    (
        "own-create-laws-only-late-notice",
        "No agreement: notice timing is a contract rule and does not decide [FORMAT agreement null; RULES.md §1.1]",
        [
            SCAN,
            {
                "agreement": None,
                "facts": [
                    {"type": "engaged", "at": "2024-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2024-05-31T18:00:00Z"},
                    {"type": "scan_scheduled", "at": "2024-06-01T09:00:00Z", "scan_only_call": True},
                ],
            },
        ],
        allow("0.00"),
    ),
    (
        "own-create-consent-not-separate",
        "Creation consent printed in the background voucher [RULES.md §1.1 separate signature]",
        [SCAN, {"consents": [{**CREATION_CONSENT, "separately_signed": False}]}],
        deny("CONSENT_NOT_SEPARATE"),
    ),
    # --- alterations (RULES.md §1.1 digital alteration) ---
    (
        "own-alter-wardrobe",
        "Wardrobe fix in post-production needs no consent [RULES.md §1.1 digital alteration]",
        [alteration("wardrobe")],
        exempt(),
    ),
    (
        "own-alter-dialogue-adjustment",
        "Dialogue adjustment in post-production needs no consent [RULES.md §1.1 digital alteration]",
        [alteration("dialogue_adjustment")],
        exempt(),
    ),
    (
        "own-alter-pitch-tone-no-agreement",
        "Pitch correction under no agreement: not a replica [RULES.md §1.1, §3.1 definition]",
        [alteration("pitch_tone"), {"agreement": None}],
        exempt(),
    ),
    (
        "own-alter-substantive-no-consent",
        "Changing what the performer said, with no consent [RULES.md §1.1 substantially as scripted]",
        [alteration("substantive")],
        deny("NO_CONSENT"),
    ),
    (
        "own-alter-substantive-with-consent",
        "Changing the ending with a consent that describes it [RULES.md §1.1 digital alteration]",
        [
            alteration("substantive"),
            {
                "consents": [consent(uses=[{"key": "new-ending", "description": "re-voiced final line, scene 88"}])],
                "request": {"use": "new-ending"},
            },
        ],
        allow("0.00"),
    ),
    # --- other agreements (RULES.md §1.3, §1.4) ---
    (
        "own-interactive-not-separate",
        "Video-game replica consent not signed separately [RULES.md §1.3 separate, written]",
        [
            {
                "agreement": "sag-aftra-interactive-2025",
                "as_of": "2025-09-01",
                "productions": {"prod-A": {"type": "video_game"}},
                "consents": [consent(separately_signed=False)],
                "request": {"on": "2025-09-01"},
            }
        ],
        deny("CONSENT_NOT_SEPARATE"),
    ),
    (
        "own-interactive-paid-case-rate",
        "Video-game replica used 2 days; scale from the case's own table [RULES.md §1.3; FORMAT rates]",
        [
            {
                "agreement": "sag-aftra-interactive-2025",
                "as_of": "2025-09-01",
                "productions": {"prod-A": {"type": "video_game"}},
                "request": {"on": "2025-09-01"},
                "rates": [
                    {
                        "agreement": "sag-aftra-interactive-2025",
                        "category": "principal",
                        "per": "day",
                        "amount": "1100.00",
                        "effective": "2025-07-09",
                    }
                ],
            }
        ],
        allow("2200.00"),
    ),
    (
        "own-commercials-other-production",
        "Replica from one commercial reused in another without new consent [RULES.md §1.4]",
        [
            {
                "agreement": "sag-aftra-commercials-2025",
                "as_of": "2025-06-01",
                "productions": {"prod-A": {"type": "commercial"}, "prod-B": {"type": "commercial"}},
                "request": {"production": "prod-B", "on": "2025-06-01"},
            }
        ],
        deny("CONSENT_WRONG_PRODUCTION"),
    ),
    (
        "own-commercials-late-notice",
        "Commercial scan disclosed the evening before, performer engaged weeks earlier [RULES.md §1.4 48 h]",
        [
            SCAN,
            {
                "agreement": "sag-aftra-commercials-2025",
                "as_of": "2025-05-31",
                "productions": {"prod-A": {"type": "commercial"}},
                "consents": [{**CREATION_CONSENT, "signed_on": "2025-05-31"}],
                "facts": [
                    {"type": "engaged", "at": "2025-05-01T09:00:00Z"},
                    {"type": "scan_notice", "at": "2025-05-31T18:00:00Z"},
                    {"type": "scan_scheduled", "at": "2025-06-01T09:00:00Z", "scan_only_call": True},
                ],
                "request": {"on": "2025-06-01"},
            },
        ],
        deny("SCAN_NOTICE_LATE"),
    ),
    # --- coverage (RULES.md §1.1 per production and use) ---
    (
        "own-consent-for-other-replica",
        "The only consent names a different replica of the performer [RULES.md §6.1 per use]",
        [{"consents": [consent(replica="rep-2")]}],
        deny("NO_CONSENT"),
    ),
    (
        "own-use-not-described-two-consents",
        "Two consents for the production, neither describes the close-up [RULES.md §1.1 new consent]",
        [
            {
                "consents": [
                    consent(),
                    consent(id="c-2", uses=[{"key": "locker-room", "description": "locker room, scene 12"}]),
                ],
                "request": {"use": "closeup-dialogue"},
            }
        ],
        deny("CONSENT_USE_NOT_DESCRIBED"),
    ),
    (
        "own-wrong-production-outranks-expiry",
        "Expired consent for prod-A, use asked in prod-B: only the production is at fault "
        "[RULES.md §1.1; FORMAT codes]",
        [{"consents": [consent(expires_on="2024-08-01")], "request": {"production": "prod-B"}}],
        deny("CONSENT_WRONG_PRODUCTION"),
    ),
]


def build() -> dict[str, dict[str, Any]]:
    """Return every case by file name."""
    built = {}
    for case_id, title, patches, expect in CASES:
        case = copy.deepcopy(BASE)
        for patch in patches:
            case = merge(case, patch)
        case["id"] = case_id
        case["title"] = title
        case["expect"] = expect
        built[f"{case_id}.json"] = case
    return built


def main() -> None:
    """Rewrite the case files."""
    for stale in HERE.glob("own-*.json"):
        stale.unlink()
    for name, case in build().items():
        (HERE / name).write_text(json.dumps(case, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
