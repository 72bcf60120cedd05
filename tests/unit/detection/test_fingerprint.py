from __future__ import annotations

from pathlib import Path

import cv2

from likeness_ledger.detection.fingerprint import MATCH_DISTANCE, distance, nearest, pdq_of
from likeness_ledger.detection.media import load_image


def test_resized_reencoded_copy_matches_and_other_pictures_do_not(media_dir: Path, tmp_path: Path) -> None:
    original = load_image(media_dir / "obama_ref.jpg")
    small = cv2.resize(original, (original.shape[1] // 2, original.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    copy = load_image(buf.tobytes())
    h0, h1 = pdq_of(original), pdq_of(copy)
    other = pdq_of(load_image(media_dir / "biden_ref.jpg"))
    assert len(h0.hex) == 64 and h0.quality >= 50
    assert distance(h0.hex, h1.hex) <= MATCH_DISTANCE
    assert distance(h0.hex, other.hex) > MATCH_DISTANCE
    assert nearest(h1.hex, [(other.hex, "biden"), (h0.hex, "obama")]) == (distance(h0.hex, h1.hex), "obama")
    assert nearest(other.hex, [(h0.hex, "obama")]) is None
