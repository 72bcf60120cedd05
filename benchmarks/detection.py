"""Benchmark and calibrate face detection on LFW (../shared/media/lfw).

Sub-commands (each prints JSON; ``all`` runs them in order and writes the calibration file):

  embed       detect + embed every LFW image once (YuNet + SFace), cached under --cache
  embed-dlib  dlib ResNet (5-point alignment on the same YuNet face) for every LFW image, cached;
              --shard K/N splits the work over N processes (then run it once without --shard)
  calibrate   fusion of SFace and dlib (logistic regression) and the cascade score's impostor tail,
              from identities NOT used by ``openset`` -> the package's
              ``detection/data/face_impostor_tail.json`` (the threshold rule reads it)
  openset     open-set identification: 60 people enrolled from one photo each, two other photos of
              each as probes, 200 photos of other people as distractors (never enrolled). Reports
              FPIR/TPIR of the cascade at our operating point, of SFace alone, and the best threshold
  splits      the open-set protocol on --splits more random splits, each calibrated on its own
              disjoint identities, pooled (200 distractors per split is too few for a 1 % rate alone)
  cohort-norm T-, Z- and S-norm against a cohort of --cohort calibration people vs raw scores, on the
              default split and --splits more (evaluated, not shipped: see docs/detection.md)
  verify      LFW View 2 10-fold verification accuracy and TAR at FAR 0.1%: SFace, dlib, fused, and
              the shipped cascade (fusion fitted on the 9 training folds of each fold)
  speed       the whole scan decision per image (detect, embed, cascade, match) against the
              ``face_recognition`` library's pipeline (dlib HOG + 5-point + ResNet, tolerance 0.6),
              same images, same run: LFW open-set images and a 1280x720 photo; CPU and wall time
  video       a synthetic 720p H.264 video from LFW photos (--video-seconds): scan time, appearances found,
              CPU other processes used meanwhile; needs only its 60 gallery photos embedded (from the
              caches above when they exist, else computed the same way)

Usage: .venv/bin/python benchmarks/detection.py all [--cache bench-data/detection] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from likeness_ledger.detection import operating
from likeness_ledger.detection.face import (
    DLIB_MODEL_NAME,
    FUSED_MODEL_NAME,
    MODEL_NAME,
    dlib_embedder,
    face_engine,
)

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
    paths, data = _embedded(cache)
    return paths, data["vectors"], data["found"]


def _embedded(cache: Path) -> tuple[list[Path], dict[str, np.ndarray]]:
    """Per LFW image: YuNet row of the centre face, SFace single-pass and mirror-averaged vectors."""
    cache.mkdir(parents=True, exist_ok=True)
    npz = cache / f"lfw_{MODEL_NAME}.npz"
    paths = lfw_images()
    names = [str(p.relative_to(LFW)) for p in paths]
    if npz.exists():
        data = np.load(npz, allow_pickle=False)
        if list(data["names"]) == names and "rows" in data:
            return paths, {k: data[k] for k in data.files}
    engine = face_engine()
    vectors = np.zeros((len(paths), 128), dtype=np.float32)
    single = np.zeros((len(paths), 128), dtype=np.float32)
    rows = np.zeros((len(paths), 15), dtype=np.float32)
    found = np.zeros(len(paths), dtype=bool)
    t0 = time.perf_counter()
    for i, path in enumerate(paths):
        img = cv2.imread(str(path))
        row = _centre_row(img)
        if row is not None:
            crop = engine.align(img, row)
            single[i] = engine.embed_single(crop)
            vectors[i] = engine.embed(crop, single[i])
            rows[i] = row
            found[i] = True
        if i % 500 == 0:
            print(f"embed {i}/{len(paths)} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    out = {"names": np.array(names), "vectors": vectors, "single": single, "rows": rows, "found": found}
    np.savez(npz, **out)  # type: ignore[arg-type]
    return paths, out


def _centre_row(img: np.ndarray) -> np.ndarray | None:
    """YuNet's row of the face nearest the image centre (LFW centres the named person), if any."""
    detected = face_engine().detect(img)
    if not detected:
        return None
    cy, cx = img.shape[0] / 2, img.shape[1] / 2
    return min(detected, key=lambda r: (r[0] + r[2] / 2 - cx) ** 2 + (r[1] + r[3] / 2 - cy) ** 2)


def embed_dlib(cache: Path, shard: tuple[int, int] | None = None) -> np.ndarray:
    """dlib ResNet descriptor (unit) of the same face as :func:`embed` picks, for every LFW image.

    Detection is deterministic, so this can run beside ``embed`` (it detects again) and both caches
    describe the same faces. ``shard=(k, n)`` computes images k, k+n, ... into a part file; a later
    call without ``shard`` joins the n parts.
    """
    cache.mkdir(parents=True, exist_ok=True)
    paths = lfw_images()
    names = [str(p.relative_to(LFW)) for p in paths]
    npz = cache / f"lfw_{DLIB_MODEL_NAME}.npz"
    if npz.exists() and shard is None:
        cached = np.load(npz, allow_pickle=False)
        if list(cached["names"]) == names:
            return np.asarray(cached["vectors"])
    parts = sorted(cache.glob(f"lfw_{DLIB_MODEL_NAME}.part*of*.npz"))
    if shard is None and parts:
        vectors = np.zeros((len(paths), 128), dtype=np.float32)
        covered = np.zeros(len(paths), dtype=bool)
        for part in parts:
            data = np.load(part, allow_pickle=False)
            vectors[data["index"]] = data["vectors"]
            covered[data["index"]] = True
        if covered.all():
            np.savez(npz, names=np.array(names), vectors=vectors)
            return vectors
    dlib_model = dlib_embedder()
    todo = range(len(paths)) if shard is None else range(shard[0], len(paths), shard[1])
    vectors = np.zeros((len(paths), 128), dtype=np.float32)
    t0 = time.perf_counter()
    for n, i in enumerate(todo):
        img = cv2.imread(str(paths[i]))
        row = _centre_row(img)
        if row is not None:
            vectors[i] = dlib_model.embed(img, row)
        if n % 500 == 0:
            print(f"embed-dlib {n}/{len(todo)} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    if shard is not None:
        index = np.array(list(todo))
        np.savez(cache / f"lfw_{DLIB_MODEL_NAME}.part{shard[0]}of{shard[1]}.npz", index=index, vectors=vectors[index])
        return vectors
    np.savez(npz, names=np.array(names), vectors=vectors)
    return vectors


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


def _both(cache: Path) -> tuple[list[Path], np.ndarray, np.ndarray, np.ndarray]:
    """(paths, SFace mirror-averaged vectors, dlib vectors, found) for every LFW image."""
    paths, data = _embedded(cache)
    return paths, data["vectors"], embed_dlib(cache), data["found"]


def _logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted logistic regression by Newton's method: coefficients for [features..., 1]."""
    a = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ beta, -30, 30)))
        grad = a.T @ (weights * (p - y))
        hess = (a * (weights * p * (1 - p))[:, None]).T @ a + 1e-6 * np.eye(a.shape[1])
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold with the best accuracy on these pairs (ties: the lowest), and that accuracy."""
    order = np.argsort(scores)
    s, y = scores[order], same[order]
    # Threshold at s[k]: pairs k.. are accepted. Correct = impostors below k + genuine from k.
    imp_below = np.concatenate([[0], np.cumsum(~y)])[:-1]
    gen_from = np.cumsum(y[::-1])[::-1]
    correct = imp_below + gen_from
    k = int(np.argmax(correct))
    return float(s[k]), float(correct[k] / len(s))


BAND_GRID = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 1.0)
TOLERANCE = 1  # pairs of training accuracy a narrower band may give up


def fit_fusion(s: np.ndarray, d: np.ndarray, same: np.ndarray) -> tuple[operating.Fusion, float]:
    """Fusion weight and offset, the band (lift, drop) and the accuracy threshold, from training pairs.

    Weight: dlib's coefficient over SFace's in a logistic regression (classes weighted equally).
    Offset: dlib's own best-accuracy threshold, so dlib pulls the score down below it and up above.
    Band: the narrowest (lift + drop, from BAND_GRID) whose cascade accuracy on these pairs is within
    one pair of the best in the grid (narrower means dlib runs for fewer faces).
    """
    w = np.where(same, 0.5 / max(1, same.sum()), 0.5 / max(1, (~same).sum())) * len(same)
    beta = _logistic(np.stack([s, d], axis=1), same.astype(float), w)
    weight = float(beta[1] / beta[0])
    offset, _ = _best_threshold(d, same)
    results = []
    for lift in BAND_GRID:
        for drop in BAND_GRID:
            fusion = operating.Fusion(weight=weight, offset=offset, lift=lift, drop=drop)
            t, acc = _best_threshold(fusion.score(s, d), same)
            results.append((acc, lift + drop, fusion, t))
    top = max(r[0] for r in results)
    _, _, fusion, t = min((r for r in results if r[0] >= top - TOLERANCE / len(s)), key=lambda r: r[1])
    return fusion, t


def _pairs_of(
    labels: np.ndarray, rng: np.random.Generator, impostors: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All genuine pairs among ``labels`` and random impostor pairs (as many as genuine if None)."""
    gi, gj = [], []
    by: dict[str, list[int]] = defaultdict(list)
    for k, lab in enumerate(labels):
        by[str(lab)].append(k)
    for members in by.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                gi.append(members[a])
                gj.append(members[b])
    impostors = impostors or len(gi)
    ii = rng.integers(0, len(labels), impostors * 2)
    jj = rng.integers(0, len(labels), impostors * 2)
    keep = labels[ii] != labels[jj]
    ii, jj = ii[keep][:impostors], jj[keep][:impostors]
    i = np.concatenate([np.array(gi, dtype=int), ii])
    j = np.concatenate([np.array(gj, dtype=int), jj])
    return i, j, np.concatenate([np.ones(len(gi), dtype=bool), np.zeros(len(ii), dtype=bool)])


def calibrate(cache: Path, seed: int, *, write: bool = True) -> dict[str, Any]:
    """Fusion and the cascade score's impostor tail, from the calibration identities of ``seed``'s split.

    Written to the package (``detection/data/face_impostor_tail.json``) if ``write``. The open-set
    benchmark's enrolled people and distractors are never used here.
    """
    paths, sface, dlib_v, found = _both(cache)
    _, _, calibration = split_people(paths, seed)
    cal = set(calibration)
    idx = [i for i, p in enumerate(paths) if found[i] and person_of(p) in cal]
    s_v, d_v = sface[idx], dlib_v[idx]
    labels = np.array([person_of(paths[i]) for i in idx])
    rng = np.random.default_rng(seed)
    # As many impostor pairs as genuine ones, like LFW View 2: the band is chosen on accuracy, which
    # 25 M impostor pairs would reduce to rejecting everything near the threshold.
    pi, pj, same = _pairs_of(labels, rng, None)
    s = np.einsum("ij,ij->i", s_v[pi], s_v[pj])
    d = np.einsum("ij,ij->i", d_v[pi], d_v[pj])
    fusion, t_acc = fit_fusion(s, d, same)
    # Every impostor pair among the calibration images (different people), streamed in blocks.
    tail_size = 20_000
    tail = np.zeros(0, dtype=np.float32)
    total = 0
    for start in range(0, len(idx), 512):
        stop = min(start + 512, len(idx))
        block = np.asarray(fusion.score(s_v[start:stop] @ s_v.T, d_v[start:stop] @ d_v.T), dtype=np.float32)
        for r in range(block.shape[0]):
            i = start + r
            mask = labels[i + 1 :] != labels[i]
            row = block[r, i + 1 :][mask]
            total += int(row.size)
            tail = np.concatenate([tail, row])
        if tail.size > 4 * tail_size:
            tail = np.partition(tail, tail.size - tail_size)[-tail_size:]
    tail = np.sort(tail)[-tail_size:][::-1]
    result = {
        "model": FUSED_MODEL_NAME,
        "source": "LFW (umass-vis-lfw), identities disjoint from the open-set benchmark",
        "seed": seed,
        "images": len(idx),
        "fusion": {
            "weight": round(fusion.weight, 5),
            "offset": round(fusion.offset, 5),
            "lift": fusion.lift,
            "drop": fusion.drop,
            "fitted_on": f"{int(same.sum())} genuine, {int((~same).sum())} impostor pairs of the calibration images",
            "accuracy_threshold": round(t_acc, 5),
        },
        "score": "sface + clip(weight * (dlib - offset), -drop, +lift)",
        "impostor_pairs": total,
        "tail": [round(float(x), 5) for x in tail],
    }
    if not write:
        return result
    operating.TAIL_PATH.write_text(json.dumps(result) + "\n")
    operating.reload()
    return {k: v for k, v in result.items() if k != "tail"} | {
        "max_impostor": float(tail[0]),
        "threshold_by_gallery": {n: round(operating.face_threshold(n), 4) for n in (1, 10, 60, 1000, 10_000, 160_000)},
    }


def _tail_of(raw: dict[str, Any]) -> tuple[operating.ImpostorTail, operating.Fusion]:
    f = raw["fusion"]
    return (
        operating.ImpostorTail(pairs=int(raw["impostor_pairs"]), tail=tuple(raw["tail"])),
        operating.Fusion(
            weight=float(f["weight"]), offset=float(f["offset"]), lift=float(f["lift"]), drop=float(f["drop"])
        ),
    )


def _by_person(paths: list[Path]) -> dict[str, list[int]]:
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        by_person[person_of(p)].append(i)
    return by_person


def _protocol(paths: list[Path], seed: int) -> tuple[list[int], list[int], np.ndarray, list[int]]:
    """The open-set protocol's image indices: (gallery, probes, probe labels, distractors).

    60 enrolled people from one photo each, two other photos of each as probes (labelled with the
    gallery position), one photo each of 200 other people as distractors.
    """
    enrolled, distractors, _ = split_people(paths, seed)
    rng = random.Random(seed + 1)
    by_person = _by_person(paths)
    gallery, probes, probe_labels = [], [], []
    for k, person in enumerate(enrolled):
        pics = by_person[person][:]
        rng.shuffle(pics)
        gallery.append(pics[0])
        probes.extend(pics[1:3])
        probe_labels.extend([k, k])
    distractor_idx = [rng.choice(by_person[p]) for p in distractors]
    return gallery, probes, np.array(probe_labels), distractor_idx


def openset(
    cache: Path, seed: int, tail: operating.ImpostorTail | None = None, fusion: operating.Fusion | None = None
) -> dict[str, Any]:
    """Open-set identification with the cascade's score (``tail``/``fusion``: the split's own calibration)."""
    paths, sface, dlib_v, found = _both(cache)
    fusion = fusion or operating.fusion()
    gallery, probes, labels, distractor_idx = _protocol(paths, seed)

    def best(query: list[int], use: str) -> tuple[np.ndarray, np.ndarray]:
        s = sface[query] @ sface[gallery].T
        d = dlib_v[query] @ dlib_v[gallery].T
        score = {"sface": s, "dlib": d, "cascade": fusion.score(s, d)}[use]
        # An undetected face counts as missed (probe) and as not alarmed (distractor): the scan sees nothing.
        score = np.where(found[query][:, None], score, -1.0)
        return score.argmax(axis=1), score.max(axis=1)

    out: dict[str, Any] = {"enrolled": len(gallery), "probes": len(probes), "distractors": len(distractor_idx)}
    ours = operating.face_operating_point(len(gallery), tail=tail).threshold
    for use in ("cascade", "sface"):
        p_lab, p_score = best(probes, use)
        _, d_score = best(distractor_idx, use)

        def rates(
            t: float, p_lab: np.ndarray = p_lab, p_score: np.ndarray = p_score, d_score: np.ndarray = d_score
        ) -> dict[str, float]:
            return {
                "fpir": round(float(np.mean(d_score >= t)), 4),
                "tpir": round(float(np.mean((p_score >= t) & (p_lab == labels))), 4),
            }

        # Best TPIR with FPIR <= 1 % (a property of the scores, not an operating point we ship).
        cands = [rates(float(t)) | {"t": round(float(t), 4)} for t in np.unique(np.concatenate([p_score, d_score]))]
        ok = [c for c in cands if c["fpir"] <= 0.01]
        out[use] = {
            "top_distractor_scores": [round(float(x), 4) for x in np.sort(d_score)[::-1][:5]],
            "best_tpir_at_fpir_1pct": max(ok, key=lambda c: c["tpir"]) if ok else None,
        }
        if use == "cascade":
            out[use][f"ours_{ours:.4f}"] = rates(ours)
            p_sface = best(probes, "sface")[1]
            d_sface = best(distractor_idx, "sface")[1]
            in_band = sum(int(np.sum((x >= ours - fusion.lift) & (x < ours + fusion.drop))) for x in (p_sface, d_sface))
            out[use]["dlib_run_for"] = f"{in_band}/{len(probes) + len(distractor_idx)} faces"
        else:
            out[use]["opencv_default_0.363"] = rates(OPENCV_DEFAULT)
    return out


def splits(cache: Path, seeds: list[int]) -> dict[str, Any]:
    """The open-set protocol on several random splits, each calibrated on its own disjoint identities."""
    rows = {}
    fp = tp = dn = pn = 0
    for seed in seeds:
        tail, fusion = _tail_of(calibrate(cache, seed, write=False))
        res = openset(cache, seed, tail, fusion)
        key = next(k for k in res["cascade"] if k.startswith("ours_"))
        rows[seed] = {"threshold": float(key[5:]), **res["cascade"][key], "dlib": res["cascade"]["dlib_run_for"]}
        fp += round(res["cascade"][key]["fpir"] * res["distractors"])
        tp += round(res["cascade"][key]["tpir"] * res["probes"])
        dn += res["distractors"]
        pn += res["probes"]
    return {
        "per_seed": rows,
        "pooled": {"fpir": round(fp / dn, 4), "tpir": round(tp / pn, 4), "distractors": dn, "probes": pn},
    }


def cohort_norm(cache: Path, seeds: list[int], cohort_size: int) -> dict[str, Any]:
    """Cohort score normalisation (T-, Z- and S-norm) against raw scores on the open-set protocol.

    A cohort of ``cohort_size`` calibration people (one photo each) gives each probe (T-norm) and each
    reference (Z-norm) the mean and spread of its scores against strangers; S-norm averages the two.
    Each variant's threshold follows the shipped rule (FAR <= 1 % / 60 over impostor pairs, here of
    up to 3,000 photos of the split's other calibration people), so the rows compare like with like.
    The cascade's score uses the split's own fusion, as ``splits`` does.
    """
    paths, sface, dlib_v, found = _both(cache)
    people = np.array([person_of(p) for p in paths])
    by_person = _by_person(paths)
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # false alarms, distractors, hits, probes
    per_seed: dict[int, dict[str, dict[str, float]]] = {}
    for seed in seeds:
        _, fusion = _tail_of(calibrate(cache, seed, write=False))
        gallery, probes, labels, distractors = _protocol(paths, seed)
        rng = np.random.default_rng(seed)
        calibration = [p for p in split_people(paths, seed)[2] if any(found[i] for i in by_person[p])]
        rng.shuffle(calibration)
        cohort = [next(i for i in by_person[p] if found[i]) for p in calibration[:cohort_size]]
        rest = [i for p in calibration[cohort_size:] for i in by_person[p] if found[i]]
        held = [rest[j] for j in rng.choice(len(rest), size=min(3000, len(rest)), replace=False)]

        def raw(q: list[int], g: list[int], use: str, fusion: operating.Fusion = fusion) -> np.ndarray:
            s = sface[q] @ sface[g].T
            return s if use == "sface" else fusion.score(s, dlib_v[q] @ dlib_v[g].T)

        def scores(q: list[int], g: list[int], use: str, norm: str, cohort: list[int] = cohort) -> np.ndarray:
            m = raw(q, g, use)
            if norm == "raw":
                return m
            qc, gc = raw(q, cohort, use), raw(g, cohort, use)
            t = (m - qc.mean(1)[:, None]) / qc.std(1)[:, None]
            z = (m - gc.mean(1)[None, :]) / gc.std(1)[None, :]
            return {"t": t, "z": z, "s": (t + z) / 2}[norm]

        rows: dict[str, dict[str, float]] = {}
        for use in ("sface", "cascade"):
            for norm in ("raw", "t", "z", "s"):
                held_scores = scores(held, held, use, norm)
                impostor = np.triu(people[held][:, None] != people[held][None, :], 1)
                tail = np.sort(held_scores[impostor])[::-1]
                threshold = float(tail[int(tail.size * operating.DEFAULT_FPIR / len(gallery))])
                p = np.where(found[probes][:, None], scores(probes, gallery, use, norm), -np.inf)
                d = np.where(found[distractors][:, None], scores(distractors, gallery, use, norm), -np.inf)
                alarms = int(np.sum(d.max(1) > threshold))
                hits = int(np.sum((p.max(1) > threshold) & (p.argmax(1) == labels)))
                rows[f"{use}/{norm}"] = {
                    "fpir": round(alarms / len(distractors), 4),
                    "tpir": round(hits / len(probes), 4),
                }
                acc = pooled[f"{use}/{norm}"]
                acc[0] += alarms
                acc[1] += len(distractors)
                acc[2] += hits
                acc[3] += len(probes)
        per_seed[seed] = rows
    return {
        "cohort": cohort_size,
        "per_seed": per_seed,
        "pooled": {k: {"fpir": round(a / b, 4), "tpir": round(c / d, 4)} for k, (a, b, c, d) in pooled.items()},
    }


def _tar_at_far(scores: np.ndarray, same: np.ndarray, far: float = 0.001) -> float:
    imp = np.sort(scores[~same])[::-1]
    t_far = imp[max(0, int(len(imp) * far) - 1)]
    return round(float(np.mean(scores[same] > t_far)), 4)


def verify(cache: Path) -> dict[str, Any]:
    """LFW View 2, 10-fold: SFace, dlib, and the cascade with fusion fitted on the 9 training folds each time."""
    paths, sface, dlib_v, found = _both(cache)
    pos = {str(p.relative_to(LFW / "images")): i for i, p in enumerate(paths)}
    lines = (LFW / "pairs.txt").read_text().splitlines()
    folds, per = (int(x) for x in lines[0].split())
    pairs: list[tuple[int, int, bool]] = []
    for line in lines[1:]:
        f = line.split("\t")
        if len(f) == 3:
            a, b, same_ = f"{f[0]}/{f[0]}_{int(f[1]):04d}.jpg", f"{f[0]}/{f[0]}_{int(f[2]):04d}.jpg", True
        else:
            a, b, same_ = f"{f[0]}/{f[0]}_{int(f[1]):04d}.jpg", f"{f[2]}/{f[2]}_{int(f[3]):04d}.jpg", False
        pairs.append((pos[a], pos[b], same_))
    ia = np.array([a for a, _, _ in pairs])
    ib = np.array([b for _, b, _ in pairs])
    ok = found[ia] & found[ib]
    s = np.where(ok, np.einsum("ij,ij->i", sface[ia], sface[ib]), -1.0)
    d = np.where(ok, np.einsum("ij,ij->i", dlib_v[ia], dlib_v[ib]), -1.0)
    same = np.array([x for _, _, x in pairs])
    accs: dict[str, list[float]] = defaultdict(list)
    oof = {"fused": np.zeros(len(pairs)), "cascade": np.zeros(len(pairs))}
    dlib_runs = 0
    fold_params = []
    for k in range(folds):
        test = np.zeros(len(pairs), dtype=bool)
        test[k * 2 * per : (k + 1) * 2 * per] = True
        train = ~test
        for name, sc in (("sface", s), ("dlib", d)):
            t, _ = _best_threshold(sc[train], same[train])
            accs[name].append(float(np.mean((sc[test] >= t) == same[test])))
        fusion, t = fit_fusion(s[train], d[train], same[train])
        full = operating.Fusion(weight=fusion.weight, offset=fusion.offset, lift=10.0, drop=10.0)  # dlib always
        t_full, _ = _best_threshold(full.score(s[train], d[train]), same[train])
        accs["fused"].append(float(np.mean((full.score(s[test], d[test]) >= t_full) == same[test])))
        casc = fusion.score(s[test], d[test])
        accs["cascade"].append(float(np.mean((casc >= t) == same[test])))
        oof["fused"][test] = full.score(s[test], d[test]) - t_full
        oof["cascade"][test] = casc - t
        dlib_runs += int(np.sum((s[test] >= t - fusion.lift) & (s[test] < t + fusion.drop)))
        fold_params.append(
            {
                "weight": round(fusion.weight, 3),
                "offset": round(fusion.offset, 3),
                "lift": fusion.lift,
                "drop": fusion.drop,
                "t": round(t, 4),
            }
        )
    out: dict[str, Any] = {"pairs": len(pairs), "undetected_images": int((~found).sum())}
    for name in ("sface", "dlib", "fused", "cascade"):
        out[name] = {
            "accuracy_mean": round(float(np.mean(accs[name])), 4),
            "accuracy_std": round(float(np.std(accs[name])), 4),
            "tar_at_far_0.1pct": _tar_at_far({"sface": s, "dlib": d}.get(name, oof.get(name)), same),
        }
    out["cascade"]["dlib_run_for_pairs"] = f"{dlib_runs}/{len(pairs)} (SFace score inside the band)"
    out["cascade"]["fold_parameters"] = fold_params
    out["note"] = (
        "fused/cascade: weight, offset, band and threshold fitted on the 9 training folds of each fold; "
        "TAR at FAR 0.1 % from the pooled out-of-fold scores (each minus its fold's threshold)"
    )
    return out


class _Baseline:
    """The ``face_recognition`` library's HOG + ResNet pipeline, call for call, without importing it.

    ``face_recognition.face_locations(img)`` is ``dlib.get_frontal_face_detector()(img, 1)`` and
    ``face_encodings(img, boxes)`` (model "small", one jitter) is the 5-point shape predictor plus
    ``compute_face_descriptor(img, shape, 1)``; a match is a Euclidean distance <= 0.6 (its default
    tolerance). Importing ``face_recognition`` would load dlib's 68-point model (non-commercial
    licence) at import time, which this project never does, so the same dlib calls run here.
    """

    def __init__(self) -> None:
        import dlib  # noqa: PLC0415

        from likeness_ledger.detection.face import (  # noqa: PLC0415
            DLIB_PREDICTOR_FILE,
            DLIB_RESNET_FILE,
            DLIB_SHA256,
            _verified,
            dlib_models_dir,
        )

        folder = dlib_models_dir()
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(_verified(folder / DLIB_PREDICTOR_FILE, DLIB_SHA256))
        self.encoder = dlib.face_recognition_model_v1(_verified(folder / DLIB_RESNET_FILE, DLIB_SHA256))

    def encodings(self, rgb: np.ndarray) -> list[np.ndarray]:
        return [
            np.array(self.encoder.compute_face_descriptor(rgb, self.predictor(rgb, rect), 1))
            for rect in self.detector(rgb, 1)
        ]


def speed(cache: Path, seed: int, frames: int, images: int) -> dict[str, Any]:
    """Ours (YuNet + SFace + dlib cascade, full scan decision) vs face_recognition's pipeline, same run.

    LFW: the open-set protocol's probes and distractors (``images`` of them) against its 60 enrolled
    people; both pipelines detect every face, embed, and match against their own gallery; CPU and
    wall time per image and TPIR/FPIR per image. 720p: ``obama-720p.jpg`` ``frames`` times, with
    Obama enrolled (from another photo) and without.
    """
    from likeness_ledger.detection.face import reference_embedding  # noqa: PLC0415
    from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner  # noqa: PLC0415

    paths, sface, dlib_v, _found = _both(cache)
    enrolled, distractors, _ = split_people(paths, seed)
    rng = random.Random(seed + 1)
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        by_person[person_of(p)].append(i)
    gallery_idx, probes = [], []
    for person in enrolled:
        pics = by_person[person][:]
        rng.shuffle(pics)
        gallery_idx.append(pics[0])
        probes.extend((i, person) for i in pics[1:3])
    test = probes + [(rng.choice(by_person[p]), None) for p in distractors]
    test = random.Random(seed).sample(test, min(images, len(test)))
    people = {name: GalleryPerformer(uuid.uuid4(), name) for name in enrolled}
    refs = [(people[person_of(paths[i])].id, np.concatenate([sface[i], dlib_v[i]])) for i in gallery_idx]
    baseline = _Baseline()
    base_gallery = []
    for i in gallery_idx:
        enc = baseline.encodings(cv2.imread(str(paths[i]))[:, :, ::-1].copy())
        base_gallery.append((person_of(paths[i]), enc[0] if enc else np.full(128, 9.0)))
    face_engine()  # loaded before timing
    dlib_model = dlib_embedder()
    calls = {"dlib": 0}
    original = dlib_model.embed

    def counted(image: np.ndarray, row: np.ndarray) -> np.ndarray:
        calls["dlib"] += 1
        return original(image, row)

    dlib_model.embed = counted  # type: ignore[method-assign]

    def ours(gallery: Gallery, images: list[np.ndarray]) -> tuple[list[set[str | None]], float, float]:
        scanner = Scanner(gallery)
        names = {p.id: p.ref for p in gallery.performers.values()}
        scanner.faces_in(images[0])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        found = [{names[label] for label, _, _ in scanner.faces_in(img)} for img in images]
        return found, time.perf_counter() - t0, time.process_time() - c0

    def theirs(images: list[np.ndarray], gallery: list[tuple[str, np.ndarray]]) -> tuple[list[set[str]], float, float]:
        vectors = np.stack([v for _, v in gallery])
        baseline.encodings(images[0][:, :, ::-1].copy())  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        found = []
        for img in images:
            hits = set()
            for enc in baseline.encodings(np.ascontiguousarray(img[:, :, ::-1])):
                dist = np.linalg.norm(vectors - enc, axis=1)
                if dist.min() <= 0.6:  # face_recognition.compare_faces' default tolerance
                    hits.add(gallery[int(dist.argmin())][0])
            found.append(hits)
        return found, time.perf_counter() - t0, time.process_time() - c0

    def score(found: list[Any]) -> dict[str, float]:
        mated = [(f, who) for f, (_, who) in zip(found, test, strict=True) if who is not None]
        non = [f for f, (_, who) in zip(found, test, strict=True) if who is None]
        return {
            "tpir": round(sum(who in f for f, who in mated) / len(mated), 4),
            "fpir": round(sum(bool(f) for f in non) / len(non), 4),
        }

    out: dict[str, Any] = {"load_average_1min_start": round(os.getloadavg()[0], 2), "cv2_threads": cv2.getNumThreads()}
    lfw_images = [cv2.imread(str(paths[i])) for i, _ in test]
    gallery = Gallery.build({p.id: p for p in people.values()}, refs)
    calls["dlib"] = 0
    f_ours, w_ours, c_ours = ours(gallery, lfw_images)
    dlib_calls = calls["dlib"]
    f_base, w_base, c_base = theirs(lfw_images, base_gallery)
    n = len(lfw_images)
    out["lfw"] = {
        "images": f"{n} (open-set probes and distractors, 250x250), gallery of {len(refs)}",
        "ours_ms_per_image": {"wall": round(1000 * w_ours / n, 1), "cpu": round(1000 * c_ours / n, 1)},
        "ours_dlib_runs": f"{dlib_calls} of {n} images",
        "ours_threshold": round(gallery.face_threshold, 4),
        "ours_accuracy": score(f_ours),
        "face_recognition_ms_per_image": {"wall": round(1000 * w_base / n, 1), "cpu": round(1000 * c_base / n, 1)},
        "face_recognition_accuracy": score(f_base),
        "speedup_wall": round(w_base / w_ours, 2),
        "speedup_cpu": round(c_base / c_ours, 2),
    }
    img = cv2.imread(str(FACES / "obama-720p.jpg"))
    assert img.shape[:2] == (720, 1280)
    obama = GalleryPerformer(uuid.uuid4(), "obama")
    ref = reference_embedding(cv2.imread(str(FACES / "obama2.jpg")))
    assert ref is not None
    base_obama = baseline.encodings(cv2.imread(str(FACES / "obama2.jpg"))[:, :, ::-1].copy())[0]
    for case, extra, base_extra in (("enrolled", [(obama.id, ref)], [("obama", base_obama)]), ("not_enrolled", [], [])):
        performers = {p.id: p for p in people.values()} | ({obama.id: obama} if extra else {})
        g = Gallery.build(performers, refs + extra)
        calls["dlib"] = 0
        f_ours, w_ours, c_ours = ours(g, [img] * frames)
        dlib_calls = calls["dlib"]
        f_base, w_base, c_base = theirs([img] * max(3, frames // 3), base_gallery + base_extra)
        nb = max(3, frames // 3)
        out[f"720p_obama_{case}"] = {
            "ours_ms": {"wall": round(1000 * w_ours / frames, 1), "cpu": round(1000 * c_ours / frames, 1)},
            "ours_found": sorted(map(str, f_ours[0])),
            "ours_dlib_runs": f"{dlib_calls}/{frames}",
            "face_recognition_ms": {"wall": round(1000 * w_base / nb, 1), "cpu": round(1000 * c_base / nb, 1)},
            "face_recognition_found": sorted(f_base[0]),
            "speedup_wall": round((w_base / nb) / (w_ours / frames), 2),
            "speedup_cpu": round((c_base / nb) / (c_ours / frames), 2),
        }
    out["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    return out


def _reference_vectors(cache: Path, paths: list[Path], indices: list[int]) -> list[np.ndarray]:
    """SFace + dlib vectors (256 floats) of the centre face of ``paths[i]`` for each index.

    From the LFW caches when both exist; otherwise computed for these images only, exactly as
    ``embed`` and ``embed-dlib`` do (same detection, alignment and models), so ``video`` does not
    need the 7,701-image caches.
    """
    names = [str(p.relative_to(LFW)) for p in paths]
    sface_npz, dlib_npz = cache / f"lfw_{MODEL_NAME}.npz", cache / f"lfw_{DLIB_MODEL_NAME}.npz"
    if sface_npz.exists() and dlib_npz.exists():
        s_data, d_data = np.load(sface_npz, allow_pickle=False), np.load(dlib_npz, allow_pickle=False)
        if list(s_data["names"]) == names and list(d_data["names"]) == names:
            return [np.concatenate([s_data["vectors"][i], d_data["vectors"][i]]) for i in indices]
    engine, dlib_model = face_engine(), dlib_embedder()
    out = []
    for i in indices:
        img = cv2.imread(str(paths[i]))
        row = _centre_row(img)
        if row is None:
            raise RuntimeError(f"{paths[i]}: no face found for a gallery reference")
        out.append(np.concatenate([engine.embed(engine.align(img, row)), dlib_model.embed(img, row)]))
    return out


def _machine_busy_s() -> float:
    """CPU seconds all processes of this machine have used (user, nice, system, irq), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def video(cache: Path, seconds: int, seed: int, work: Path) -> dict[str, Any]:
    """Scan a synthetic 720p H.264 video built from LFW photos; time it and check no appearance is missed.

    Every 2 s a new scene: an enrolled person's photo (not the enrolment photo) or a distractor's,
    scaled to a 180-300 px face region at a random place on a textured background. An appearance
    counts as found when a match segment of that performer overlaps its 2 s on screen.
    """
    from fractions import Fraction  # noqa: PLC0415

    import av  # noqa: PLC0415

    from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner  # noqa: PLC0415

    load_at_start = os.getloadavg()[0]  # other jobs' load, before this command's own video build
    paths = lfw_images()
    enrolled, distractors, _ = split_people(paths, seed)
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        by_person[person_of(p)].append(i)
    rng = random.Random(seed + 2)
    people = {name: GalleryPerformer(uuid.uuid4(), name) for name in enrolled}
    ref_vectors = _reference_vectors(cache, paths, [by_person[name][0] for name in enrolled])
    refs = [(people[name].id, vector) for name, vector in zip(enrolled, ref_vectors, strict=True)]
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
    scanner = Scanner(gallery)
    scanner.faces_in(np.zeros((64, 64, 3), dtype=np.uint8))  # load the models before the clock starts
    dlib_embedder()
    busy0 = _machine_busy_s()
    t0, c0 = time.perf_counter(), time.process_time()
    result = scanner.scan(out_path)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    others = _machine_busy_s() - busy0 - cpu
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
        "load_average_1min_at_start": round(load_at_start, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        # CPU that other processes used on this machine while the scan ran (both cores: up to 2 x scan_s).
        "other_processes_cpu_s": round(others, 1),
        "appearances": len(appearances),
        "found": hit,
        "false_segments": len(false),
        "threshold": round(gallery.face_threshold, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "command",
        choices=[
            "embed",
            "embed-dlib",
            "calibrate",
            "openset",
            "splits",
            "cohort-norm",
            "verify",
            "speed",
            "video",
            "all",
        ],
    )
    ap.add_argument("--video-seconds", type=int, default=120, help="length of the synthetic 720p video")
    ap.add_argument("--cache", type=Path, default=REPO / "bench-data" / "detection")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    ap.add_argument("--splits", type=int, default=5, help="extra random splits for `splits`")
    ap.add_argument("--frames", type=int, default=15, help="720p frames timed by `speed`")
    ap.add_argument("--shard", help="embed-dlib: K/N computes every N-th image from K into a part file")
    ap.add_argument("--cohort", type=int, default=1000, help="cohort-norm: calibration people in the cohort")
    ap.add_argument("--images", type=int, default=320, help="LFW images timed by `speed`")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    out: dict[str, Any] = {}
    cmd = args.command
    if cmd in ("embed", "all"):
        _, _, found = embed(args.cache)
        out["embed"] = {"images": len(found), "detected": int(found.sum())}
    if cmd == "embed-dlib":
        shard = tuple(int(x) for x in args.shard.split("/")) if args.shard else None
        out["embed-dlib"] = {"images": len(embed_dlib(args.cache, shard))}  # type: ignore[arg-type]
    if cmd in ("calibrate", "all"):
        out["calibrate"] = calibrate(args.cache, args.seed)
    if cmd in ("openset", "all"):
        out["openset"] = openset(args.cache, args.seed)
    if cmd in ("splits", "all"):
        out["splits"] = splits(args.cache, [args.seed + k for k in range(1, args.splits + 1)])
    if cmd == "cohort-norm":
        out["cohort-norm"] = cohort_norm(args.cache, [args.seed + k for k in range(args.splits + 1)], args.cohort)
    if cmd in ("verify", "all"):
        out["verify"] = verify(args.cache)
    if cmd in ("speed", "all"):
        out["speed"] = speed(args.cache, args.seed, args.frames, args.images)
    if cmd in ("video", "all"):
        out["video"] = video(args.cache, args.video_seconds, args.seed, args.cache)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
