"""Policy combinators: allow by returning, deny by raising, empty denies (STYLE.md habit 4)."""

from __future__ import annotations

import pytest

from likeness_ledger.consent.rules.policy import (
    EMPTY_POLICY,
    AllOf,
    Allowance,
    AnyOf,
    Code,
    ConsentDenied,
    Reason,
    merge,
)
from likeness_ledger.errors import Error

OK = Reason(Code.CONSENT_OK, "fine", "test: allow")
LATE = Reason(Code.SCAN_NOTICE_LATE, "late", "test: notice")
STRIKE = Reason(Code.STRIKE_SUSPENDED, "strike", "test: strike")


class Allow:
    def __init__(self, *reasons: Reason) -> None:
        self.reasons = reasons
        self.calls = 0

    def check(self, subject: object, /) -> Allowance:
        self.calls += 1
        return self.reasons


class Deny:
    def __init__(self, *reasons: Reason) -> None:
        self.reasons = reasons
        self.calls = 0

    def check(self, subject: object, /) -> Allowance:
        self.calls += 1
        raise ConsentDenied(*self.reasons)


class TestAllOf:
    def test_allows_with_every_reason(self) -> None:
        assert AllOf(Allow(), Allow(OK)).check(None) == (OK,)

    def test_denies_with_every_denial_even_after_the_first(self) -> None:
        last = Deny(STRIKE)
        with pytest.raises(ConsentDenied) as raised:
            AllOf(Deny(LATE), Allow(OK), last).check(None)
        assert raised.value.reasons == (LATE, STRIKE)
        assert last.calls == 1

    def test_empty_denies(self) -> None:
        with pytest.raises(ConsentDenied) as raised:
            AllOf[object]().check(None)
        assert raised.value.reasons == (EMPTY_POLICY,)

    def test_repeated_codes_are_merged(self) -> None:
        other_late = Reason(Code.SCAN_NOTICE_LATE, "later", "test: notice")
        with pytest.raises(ConsentDenied) as raised:
            AllOf(Deny(LATE), Deny(other_late)).check(None)
        assert raised.value.reasons == (LATE,)


class TestAnyOf:
    def test_first_allow_wins_and_stops(self) -> None:
        later = Allow(STRIKE)
        assert AnyOf(Deny(LATE), Allow(OK), later).check(None) == (OK,)
        assert later.calls == 0

    def test_all_deny(self) -> None:
        with pytest.raises(ConsentDenied) as raised:
            AnyOf(Deny(LATE), Deny(STRIKE)).check(None)
        assert raised.value.reasons == (LATE, STRIKE)

    def test_empty_denies(self) -> None:
        with pytest.raises(ConsentDenied) as raised:
            AnyOf[object]().check(None)
        assert raised.value.reasons == (EMPTY_POLICY,)

    def test_nesting(self) -> None:
        policy = AllOf(AnyOf(Deny(LATE), Allow(OK)), Allow())
        assert policy.check(None) == (OK,)


class TestConsentDenied:
    def test_is_a_project_error_describing_itself(self) -> None:
        denial = ConsentDenied(LATE, STRIKE)
        assert isinstance(denial, Error)
        assert denial.message == "SCAN_NOTICE_LATE: late"
        assert str(denial) == denial.message
        assert denial.errors == ["SCAN_NOTICE_LATE: late", "STRIKE_SUSPENDED: strike"]
        assert "STRIKE_SUSPENDED" in denial.diagnostics()
        assert denial.http_status == 403

    def test_no_reason_means_default_deny(self) -> None:
        assert ConsentDenied().reasons == (EMPTY_POLICY,)


def test_merge_keeps_first_of_each_code() -> None:
    assert merge([LATE, STRIKE, Reason(Code.SCAN_NOTICE_LATE, "x", "y")]) == (LATE, STRIKE)


def test_reason_report() -> None:
    assert OK.to_report() == {"code": "CONSENT_OK", "message": "fine", "rule": "test: allow"}
