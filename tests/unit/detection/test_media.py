from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from likeness_ledger.detection import media
from likeness_ledger.detection.models import MediaKind

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
FLAC = next(iter(sorted((SHARED / "media" / "voice").rglob("*.flac"))))


def make_video(path: Path, scenes: list[np.ndarray], seconds_each: float, fps: int = 10) -> Path:
    """A small MPEG-4 video showing each image for ``seconds_each``."""
    h, w = scenes[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        i = 0
        for img in scenes:
            for _ in range(round(seconds_each * fps)):
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                frame.pts = i
                i += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_kind_comes_from_content(tmp_path: Path, media_dir: Path) -> None:
    assert media.sniff(media_dir / "obama_ref.jpg") is MediaKind.IMAGE
    assert media.sniff(FLAC) is MediaKind.AUDIO
    img = cv2.imread(str(media_dir / "obama_ref.jpg"))
    png = tmp_path / "x.mp4"  # a PNG under a video name is still an image
    cv2.imwrite(str(tmp_path / "x.png"), img)
    png.write_bytes((tmp_path / "x.png").read_bytes())
    assert media.sniff(png) is MediaKind.IMAGE
    webp = tmp_path / "x.webp"
    cv2.imwrite(str(webp), img)
    assert media.sniff(webp) is MediaKind.IMAGE
    assert media.load_image(webp).shape == img.shape


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty file (0 bytes)"),
        (
            "notes.mp4",
            b"just some text\n" * 20,
            "not a supported image, video or audio file (it is text, not what the name .mp4 suggests)",
        ),
        # FFmpeg would open this one by its name, as a one-frame JPEG "video".
        (
            "notes.jpg",
            b"hello",
            "not a supported image, video or audio file (it is text, not what the name .jpg suggests)",
        ),
        ("noise", bytes(range(256)) * 4, "not a supported image, video or audio file (unrecognised content)"),
        (
            "cut.mp4",
            b"\x00\x00\x00\x20ftypisom" + bytes(200),
            "video or audio file is truncated or corrupt (MP4/MOV data cannot be read: invalid data)",
        ),
    ],
)
def test_bad_files_say_why(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(media.MediaError) as err:
        media.sniff(path)
    assert err.value.message == message


def _encoded(media_dir: Path, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, cv2.imread(str(media_dir / "obama_ref.jpg")))
    assert ok
    return buf.tobytes()


def _garbled(data: bytes, start: int) -> bytes:
    out = bytearray(data)
    for i in range(start, len(out), 7):
        out[i] = (out[i] * 31 + 17) % 256
    return bytes(out)


@pytest.mark.parametrize(
    ("ext", "damage", "message"),
    [
        (".jpg", "half", "image is truncated or corrupt (JPEG data ends early)"),
        (".jpg", "header", "image is truncated or corrupt (JPEG header cannot be read)"),
        (".jpg", "garbled", "image is truncated or corrupt (JPEG data is damaged)"),
        (".png", "half", "image is truncated or corrupt (PNG data ends early)"),
        (".png", "header", "image is truncated or corrupt (PNG data ends early)"),
        (".png", "garbled", "image is truncated or corrupt (PNG data is damaged)"),
        (".webp", "half", "image is truncated or corrupt (WebP data cannot be decoded)"),
        (".webp", "garbled", "image is truncated or corrupt (WebP data is damaged)"),
    ],
)
def test_damaged_images_say_what_is_wrong(media_dir: Path, ext: str, damage: str, message: str) -> None:
    data = _encoded(media_dir, ext)
    bad = {
        "half": data[: len(data) // 2],
        "header": data[:20],
        "garbled": _garbled(data, 40 if ext == ".webp" else 600),
    }
    with pytest.raises(media.MediaError) as err:
        media.load_image(bad[damage])
    assert err.value.message == message


def test_image_too_large_says_so(monkeypatch: pytest.MonkeyPatch, media_dir: Path) -> None:
    monkeypatch.setattr(media, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(media.MediaError, match=r"^image too large \(400x\d+; at most 0 million pixels\)$"):
        media.load_image(media_dir / "obama_ref.jpg")


def test_undecodable_video_says_where_decoding_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Cutting a real file makes FFmpeg fail only at some cut points (elsewhere it just stops early),
    # so the decoder's error is raised here on the fifth frame decoded (0.4 s at 10 fps).
    video = make_video(tmp_path / "v.mp4", [np.full((72, 128, 3), 30, dtype=np.uint8)], seconds_each=1.0)
    thumbnail, seen = media._thumbnail, []

    def failing(frame: Any) -> Any:
        seen.append(frame)
        if len(seen) == 5:
            raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        return thumbnail(frame)

    monkeypatch.setattr(media, "_thumbnail", failing)
    with pytest.raises(media.MediaError) as err:
        list(media.video_frames(video, all_frames=True))
    assert err.value.message == "video is truncated or corrupt (decoding failed after 0.4 s: invalid data)"


def test_video_frames_end_where_the_last_frame_stops_showing(tmp_path: Path) -> None:
    a = np.full((72, 128, 3), 30, dtype=np.uint8)
    video = make_video(tmp_path / "v.mp4", [a], seconds_each=2.3)
    for all_frames in (False, True):
        frames = media.video_frames(video, all_frames=all_frames)
        assert frames.end is None
        times = [f.time for f in frames]
        assert times[-1] < 2.3 and frames.end == pytest.approx(2.3)


def test_video_sampling_follows_scene_changes(tmp_path: Path) -> None:
    a = np.full((72, 128, 3), 30, dtype=np.uint8)
    b = np.full((72, 128, 3), 220, dtype=np.uint8)
    video = make_video(tmp_path / "v.mp4", [a, b], seconds_each=1.5)
    assert media.sniff(video) is MediaKind.VIDEO
    frames = list(media.video_frames(video))
    times = [f.time for f in frames]
    # Only the first frame and the cut start a scene (face tracks are reset there).
    cuts = [f.time for f in frames if f.cut]
    assert len(cuts) == 2 and cuts[0] == 0.0 and abs(cuts[1] - 1.5) < 0.05
    # First frame, the cut at 1.5 s, and at least one frame per MAX_GAP within each scene.
    assert times[0] == 0.0
    assert any(abs(t - 1.5) < 0.05 for t in times)
    assert max(np.diff(times)) <= media.MAX_GAP + 0.11
    assert len(times) < 30
    assert len(list(media.video_frames(video, all_frames=True))) == 30


def test_video_sampling_is_capped_when_every_frame_is_a_cut(tmp_path: Path) -> None:
    # Every frame differs from the one before (a strobe): without the cap all 30 would be analysed.
    a = np.full((72, 128, 3), 30, dtype=np.uint8)
    b = np.full((72, 128, 3), 220, dtype=np.uint8)
    video = make_video(tmp_path / "strobe.mp4", [a, b] * 15, seconds_each=0.1)
    frames = list(media.video_frames(video))
    times = [f.time for f in frames]
    assert min(np.diff(times)) >= media.MIN_GAP - 1e-6
    assert len(frames) <= 3.0 / media.MIN_GAP + 1
    # An analysed frame is a cut exactly when it shows the other picture than the last analysed one.
    shows = [int(np.mean(f.image)) > 125 for f in frames]
    assert [f.cut for f in frames[1:]] == [a != b for a, b in itertools.pairwise(shows)]
    assert any(f.cut for f in frames[1:])
    assert len(list(media.video_frames(video, all_frames=True))) == 30


def test_sampling_skips_frames_nothing_refers_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An H.264 encode with B-frames: sampling never decodes them, and still finds the cut and keeps MAX_GAP.
    path, fps = tmp_path / "b.mp4", 25
    y, x = np.mgrid[0:72, 0:128]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 128, 72, "yuv420p"
        # No B-pyramid: then every B-frame is one that no other frame refers to.
        stream.options = {"preset": "veryfast", "b-pyramid": "none"}
        stream.time_base = Fraction(1, fps)
        for i in range(3 * fps):
            # A small square moving right on a flat background, which is brighter after the cut at 1.5 s.
            grey = np.where((abs(x - 20 - i) < 8) & (abs(y - 36) < 8), 250, 60 if i < 1.5 * fps else 160)
            frame = av.VideoFrame.from_ndarray(np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2), format="bgr24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    kinds: list[str] = []
    thumbnail = media._thumbnail

    def seen(frame: Any) -> Any:
        kinds.append("B" if frame.pict_type == av.video.frame.PictureType.B else "IP")
        return thumbnail(frame)

    monkeypatch.setattr(media, "_thumbnail", seen)
    every = list(media.video_frames(path, all_frames=True))
    assert len(every) == 3 * fps and kinds.count("B") > fps  # the encode has B-frames
    kinds.clear()
    frames = list(media.video_frames(path))
    assert kinds and "B" not in kinds
    cuts = [f.time for f in frames if f.cut]
    assert cuts[0] == 0.0 and len(cuts) == 2 and abs(cuts[1] - 1.5) <= 0.2
    assert max(np.diff([f.time for f in frames])) <= media.MAX_GAP + 0.2


def test_audio_is_mono_16k() -> None:
    samples = media.audio_samples(FLAC)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert 1 * media.VOICE_RATE < samples.size < 60 * media.VOICE_RATE
    assert float(np.abs(samples).max()) <= 1.0


def test_prefetched_passes_frames_errors_and_stops_early() -> None:
    def frames(n: int, fail: bool) -> Iterator[media.Frame]:
        for i in range(n):
            yield media.Frame(float(i), np.zeros((2, 2, 3), dtype=np.uint8))
        if fail:
            raise media.MediaError("video cannot be decoded (boom)")

    assert [f.time for f in media.prefetched(frames(20, False), depth=2)] == [float(i) for i in range(20)]
    with pytest.raises(media.MediaError, match="boom"):
        list(media.prefetched(frames(3, True)))
    closed: list[bool] = []

    def endless() -> Iterator[media.Frame]:
        try:
            while True:
                yield media.Frame(0.0, np.zeros((2, 2, 3), dtype=np.uint8))
        finally:
            closed.append(True)

    stream = media.prefetched(endless(), depth=2)
    next(stream)
    stream.close()  # the consumer stops: the producer thread ends and closes its source
    assert closed == [True]
