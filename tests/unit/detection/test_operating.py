from __future__ import annotations

from likeness_ledger.detection import operating


def test_threshold_never_falls_as_the_gallery_grows() -> None:
    sizes = [1, 5, 60, 500, 5000, 50_000, 160_000, 1_000_000]
    values = [operating.face_threshold(n) for n in sizes]
    assert values == sorted(values)
    assert values[0] >= operating.FLOOR
    assert values[-1] > values[2]


def test_threshold_keeps_empirical_far_within_budget() -> None:
    tail = operating._load()
    for n in (60, 1000, 10_000):
        t = operating.face_threshold(n)
        above = sum(s >= t for s in tail.tail)
        assert above <= tail.pairs * operating.DEFAULT_FPIR / n


def test_beyond_calibration_is_flagged() -> None:
    point = operating.face_operating_point(10**9)
    assert not point.resolved
    assert point.threshold > operating._load().tail[0]
    assert operating.face_operating_point(60).resolved
