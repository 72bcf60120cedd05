from __future__ import annotations

import numpy as np

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


def test_cascade_band_is_where_dlib_can_change_the_decision() -> None:
    fusion = operating.fusion()
    assert fusion.weight > 0 and fusion.lift > 0
    dlib = np.linspace(-1.0, 1.0, 201)
    for t in (operating.face_threshold(1), operating.face_threshold(1000)):
        # Under the band nothing dlib says can reach the threshold; over it nothing can stop it.
        assert np.all(fusion.score(t - fusion.lift - 1e-6, dlib) < t)
        assert np.all(fusion.score(t + fusion.drop + 1e-9, dlib) >= t)
        # Inside it dlib decides: a face just under the threshold is lifted by a confident dlib match,
        # and (when dlib may lower scores) one just over it is dropped by a clear dlib mismatch.
        assert fusion.score(t - min(0.01, fusion.lift), 1.0) >= t
        assert fusion.score(t - min(0.01, fusion.lift), -1.0) < t
        if fusion.drop > 0:
            assert fusion.score(t + min(0.01, fusion.drop / 2), -1.0) < t
