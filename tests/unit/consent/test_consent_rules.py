"""Rulebook modules: effective dates and the small rule functions, one class per module."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from likeness_ledger.consent.rules import (
    RULEBOOKS,
    ab2602,
    eu_ai_act,
    policy_for,
    postmortem,
    rulebook_in_force,
    tennessee_elvis,
)
from likeness_ledger.consent.rules import sag_aftra_tv_theatrical_2023 as tv2023
from likeness_ledger.consent.rules import sag_aftra_tv_theatrical_2026 as tv2026

SCAN = datetime(2024, 6, 1, 9, tzinfo=UTC)


class TestRulebooks:
    def test_terms(self) -> None:
        assert tv2023.RULEBOOK.start == date(2023, 11, 9)
        assert tv2023.RULEBOOK.end == date(2026, 6, 30)
        assert tv2026.RULEBOOK.start == date(2026, 7, 1)
        assert tv2026.RULEBOOK.end == date(2030, 6, 30)
        assert RULEBOOKS["sag-aftra-interactive-2025"].start == date(2025, 7, 9)
        assert RULEBOOKS["sag-aftra-commercials-2025"].start == date(2025, 4, 1)

    @pytest.mark.parametrize(
        ("agreement", "on", "expected"),
        [
            ("sag-aftra-tv-theatrical-2023", date(2026, 6, 30), "sag-aftra-tv-theatrical-2023"),
            ("sag-aftra-tv-theatrical-2023", date(2026, 7, 1), "sag-aftra-tv-theatrical-2026"),
            ("sag-aftra-tv-theatrical-2026", date(2025, 1, 1), "sag-aftra-tv-theatrical-2023"),
            ("sag-aftra-interactive-2025", date(2027, 1, 1), "sag-aftra-interactive-2025"),
            (None, date(2025, 1, 1), None),
        ],
    )
    def test_agreement_in_force(self, agreement: str | None, on: date, expected: str | None) -> None:
        book = rulebook_in_force(agreement, on)
        assert (book.id if book is not None else None) == expected

    def test_only_2026_and_interactive_suspend_use_in_strikes(self) -> None:
        suspending = {b.id for b in RULEBOOKS.values() if b.strike_suspension is not None}
        assert suspending == {"sag-aftra-tv-theatrical-2026", "sag-aftra-interactive-2025"}

    def test_policies_are_shared(self) -> None:
        book = tv2023.RULEBOOK
        assert policy_for(book, "use", None) is policy_for(book, "use", None)
        assert policy_for(book, "alter", "cosmetic") is policy_for(None, "alter", "wardrobe")


class TestScanNotice:
    def test_exactly_48_hours_is_on_time(self) -> None:
        assert not tv2023.scan_notice_late(
            scan_at=SCAN, notice_at=SCAN - timedelta(hours=48), engaged_at=SCAN - timedelta(days=30)
        )

    def test_a_minute_short_is_late(self) -> None:
        assert tv2023.scan_notice_late(
            scan_at=SCAN,
            notice_at=SCAN - timedelta(hours=47, minutes=59),
            engaged_at=SCAN - timedelta(days=30),
        )

    def test_engaged_inside_the_window(self) -> None:
        engaged = SCAN - timedelta(hours=20)
        assert not tv2023.scan_notice_late(scan_at=SCAN, notice_at=engaged, engaged_at=engaged)

    def test_engaged_early_and_never_told(self) -> None:
        assert tv2023.scan_notice_late(scan_at=SCAN, notice_at=None, engaged_at=SCAN - timedelta(days=3))

    def test_no_engagement_on_file_uses_the_plain_rule(self) -> None:
        assert tv2023.scan_notice_late(scan_at=SCAN, notice_at=SCAN - timedelta(hours=5), engaged_at=None)
        assert not tv2023.scan_notice_late(scan_at=SCAN, notice_at=None, engaged_at=None)

    def test_no_scan_nothing_late(self) -> None:
        assert not tv2023.scan_notice_late(scan_at=None, notice_at=None, engaged_at=None)


class TestAlterations:
    @pytest.mark.parametrize("kind", sorted(tv2023.EXEMPT_ALTERATIONS))
    def test_typical_post_production_is_exempt(self, kind: str) -> None:
        assert tv2023.alteration_exempt(kind)

    def test_substantive_needs_consent(self) -> None:
        assert not tv2023.alteration_exempt("substantive")


class TestAb2602Family:
    @pytest.mark.parametrize(
        ("jurisdiction", "created", "law"),
        [
            ("US-CA", date(2025, 1, 1), "us-ca-ab2602"),
            ("US-CA", date(2024, 12, 31), None),
            ("US-NY", date(2025, 1, 1), "us-ny-gol-5-302"),
            ("US-IL", date(2024, 8, 9), "us-il-hb4762"),
            ("US-IL", date(2024, 8, 8), None),
            ("US-TX", date(2025, 6, 1), None),
            (None, date(2025, 6, 1), None),
        ],
    )
    def test_law_by_jurisdiction_and_creation_date(
        self, jurisdiction: str | None, created: date, law: str | None
    ) -> None:
        found = ab2602.law_for(jurisdiction, created)
        assert (found.id if found is not None else None) == law

    @pytest.mark.parametrize(
        ("replaces", "specific", "representation", "expected"),
        [
            (True, False, "none", True),
            (False, False, "none", False),
            (True, True, "none", False),
            (True, False, "counsel", False),
            (True, False, "union", False),
        ],
    )
    def test_all_three_conditions_must_hold(
        self, replaces: bool, specific: bool, representation: str, expected: bool
    ) -> None:
        assert (
            ab2602.unenforceable(replaces_in_person_work=replaces, specific=specific, representation=representation)
            is expected
        )


class TestPostmortem:
    def test_california_70_years(self) -> None:
        died = date(2024, 10, 1)
        assert postmortem.right_for("US-CA", died=died, on=date(2025, 3, 1)) is (postmortem.CALIFORNIA_AB1836)
        assert postmortem.right_for("US-CA", died=died, on=date(2094, 10, 2)) is None
        assert postmortem.right_for("US-CA", died=died, on=date(2024, 12, 31)) is None

    def test_new_york(self) -> None:
        assert postmortem.right_for("US-NY", died=date(2022, 1, 1), on=date(2024, 1, 1)) is (postmortem.NEW_YORK_50F)
        assert postmortem.right_for("US-NY", died=date(2020, 1, 1), on=date(2024, 1, 1)) is None
        assert postmortem.right_for("US-NY", died=date(2020, 1, 1), on=date(2025, 12, 11)) is (
            postmortem.NEW_YORK_S8391
        )

    def test_tennessee(self) -> None:
        assert postmortem.right_for("US-TN", died=date(2000, 1, 1), on=date(2024, 7, 1)) is (postmortem.TENNESSEE_ELVIS)
        assert tennessee_elvis.exclusive_until(date(2024, 2, 29)) == date(2034, 2, 28)
        assert tennessee_elvis.covers({"voice"})
        assert not tennessee_elvis.in_force(date(2024, 6, 30))


class TestEuAiAct:
    def test_disclosure_from_article_50_date_in_member_states(self) -> None:
        assert eu_ai_act.deep_fake_disclosure_required("FR-75", date(2026, 8, 2))
        assert eu_ai_act.deep_fake_disclosure_required("DE", date(2027, 1, 1))
        assert not eu_ai_act.deep_fake_disclosure_required("FR", date(2026, 8, 1))
        assert not eu_ai_act.deep_fake_disclosure_required("US-CA", date(2027, 1, 1))
        assert not eu_ai_act.deep_fake_disclosure_required(None, date(2027, 1, 1))
