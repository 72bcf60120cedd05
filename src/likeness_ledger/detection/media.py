"""Reading media: sniffing the kind from the bytes, decoding images, sampling video frames, audio.

The kind comes from the content, never from the file name, so a text file named ``.mp4`` is refused
with a clear message instead of confusing a decoder. Images are decoded with Pillow, which refuses
truncated files (OpenCV would silently return a half-grey picture); video and audio with PyAV.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import queue
import threading
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from likeness_ledger.detection.models import MediaKind
from likeness_ledger.errors import InvalidInput

# Largest image accepted, in pixels (Pillow's decompression-bomb guard is 89 Mpx; half of it is ample).
MAX_IMAGE_PIXELS = 45_000_000
VOICE_RATE = 16_000

# Scene-change sampling: a frame is analysed when its coarse grey thumbnail differs from the last
# analysed one by more than SCENE_DIFF (mean absolute difference, 0-255), and in any case every
# MAX_GAP seconds, so a face on screen for 2 s is seen at least twice.
SCENE_DIFF = 12.0
MAX_GAP = 1.0
# ... but never more often than every MIN_GAP seconds: fast pans or flashes can push every frame
# over SCENE_DIFF, and analysing all 25-60 frames a second would make a scan's time unbounded
# (each analysed frame costs a detection, and a cut makes every face in it be identified anew).
# A cut closer than MIN_GAP to the last analysed frame is analysed MIN_GAP after it instead, still
# as a cut. At most 1 / MIN_GAP analysed frames a second; MAX_GAP's guarantee is unchanged.
MIN_GAP = 0.25
# Sampling does not decode non-reference frames (B-frames no other frame is predicted from; H.264
# encoders put 1-3 of them between reference frames): nothing depends on them, so skipping them
# loses no other frame, and decoding a B-frame encode got ~30 % cheaper here (x264 "veryfast", 720p:
# 1.6 -> 1.15 s of CPU per minute). Should the decoded frames then be more than MIN_GAP apart (a
# stream made mostly of non-reference frames), every frame is decoded from there on.
# The thumbnail is the luma plane sampled every THUMB_STEP pixels (720p: 180x320 points). Reading the
# decoder's Y plane directly costs a tenth of asking FFmpeg's scaler for a thumbnail of every frame,
# which was a third of the decoding time; point sampling is enough to see a cut.
THUMB_STEP = 4
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class MediaError(InvalidInput):
    """A file that cannot be read as the media it claims to be; the message says why."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded video frame (BGR), its time in seconds, and whether it starts a new scene."""

    time: float
    image: npt.NDArray[np.uint8]
    cut: bool = False


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

    kind: MediaKind | None = None
    try:
        with av.open(str(path)) as container:
            if container.format.name == "image2" and _named_like_an_image(container):
                # FFmpeg's image demuxer goes by the file name alone: a ".jpg" that is no JPEG.
                raise_unknown = True
            else:
                raise_unknown = False
                if container.streams.video and _real_video(container):
                    kind = MediaKind.VIDEO
                elif container.streams.audio:
                    kind = MediaKind.AUDIO
    except av.FFmpegError as exc:
        raise MediaError(_unreadable(head, path, exc)) from exc
    except (ValueError, OSError) as exc:
        raise MediaError(f"not a supported image, video or audio file ({exc})") from exc
    if raise_unknown:
        raise MediaError(f"not a supported image, video or audio file ({_unknown_content(head, path)})")
    if kind is None:
        raise MediaError("no video or audio stream in the file")
    return kind


# Container signatures: (offset, bytes, name). A file that starts like one of these but that FFmpeg
# cannot open is a damaged video or audio file, not an unsupported one.
_CONTAINER_MAGIC = (
    (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"OggS", "Ogg"),
    (0, b"fLaC", "FLAC"),
    (0, b"ID3", "MP3"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG"),
)


def _container_name(head: bytes) -> str | None:
    if head[:4] == b"RIFF":
        return {b"AVI ": "AVI", b"WAVE": "WAV"}.get(head[8:12])
    for offset, magic, name in _CONTAINER_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _unknown_content(head: bytes, path: Path) -> str:
    """Why content with no known signature is refused, in a few words."""
    text = all((b >= 0x20 and b != 0x7F) or b in b"\t\n\r" for b in head)  # ASCII or UTF-8, no control bytes
    what = "it is text" if text else "unrecognised content"
    suffix = path.suffix.lower()
    return f"{what}, not what the name {suffix} suggests" if suffix else what


def _unreadable(head: bytes, path: Path, exc: Exception) -> str:
    """The message for a file FFmpeg cannot open."""
    container = _container_name(head)
    if container is not None:
        return f"video or audio file is truncated or corrupt ({container} data cannot be read: {_av_reason(exc)})"
    return f"not a supported image, video or audio file ({_unknown_content(head, path)})"


def _av_reason(exc: Exception) -> str:
    """FFmpeg's error in plain words."""
    import av  # noqa: PLC0415

    if isinstance(exc, av.InvalidDataError):
        return "invalid data"
    if isinstance(exc, EOFError):
        return "data ends early"
    return str(getattr(exc, "strerror", None) or exc).lower()


def _named_like_an_image(container: Any) -> bool:
    # The codec FFmpeg's image demuxer took from the name is one whose content is_image_header knows.
    streams = container.streams.video
    return bool(streams) and streams[0].codec_context.name in {"mjpeg", "png", "webp"}


def _real_video(container: Any) -> bool:
    # An MP3 or FLAC with cover art shows up as a one-picture "video" stream.
    stream = container.streams.video[0]
    return not (stream.disposition & 1024 or (stream.frames == 1 and container.streams.audio))  # attached_pic


def _image_kind(raw: bytes) -> str:
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw.startswith(b"\x89PNG"):
        return "PNG"
    return "WebP"


def _image_problem(kind: str, exc: Exception) -> str:
    """Pillow's error for a damaged image, in plain words."""
    text = str(exc)
    if isinstance(exc, UnidentifiedImageError):
        return f"image is truncated or corrupt ({kind} header cannot be read)"
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return f"image is truncated or corrupt ({kind} data ends early)"
    if "broken data stream" in text or "unrecognized data stream" in text or "failed to read" in text:
        return f"image is truncated or corrupt ({kind} data is damaged)"
    if "decoder object" in text or "decoder error" in text or "crc" in text.lower():
        return f"image is truncated or corrupt ({kind} data cannot be decoded)"
    return f"image cannot be decoded ({kind}: {text})"


def load_image(data: bytes | Path) -> npt.NDArray[np.uint8]:
    """Decode a JPEG, PNG or WebP image to BGR; truncated or corrupt files raise MediaError."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if not raw:
        raise MediaError("empty file (0 bytes)")
    if not is_image_header(raw[:16]):
        raise MediaError("not a JPEG, PNG or WebP image")
    kind = _image_kind(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise MediaError(_too_large(img.width, img.height))
                img.load()
                rgb = img.convert("RGB")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(f"image too large ({kind} over {MAX_IMAGE_PIXELS // 1_000_000} million pixels)") from exc
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(_image_problem(kind, exc)) from exc
    arr = np.asarray(rgb, dtype=np.uint8)
    return np.ascontiguousarray(arr[:, :, ::-1])


def _too_large(width: int, height: int) -> str:
    return f"image too large ({width}x{height}; at most {MAX_IMAGE_PIXELS // 1_000_000} million pixels)"


def _thumbnail(frame: Any) -> npt.NDArray[np.int16]:
    """A coarse grey picture of the frame for cut detection, straight from the Y plane when there is one."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
    else:
        luma = frame.reformat(format="gray").to_ndarray()
    return np.asarray(luma[::THUMB_STEP, ::THUMB_STEP], dtype=np.int16)


def video_frames(path: Path, *, all_frames: bool = False) -> VideoFrames:
    """Frames to analyse: on scene changes (at most every MIN_GAP s) and at least every MAX_GAP s, or every frame.

    Every frame other frames refer to is decoded (a face can appear between key frames, which H.264
    encoders may put 10 s apart); when sampling, frames nothing refers to are not (see above). Only
    analysed frames are converted to BGR. Once read to the end, the iterator's ``end`` is the time the
    video's last frame stops showing.
    """
    return VideoFrames(path, all_frames=all_frames)


class VideoFrames(Iterator[Frame]):
    """:func:`video_frames`' iterator: the analysed frames, then ``end`` (seconds) set.

    ``end`` is the latest time any frame of the stream shows until, decoded or not: each packet's
    presentation time plus its duration (every packet is read, so skipped frames count too), or a
    decoded frame's time plus its duration where packets lack them. It is ``None`` until the
    iterator is exhausted, or if the stream gave no times at all.
    """

    def __init__(self, path: Path, *, all_frames: bool = False) -> None:
        self.end: float | None = None
        self._decoded_to: float | None = None  # the last decoded frame's time, for error messages
        self._frames = self._decode(path, all_frames)

    def __next__(self) -> Frame:
        return next(self._frames)

    def close(self) -> None:
        """Stop decoding and close the file (the generator's ``close``)."""
        self._frames.close()

    def _decode(self, path: Path, all_frames: bool) -> Generator[Frame, None, None]:
        import av  # noqa: PLC0415

        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                time_base = stream.time_base
                rate = stream.average_rate
                skipping = not all_frames
                if skipping:
                    stream.codec_context.skip_frame = "NONREF"
                last_thumb: npt.NDArray[np.int16] | None = None
                last_time = previous = -1e9
                end: float | None = None
                for packet in container.demux(stream):
                    if packet.pts is not None and packet.duration and time_base is not None:
                        shown = float((packet.pts + packet.duration) * time_base)
                        end = shown if end is None else max(end, shown)
                    for frame in packet.decode():
                        t = float(frame.time) if frame.time is not None else 0.0
                        step = float(frame.duration * time_base) if frame.duration and time_base is not None else 0.0
                        if not step and rate:
                            step = float(1 / rate)
                        end = t + step if end is None else max(end, t + step)
                        if skipping and last_thumb is not None and t - previous > MIN_GAP:
                            stream.codec_context.skip_frame = "DEFAULT"
                            skipping = False
                        previous = self._decoded_to = t
                        if not all_frames and last_thumb is not None and t - last_time < MIN_GAP:
                            continue  # too soon after the last analysed frame; a cut here is seen at MIN_GAP
                        thumb = _thumbnail(frame)
                        cut = (
                            last_thumb is None
                            or thumb.shape != last_thumb.shape
                            or float(np.mean(np.abs(thumb - last_thumb))) > SCENE_DIFF
                        )
                        if all_frames or cut or t - last_time >= MAX_GAP:
                            if cut or not all_frames:
                                last_thumb, last_time = thumb, t
                            yield Frame(t, np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8), cut=cut)
                self.end = end
        except av.FFmpegError as exc:
            where = f"after {self._decoded_to:.1f} s" if self._decoded_to is not None else "before the first frame"
            raise MediaError(f"video is truncated or corrupt (decoding failed {where}: {_av_reason(exc)})") from exc


_DONE = object()
T = TypeVar("T")


def prefetched(frames: Iterator[T], depth: int = 8) -> Iterator[T]:
    """``frames`` (any items) produced by a background thread, ``depth`` ahead of the consumer.

    Decoding a video is a fifth of a scan's CPU time; in its own thread it overlaps with detection
    and embedding (OpenCV releases the GIL), which on two cores takes it off the wall-clock time.
    Errors in the producer are raised in the consumer; a consumer that stops early stops the producer.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        # A bounded wait, so a consumer that went away (stop set) never leaves this thread blocked.
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                buffer.put(item, timeout=0.1)
                return True
        return False

    def produce() -> None:
        end: object = _DONE
        try:
            for frame in frames:
                if not put(frame):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            end = exc
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # closes the container here, in the thread that used it
        put(end)

    worker = threading.Thread(target=produce, name="video-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        stop.set()
        worker.join(timeout=5)


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
        raise MediaError(f"audio is truncated or corrupt (decoding failed: {_av_reason(exc)})") from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
