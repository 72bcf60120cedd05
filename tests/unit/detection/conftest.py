"""Small detection test media, made once per session from ../shared/media (downscaled: fast tests)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
FACES = SHARED / "media" / "faces" / "face_recognition"


def _small(src: Path, dst: Path, width: int) -> Path:
    img = cv2.imread(str(src))
    h, w = img.shape[:2]
    cv2.imwrite(str(dst), cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA))
    return dst


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """obama_ref (enrolment), obama_probe, biden_ref, pair (both), nobody (no enrolled face)."""
    d = tmp_path_factory.mktemp("detection-media")
    _small(FACES / "obama.jpg", d / "obama_ref.jpg", 400)
    _small(FACES / "obama2.jpg", d / "obama_probe.jpg", 400)
    _small(FACES / "biden.jpg", d / "biden_ref.jpg", 400)
    _small(FACES / "obama_and_biden.jpg", d / "pair.jpg", 1000)
    _small(FACES / "kit_harington__john1.jpeg", d / "nobody.jpg", 400)
    return d
