from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from likeness_ledger.detection.fingerprint import MATCH_DISTANCE, PdqIndex, distance, nearest, pdq_of
from likeness_ledger.detection.media import load_image
from likeness_ledger.errors import InvalidInput


def _random_hashes(rng: np.random.Generator, n: int) -> list[str]:
    return [bytes(row).hex() for row in rng.integers(0, 256, (n, 32), dtype=np.uint8)]


def _flip_bits(hex_hash: str, bits: list[int]) -> str:
    value = int(hex_hash, 16)
    for b in bits:
        value ^= 1 << b
    return f"{value:064x}"


class TestPdq:
    def test_resized_reencoded_copy_matches_and_other_pictures_do_not(self, media_dir: Path) -> None:
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


class TestPdqIndex:
    def test_finds_a_reupload_among_many_findings_and_not_an_unrelated_picture(
        self, media_dir: Path, tmp_path: Path
    ) -> None:
        original = load_image(media_dir / "pair.jpg")
        h, w = original.shape[:2]
        smaller = cv2.resize(original, (w * 3 // 5, h * 3 // 5), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(tmp_path / "copy.webp"), smaller, [cv2.IMWRITE_WEBP_QUALITY, 30])
        reupload = pdq_of(load_image(tmp_path / "copy.webp"))
        unrelated = pdq_of(load_image(media_dir / "nobody.jpg"))
        rng = np.random.default_rng(5)
        # 40,000 other findings: more than two blocks of the vectorised scan, the match in the last.
        index = PdqIndex.of((hx, f"f{i}") for i, hx in enumerate(_random_hashes(rng, 40_000)))
        index.extend([(pdq_of(original).hex, "pair-finding")])
        hit = index.nearest(reupload.hex)
        assert hit is not None and hit[1] == "pair-finding"
        assert hit[0] == distance(pdq_of(original).hex, reupload.hex) <= MATCH_DISTANCE
        assert index.nearest(unrelated.hex) is None

    def test_agrees_with_the_bit_by_bit_distance(self) -> None:
        rng = np.random.default_rng(6)
        hashes = _random_hashes(rng, 3_000)
        index = PdqIndex()
        for i, hx in enumerate(hashes):  # one at a time: the buffer grows past its first 1,024 rows
            index.extend([(hx, i)])
        assert len(index) == 3_000 and index.keys == list(range(3_000))
        for q in [*hashes[::500], *_random_hashes(rng, 5)]:
            assert index.distances(q).tolist() == [distance(q, hx) for hx in hashes]
        near = _flip_bits(hashes[1234], [0, 77, 200])
        assert index.nearest(near) == (3, 1234)
        assert index.nearest(near, max_distance=2) is None

    def test_ties_go_to_the_earliest_and_bad_hashes_are_refused(self) -> None:
        base = "ab" * 32
        index = PdqIndex.of([(_flip_bits(base, [1]), "first"), (_flip_bits(base, [2]), "second")])
        assert index.nearest(base) == (1, "first")
        assert PdqIndex().nearest(base) is None
        with pytest.raises(InvalidInput, match="64 hex digits"):
            index.extend([("abc", "short")])
        with pytest.raises(InvalidInput, match="hex digits"):
            index.nearest("zz" * 32)
        assert len(index) == 2
