"""Scanning one file: faces (and voices) against the gallery, with no database access.

:class:`Scanner` holds the gallery and the engines; :meth:`Scanner.scan` reads one file and returns
what is in it. Deciding cleared or unauthorized and recording findings needs the database and is
done by :mod:`likeness_ledger.detection.services`.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from likeness_ledger.detection import media, operating, voicebridge
from likeness_ledger.detection.face import EMBEDDING_DIM, as_bgr, dlib_embedder, face_engine
from likeness_ledger.detection.fingerprint import MIN_QUALITY, Pdq, pdq_of
from likeness_ledger.detection.index import GalleryIndex, make_index
from likeness_ledger.detection.models import MediaKind, Modality

# Detections of one performer in sampled frames less than this apart (seconds) form one segment.
SEGMENT_GAP = 2.5 * media.MAX_GAP
# Images are searched for faces on a copy scaled down by at most IMAGE_MAX_DOWNSCALE, to no less than
# IMAGE_DETECT_SIDE on the longer side (720p: 640x360, 4x fewer pixels, detection 84 -> 19 ms of CPU
# here), then embedded at full size. Halving keeps every face YuNet needs: on dlib's VOC face set
# (43 faces of 37-109 px) it found the same faces at half size as at full size. Faces under 37 px
# (under 18 px for the detector) were not in that set; dlib HOG's own floor is about 40 px.
IMAGE_DETECT_SIDE = 640
IMAGE_MAX_DOWNSCALE = 2
# Gallery entries looked at per face: the candidates whose fused score the cascade computes.
TOP_K = 10
# Video frames are searched for faces at this longer side (720p: 640x360), then embedded at full size;
# a face of 48 px in a 720p frame is still 24 px for the detector.
VIDEO_DETECT_SIDE = 640
# Tracking between analysed video frames: a face whose box overlaps (IoU >= TRACK_IOU) a face of the
# previous analysed frame, with no scene cut between, is taken to be the same face and keeps its
# identity instead of being embedded again (embedding is ~80 % of a video scan's time). The identity
# is refreshed every TRACK_REFRESH seconds and when the face grows by TRACK_GROWTH (a better view).
TRACK_IOU = 0.5
TRACK_REFRESH = 5.0
TRACK_GROWTH = 1.5
# Cascade, per face: first one SFace pass; only when its best gallery score is within FLIP_MARGIN of
# the lowest score dlib could still lift to the threshold is the mirrored pass added (the
# shipped SFace embedding, the one references and the threshold are made with). Over 23 M LFW pairs
# the mirror average moved a score by at most 0.099, so a face further below cannot reach it. Then
# dlib's ResNet only when the mirrored score lies in the fusion's band around the threshold.
FLIP_MARGIN = 0.12


@dataclass(frozen=True, slots=True)
class GalleryPerformer:
    """Who a gallery label stands for: the performer's id and external reference (union id)."""

    id: uuid.UUID
    ref: str | None


@dataclass
class Gallery:
    """Enrolled references by modality, ready to search, with the operating point for each."""

    performers: dict[uuid.UUID, GalleryPerformer]
    face: GalleryIndex
    face_threshold: float
    voice: GalleryIndex | None = None
    voice_threshold: float = 1.0
    voice_note: str | None = None
    # Per performer, their face references' SFace vectors and dlib vectors (rows), for the fused score.
    face_pairs: dict[uuid.UUID, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]] = field(default_factory=dict)
    fusion: operating.Fusion | None = None

    @classmethod
    def build(
        cls,
        performers: dict[uuid.UUID, GalleryPerformer],
        face_refs: Sequence[tuple[uuid.UUID, npt.NDArray[np.float32]]],
        voice_refs: Sequence[tuple[uuid.UUID, npt.NDArray[np.float32]]] = (),
        *,
        index_kind: str = "auto",
        target_fpir: float = operating.DEFAULT_FPIR,
    ) -> Gallery:
        """Index references ``(performer_id, vector)``; the face threshold follows the gallery size.

        A face vector is a reference's SFace and dlib embeddings, 256 floats
        (:func:`~likeness_ledger.detection.face.reference_embedding`); SFace's half is indexed and
        both halves are kept per performer for the cascade's fused score. A 128-float vector is
        SFace alone: its performer is then judged on SFace's score (no fusion possible).
        """
        face = make_index(EMBEDDING_DIM, len(face_refs), kind=index_kind)
        pairs: dict[uuid.UUID, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]] = {}
        if face_refs:
            vectors = [np.asarray(v, dtype=np.float32).reshape(-1) for _, v in face_refs]
            if any(len(v) not in (EMBEDDING_DIM, 2 * EMBEDDING_DIM) for v in vectors):
                raise ValueError(f"a face reference has {EMBEDDING_DIM} (SFace) or {2 * EMBEDDING_DIM} floats")
            face.add(np.stack([v[:EMBEDDING_DIM] for v in vectors]), [p for p, _ in face_refs])
            fused: dict[uuid.UUID, list[npt.NDArray[np.float32]]] = {}
            for (performer_id, _), v in zip(face_refs, vectors, strict=True):
                if len(v) == 2 * EMBEDDING_DIM:
                    fused.setdefault(performer_id, []).append(v)
            for performer_id, rows in fused.items():
                both = np.stack(rows)
                pairs[performer_id] = (both[:, :EMBEDDING_DIM], both[:, EMBEDDING_DIM:])
        voice: GalleryIndex | None = None
        voice_threshold = 1.0
        voice_note = None
        # Load the voice model only when someone is enrolled by voice (it takes seconds).
        backend = voicebridge.backend() if voice_refs else None
        if voice_refs and backend is None:
            voice_note = voicebridge.unavailable_reason()
        if backend is not None and voice_refs:
            voice = make_index(len(voice_refs[0][1]), len(voice_refs), kind=index_kind)
            voice.add(np.stack([v for _, v in voice_refs]), [p for p, _ in voice_refs])
            voice_threshold = backend.threshold(len(voice_refs))
        return cls(
            performers=performers,
            face=face,
            face_threshold=operating.face_threshold(len(face_refs), target_fpir),
            voice=voice,
            voice_threshold=voice_threshold,
            voice_note=voice_note,
            face_pairs=pairs,
            fusion=operating.fusion(),
        )


@dataclass
class FileScan:
    """What one file holds, before clearance: matches in the issue's JSON shape, plus its fingerprints."""

    path: str
    media: MediaKind | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    sha256: str | None = None
    pdq: Pdq | None = None
    size: tuple[int, int] | None = None  # image or frame width, height
    error: str | None = None
    voice_note: str | None = None


@dataclass(frozen=True, slots=True)
class _Track:
    """A face followed across analysed video frames, with the identity found when it was last embedded."""

    box: tuple[int, int, int, int]
    label: uuid.UUID | None
    score: float
    embedded_at: float
    embedded_area: int


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _performer_json(p: GalleryPerformer) -> dict[str, Any]:
    return {"id": str(p.id), "ref": p.ref}


class Scanner:
    """Scans files against one gallery."""

    def __init__(self, gallery: Gallery, *, all_frames: bool = False) -> None:
        self.gallery = gallery
        self.all_frames = all_frames

    # --- faces ---------------------------------------------------------------------------------

    def _best(self, index: GalleryIndex, vectors: npt.NDArray[np.float32], threshold: float) -> list[tuple[Any, float]]:
        """Top gallery performer per query vector, or None below the threshold."""
        out: list[tuple[Any, float]] = []
        for hits in index.search(vectors, TOP_K):
            if hits and hits[0].score >= threshold:
                out.append((hits[0].label, hits[0].score))
            else:
                out.append((None, hits[0].score if hits else 0.0))
        return out

    def faces_in(
        self, image: npt.NDArray[np.uint8], *, detect_max_side: int | None = None
    ) -> list[tuple[uuid.UUID, float, tuple[int, int, int, int]]]:
        """``(performer_id, score, box)`` for every face in the image that matches the gallery.

        ``detect_max_side`` defaults to the image rule (IMAGE_DETECT_SIDE, IMAGE_MAX_DOWNSCALE).
        """
        if len(self.gallery.face) == 0:
            return []
        engine = face_engine()
        image = as_bgr(image)
        if detect_max_side is None:
            detect_max_side = max(IMAGE_DETECT_SIDE, -(-max(image.shape[:2]) // IMAGE_MAX_DOWNSCALE))
        out = []
        for row in engine.detect(image, detect_max_side=detect_max_side):
            label, score = self.identify(image, row)
            if label is not None:
                out.append((label, score, engine.box_of(row, image)))
        out.sort(key=lambda m: m[2][2] * m[2][3], reverse=True)
        return out

    def _image(self, path: Path, result: FileScan) -> None:
        image = media.load_image(path)
        result.size = (int(image.shape[1]), int(image.shape[0]))
        result.pdq = pdq_of(image)
        for performer_id, score, box in self.faces_in(image):
            result.matches.append(
                {
                    "performer": _performer_json(self.gallery.performers[performer_id]),
                    "modality": Modality.FACE.value,
                    "score": round(score, 4),
                    "box": list(box),
                }
            )

    def identify(self, image: npt.NDArray[np.uint8], row: npt.NDArray[np.float32]) -> tuple[uuid.UUID | None, float]:
        """Best gallery performer (None below the threshold) and its score for one detected face.

        The cascade (:class:`~likeness_ledger.detection.operating.Fusion`): one SFace pass; the
        mirrored pass when the face may still reach the band (FLIP_MARGIN); dlib only when the
        mirrored SFace score lies in the band ``[threshold - lift, threshold + drop)``. There every
        candidate performer within reach gets the cascade score over their references and the best
        one decides. Above the band SFace alone accepts; below it nothing can match. A performer
        whose references hold SFace alone (128 floats) is judged on SFace's score.
        """
        engine = face_engine()
        gallery = self.gallery
        index, threshold = gallery.face, gallery.face_threshold
        fusion = gallery.fusion or operating.fusion()
        floor = threshold - fusion.lift
        crop = engine.align(image, row)
        single = engine.embed_single(crop)
        hits = index.search(single[None, :], 1)[0]
        if not hits or hits[0].score < floor - FLIP_MARGIN:
            return None, hits[0].score if hits else 0.0
        sface = engine.embed(crop, single)
        hits = index.search(sface[None, :], TOP_K)[0]
        best = hits[0]
        if best.score - fusion.drop >= threshold:
            # Accepted whatever dlib says; s - drop is the cascade score's lower bound.
            return best.label, best.score - fusion.drop
        candidates: dict[Any, float] = {}
        for h in hits:
            if h.score >= floor and h.label not in candidates:
                candidates[h.label] = h.score  # hits come best first: a performer's best reference
        if not candidates:
            return None, best.score
        probe = dlib_embedder().embed(image, row) if any(c in gallery.face_pairs for c in candidates) else None
        scored = []
        for label, sface_score in candidates.items():
            if probe is not None and label in gallery.face_pairs:
                refs_sface, refs_dlib = gallery.face_pairs[label]
                scored.append((float(np.max(fusion.score(refs_sface @ sface, refs_dlib @ probe))), label))
            else:
                scored.append((sface_score, label))
        score, label = max(scored, key=lambda x: x[0])
        return (label if score >= threshold else None), score

    def _detected(self, frames: Iterator[media.Frame]) -> Iterator[tuple[media.Frame, list[npt.NDArray[np.float32]]]]:
        """Each analysed frame with YuNet's rows for it (none when no face is enrolled).

        Run inside :func:`media.prefetched`'s thread, detection overlaps with the consumer's
        embedding instead of adding to it: on two cores the decoding thread had time to spare
        (benchmark video, per minute of 720p: decoding ~1.2 s of CPU, SFace and dlib ~2.3 s, YuNet
        ~0.6 s). dlib holds the GIL while it runs, stalling the decoding thread meanwhile, so the
        gain is less than YuNet's time: 15.4-17.6 -> 13.2-14.3 s per 300 s (docs/benchmarks.md).
        """
        engine = face_engine() if len(self.gallery.face) else None
        try:
            for frame in frames:
                rows = [] if engine is None else engine.detect(frame.image, detect_max_side=VIDEO_DETECT_SIDE)
                yield frame, rows
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # the decoder's container is closed in the thread that used it

    def _track_faces(
        self, frame: media.Frame, rows: list[npt.NDArray[np.float32]], tracks: list[_Track]
    ) -> list[_Track]:
        """Faces in an analysed frame, each reusing the identity of the track it continues where it can."""
        engine = face_engine()
        out: list[_Track] = []
        free = [] if frame.cut else list(tracks)
        for row in rows:
            box = engine.box_of(row, frame.image)
            area = box[2] * box[3]
            prev = max(free, key=lambda t: iou(t.box, box), default=None)
            if prev is not None and iou(prev.box, box) >= TRACK_IOU:
                free.remove(prev)
                if frame.time - prev.embedded_at < TRACK_REFRESH and area <= TRACK_GROWTH * prev.embedded_area:
                    out.append(_Track(box, prev.label, prev.score, prev.embedded_at, prev.embedded_area))
                    continue
            label, score = self.identify(frame.image, row)
            out.append(_Track(box, label, score, frame.time, area))
        return out

    def _video(self, path: Path, result: FileScan, progress: Callable[[float], None] | None) -> None:
        sightings: list[tuple[uuid.UUID, float, float]] = []
        analysed: list[float] = []  # every analysed frame's time, in order
        best_frame: tuple[float, npt.NDArray[np.uint8]] | None = None
        first: npt.NDArray[np.uint8] | None = None
        tracks: list[_Track] = []
        frames = media.video_frames(path, all_frames=self.all_frames)
        for frame, rows in media.prefetched(self._detected(frames)):
            analysed.append(frame.time)
            if first is None:
                first = frame.image
                result.size = (int(frame.image.shape[1]), int(frame.image.shape[0]))
            if len(self.gallery.face):
                tracks = self._track_faces(frame, rows, tracks)
            for track in tracks:
                if track.label is None:
                    continue
                sightings.append((track.label, frame.time, track.score))
                if best_frame is None or track.score > best_frame[0]:
                    best_frame = (track.score, frame.image)
            if progress is not None:
                progress(frame.time)
        if first is None:
            raise media.MediaError("video has no decodable frames")
        # The frame with the strongest match stands for the video in staydown checks.
        key_frame = best_frame[1] if best_frame is not None else first
        pdq = pdq_of(key_frame)
        result.pdq = pdq if pdq.quality >= MIN_QUALITY else None
        analysed.sort()
        result.matches.extend(self._segments(sightings, Modality.FACE, analysed, frames.end))
        self._voice(path, result)

    def _voice(self, path: Path, result: FileScan) -> None:
        result.voice_note = self.gallery.voice_note
        if self.gallery.voice is None or len(self.gallery.voice) == 0:
            return
        backend = voicebridge.backend()
        if backend is None:
            return
        samples = media.audio_samples(path, backend.sample_rate)
        if samples.size == 0:
            return
        windows = backend.segments(samples, backend.sample_rate)
        if not windows:
            return
        best = self._best(self.gallery.voice, np.stack([v for _, _, v in windows]), self.gallery.voice_threshold)
        by_performer: dict[uuid.UUID, list[tuple[float, float, float]]] = {}
        for (start, end, _), (label, score) in zip(windows, best, strict=True):
            if label is not None:
                by_performer.setdefault(label, []).append((start, end, score))
        for performer_id, spans in by_performer.items():
            for start, end, score in backend.merge(spans, self.gallery.voice_threshold):
                result.matches.append(self._segment(performer_id, Modality.VOICE, score, start, end))
        result.matches.sort(key=lambda m: (m.get("start", 0.0), m["modality"], m["performer"]["id"]))

    def _segments(
        self,
        sightings: list[tuple[uuid.UUID, float, float]],
        modality: Modality,
        analysed: Sequence[float],
        video_end: float | None,
    ) -> list[dict[str, Any]]:
        """Merge per-frame sightings into segments per performer.

        Sightings less than SEGMENT_GAP apart are one segment. It starts at its first sighting and
        ends when the performer was first no longer seen: at the next analysed frame after its last
        sighting (``analysed``: every analysed frame's time, sorted), or at ``video_end`` when there
        is none. The face may have been on screen until then, so the segment never ends early. A
        cut is always analysed (at most MIN_GAP after it), so a face that leaves at a cut ends
        there; one that leaves within a scene ends at most MAX_GAP late.
        """

        def left_at(last: float) -> float:
            i = bisect.bisect_right(analysed, last)
            if i < len(analysed):
                return analysed[i]
            return max(last, video_end) if video_end is not None else last

        out: list[dict[str, Any]] = []
        by_performer: dict[uuid.UUID, list[tuple[float, float]]] = {}
        for performer_id, t, score in sightings:
            by_performer.setdefault(performer_id, []).append((t, score))
        for performer_id, seen in by_performer.items():
            seen.sort()
            start, last, best = seen[0][0], seen[0][0], seen[0][1]
            for t, score in seen[1:]:
                if t - last > SEGMENT_GAP:  # gaps are measured between sightings
                    out.append(self._segment(performer_id, modality, best, start, left_at(last)))
                    start, best = t, score
                last = t
                best = max(best, score)
            out.append(self._segment(performer_id, modality, best, start, left_at(last)))
        out.sort(key=lambda m: (m["start"], m["performer"]["id"]))
        return out

    def _segment(
        self, performer_id: uuid.UUID, modality: Modality, score: float, start: float, end: float
    ) -> dict[str, Any]:
        return {
            "performer": _performer_json(self.gallery.performers[performer_id]),
            "modality": modality.value,
            "score": round(score, 4),
            "start": round(start, 2),
            "end": round(end, 2),
        }

    # --- entry point ---------------------------------------------------------------------------

    def scan(
        self, path: Path, *, label: str | None = None, progress: Callable[[float], None] | None = None
    ) -> FileScan:
        """Scan one file; a file that cannot be read gives a result with ``error`` set, never raises."""
        result = FileScan(path=label or str(path))
        try:
            result.sha256 = media.sha256_file(path)
            result.media = media.sniff(path)
            if result.media is MediaKind.IMAGE:
                self._image(path, result)
            elif result.media is MediaKind.VIDEO:
                self._video(path, result, progress)
            else:
                self._voice(path, result)
        except media.MediaError as exc:
            result.error = exc.message
            result.matches = []
        except OSError as exc:
            result.error = f"cannot read the file ({exc.strerror or exc})"
            result.matches = []
        return result
