"""Reading media: sniffing the kind from the bytes, decoding images, sampling video frames, audio.

The kind comes from the content, never from the file name, so a text file named ``.mp4`` is refused
with a clear message instead of confusing a decoder. Images are decoded with Pillow, which refuses
truncated files (OpenCV would silently return a half-grey picture); video and audio with PyAV.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from likeness_ledger.detection.models import MediaKind
from likeness_ledger.errors import InvalidInput

# Largest image accepted, in pixels (Pillow's decompression-bomb guard is 89 Mpx; half of it is ample).
MAX_IMAGE_PIXELS = 45_000_000
VOICE_RATE = 16_000

# Scene-change sampling: a frame is analysed when its 64x36 grey thumbnail differs from the last
# analysed one by more than SCENE_DIFF (mean absolute difference, 0-255), and in any case every
# MAX_GAP seconds, so a face on screen for 2 s is seen at least twice.
SCENE_DIFF = 12.0
MAX_GAP = 1.0

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class MediaError(InvalidInput):
    """A file that cannot be read as the media it claims to be; the message says why."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded video frame (BGR) and its time in seconds."""

    time: float
    image: npt.NDArray[np.uint8]


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def is_image_header(head: bytes) -> bool:
    """JPEG, PNG or WebP by magic number."""
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def sniff(path: Path) -> MediaKind:
    """Decide image, video or audio from the file's content."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head:
        raise MediaError("empty file (0 bytes)")
    if is_image_header(head):
        return MediaKind.IMAGE
    import av  # noqa: PLC0415 - PyAV loads FFmpeg; only when there is a non-image to read

    try:
        with av.open(str(path)) as container:
            if container.streams.video and _real_video(container):
                return MediaKind.VIDEO
            if container.streams.audio:
                return MediaKind.AUDIO
    except av.FFmpegError as exc:
        raise MediaError(f"not a supported image, video or audio file ({exc.strerror or exc})") from exc
    except (ValueError, OSError) as exc:
        raise MediaError(f"not a supported image, video or audio file ({exc})") from exc
    raise MediaError("no video or audio stream in the file")


def _real_video(container: Any) -> bool:
    # An MP3 or FLAC with cover art shows up as a one-picture "video" stream.
    stream = container.streams.video[0]
    return not (stream.disposition & 1024 or (stream.frames == 1 and container.streams.audio))  # attached_pic


def load_image(data: bytes | Path) -> npt.NDArray[np.uint8]:
    """Decode a JPEG, PNG or WebP image to BGR; truncated or corrupt files raise MediaError."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if not raw:
        raise MediaError("empty file (0 bytes)")
    if not is_image_header(raw[:16]):
        raise MediaError("not a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise MediaError(f"image too large ({img.width}x{img.height})")
                img.load()
                rgb = img.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(f"image cannot be decoded ({exc})") from exc
    arr = np.asarray(rgb, dtype=np.uint8)
    return np.ascontiguousarray(arr[:, :, ::-1])


def video_frames(path: Path, *, all_frames: bool = False) -> Iterator[Frame]:
    """Frames to analyse: on scene changes and at least every MAX_GAP seconds, or every frame."""
    import av  # noqa: PLC0415

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            last_thumb: npt.NDArray[np.float32] | None = None
            last_time = -1e9
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else 0.0
                if all_frames:
                    yield Frame(t, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
                    continue
                # The thumbnail comes straight from FFmpeg's scaler; only analysed frames become BGR.
                thumb = np.asarray(
                    frame.reformat(width=64, height=36, format="gray").to_ndarray(), dtype=np.float32
                ).reshape(36, -1)[:, :64]
                changed = last_thumb is None or float(np.mean(np.abs(thumb - last_thumb))) > SCENE_DIFF
                if changed or t - last_time >= MAX_GAP:
                    last_thumb, last_time = thumb, t
                    yield Frame(t, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
    except av.FFmpegError as exc:
        raise MediaError(f"video cannot be decoded ({exc.strerror or exc})") from exc


def audio_samples(path: Path, rate: int = VOICE_RATE) -> npt.NDArray[np.float32]:
    """The first audio stream as mono float32 at ``rate`` Hz (empty when the file has none)."""
    import av  # noqa: PLC0415

    chunks: list[npt.NDArray[np.float32]] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return np.zeros(0, dtype=np.float32)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1).astype(np.float32))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32))
    except av.FFmpegError as exc:
        raise MediaError(f"audio cannot be decoded ({exc.strerror or exc})") from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
