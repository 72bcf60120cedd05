"""Clearance throughput: grants in the database, loaded once, against Cedar policies via cedarpy.

What it does, in one run:

1. builds a SQLite database (migrated to head) holding ``--grants`` consent grants (default
   1,000,000) for ``--performers`` performers and their replicas, with described uses,
   revocations and expiries; rows are written with ``executemany`` in one transaction per table;
2. loads them once into :class:`~likeness_ledger.consent.engine.ClearanceIndex` (timed);
   later, after the in-process run, commits one grant and then its revocation through a second
   ``Database`` (as another process would) and times :meth:`ClearanceIndex.catch_up` following
   the transparency log, against the full load;
3. decides ``--requests`` mixed requests (default 200,000: covered uses, uses not described,
   other productions, creations, alterations, replicas without consent) in-process, timing each
   call: decisions/s and p50/p99 latency; a sample is checked against ``evaluate`` (the pure
   engine over a case built from the database) for identical reports;
4. serves the API with uvicorn in a subprocess on 127.0.0.1 and sends ``--http-requests`` of
   the same requests to ``POST /clearances/batch`` in batches of ``--batch`` over one keep-alive
   connection (stdlib ``http.client``): decisions/s and per-batch latency;
5. baseline: the first ``--cedar-policies`` use grants (default 1,000) as Cedar policies, and
   requests about them, through ``cedarpy.is_authorized`` with the policies passed as text (each
   call parses them, as the issue's baseline figure was measured), with a pre-parsed
   ``PolicySet``, and through ``is_authorized_batch``. Cedar at a million policies would take
   hours per thousand decisions, so it is measured at 1,000 policies only.

Usage:
  .venv/bin/pip install -e '.[bench]'
  .venv/bin/python benchmarks/clearance.py                       # full size
  .venv/bin/python benchmarks/clearance.py --grants 100000 --requests 50000   # smaller
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cedarpy
import uvicorn
from sqlalchemy import select

from likeness_ledger import migrate
from likeness_ledger.accounts import services as accounts
from likeness_ledger.accounts.models import Account, Role
from likeness_ledger.config import load_settings
from likeness_ledger.consent.engine import ClearanceIndex
from likeness_ledger.consent.models import (
    ConsentGrant,
    ConsentScope,
    GrantRevocation,
    GrantUse,
    Representation,
    Signer,
)
from likeness_ledger.consent.query import ClearanceQuery
from likeness_ledger.consent.services import evaluate
from likeness_ledger.db import Database
from likeness_ledger.runtime import open_runtime
from likeness_ledger.web.app import create_app

AGREEMENTS = [
    "sag-aftra-tv-theatrical-2023",
    "sag-aftra-tv-theatrical-2026",
    "sag-aftra-interactive-2025",
    "sag-aftra-commercials-2025",
    None,
]
PLACES = ["US-CA", "US-NY", "US-IL", "US-TN", "US-GA", "DE"]
USE_KEYS = [f"use-{i}" for i in range(20)]
ALTERATIONS = ["cosmetic", "timing", "substantive", "pitch_tone"]
EPOCH = date(2024, 1, 1)
NOW = "2026-12-01 09:00:00.000000"


def day(rng: random.Random, span: int = 1500) -> date:
    return EPOCH + timedelta(days=rng.randrange(span))


# --- the database ----------------------------------------------------------------------------------


def build_database(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Write the world with executemany; return what the request generator needs."""
    rng = random.Random(args.seed)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    settings = load_settings(data_dir=path.parent, database_url=url, environment="development")
    rt = open_runtime(settings, create_keys=True)
    with rt.db.write() as session:
        admin = accounts.create_account(session, name="bench-admin", role=Role.ADMIN)
        _, token = accounts.issue_token(session, admin, label="bench")
        admin_id = admin.id.hex
    rt.close()

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    started = time.perf_counter()
    producers = [uuid.uuid4() for _ in range(max(1, args.productions // 20))]
    conn.executemany(
        "INSERT INTO producers (id, name, created_at) VALUES (?, ?, ?)",
        [(p.hex, f"producer {i}", NOW) for i, p in enumerate(producers)],
    )
    productions = [uuid.uuid4() for _ in range(args.productions)]
    conn.executemany(
        "INSERT INTO productions (id, producer_id, title, type, agreement, jurisdiction, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.hex,
                rng.choice(producers).hex,
                f"production {i}",
                "theatrical",
                rng.choice(AGREEMENTS),
                rng.choice(PLACES),
                NOW,
            )
            for i, p in enumerate(productions)
        ],
    )
    performers = [uuid.uuid4() for _ in range(args.performers)]
    conn.executemany(
        "INSERT INTO performers (id, legal_name, category, born_on, died_on, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                p.hex,
                f"performer {i}",
                "background" if rng.random() < 0.6 else "principal",
                "1980-01-01",
                day(rng).isoformat() if rng.random() < 0.02 else None,
                NOW,
            )
            for i, p in enumerate(performers)
        ],
    )
    blob = "0" * 64
    conn.execute("INSERT INTO vault_blobs (sha256, size, created_at) VALUES (?, 0, ?)", (blob, NOW))
    assets: dict[uuid.UUID, list[uuid.UUID]] = {}
    asset_rows = []
    for performer in performers:
        mine = [uuid.uuid4() for _ in range(rng.choice((1, 1, 2)))]
        assets[performer] = mine
        for asset in mine:
            created = f"{day(rng).isoformat()} 09:00:00.000000"
            asset_rows.append((asset.hex, performer.hex, "employment_based", "face", blob, 0, "x/y", created))
    conn.executemany(
        "INSERT INTO replica_assets (id, performer_id, kind, media, sha256, size, content_type, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        asset_rows,
    )
    grants: list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID | None, uuid.UUID, tuple[str, ...]]] = []
    grant_rows = []
    use_rows = []
    revocation_rows = []
    for _ in range(args.grants):
        performer = rng.choice(performers)
        scope = "use" if rng.random() < 0.85 else "creation"
        replica = rng.choice(assets[performer]) if scope == "use" else None
        production = rng.choice(productions)
        grant_id = uuid.uuid4()
        signed = day(rng, 900)
        expires = signed + timedelta(days=rng.randrange(180, 900)) if rng.random() < 0.4 else None
        keys = tuple(rng.sample(USE_KEYS, rng.choice((1, 1, 2, 3))))
        grant_rows.append(
            (
                grant_id.hex,
                performer.hex,
                scope,
                replica.hex if replica else None,
                production.hex,
                rng.random() < 0.95,
                rng.random() < 0.95,
                "performer",
                signed.isoformat(),
                None,
                expires.isoformat() if expires else None,
                rng.choice(("union", "union", "counsel", "none")),
                admin_id,
                NOW,
            )
        )
        for position, key in enumerate(keys):
            use_rows.append((uuid.uuid4().hex, grant_id.hex, position, key, f"{key}: scenes {position}-{position + 3}"))
        if rng.random() < 0.02:
            revocation_rows.append((uuid.uuid4().hex, grant_id.hex, day(rng).isoformat(), admin_id, NOW))
        grants.append((grant_id, performer, scope, replica, production, keys))
    conn.executemany(
        "INSERT INTO consent_grants (id, performer_id, scope, replica_asset_id, production_id, specific,"
        " separately_signed, signed_by, signed_on, valid_from, expires_on, representation, recorded_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        grant_rows,
    )
    conn.executemany(
        "INSERT INTO consent_grant_uses (id, grant_id, position, key, description) VALUES (?, ?, ?, ?, ?)", use_rows
    )
    conn.executemany(
        "INSERT INTO grant_revocations (id, grant_id, effective_on, revoked_by, created_at) VALUES (?, ?, ?, ?, ?)",
        revocation_rows,
    )
    conn.commit()
    conn.close()
    return {
        "settings": settings,
        "token": token,
        "grants": grants,
        "performers": performers,
        "productions": productions,
        "assets": assets,
        "insert_s": time.perf_counter() - started,
        "rows": len(grant_rows) + len(use_rows) + len(revocation_rows) + len(asset_rows) + len(performers),
    }


def make_requests(world: dict[str, Any], n: int, rng: random.Random) -> list[ClearanceQuery]:
    """A mix: mostly questions a producer would ask about its own grants, with every kind of miss."""
    grants = world["grants"]
    productions = world["productions"]
    assets = world["assets"]
    performers = world["performers"]
    out = []
    for _ in range(n):
        _grant_id, performer, scope, replica, production, keys = rng.choice(grants)
        roll = rng.random()
        role = rng.choice(("background", "principal"))
        on = day(rng, 1800)
        days = rng.choice((None, 1, 3, 5))
        if scope == "creation" or roll < 0.10:
            out.append(ClearanceQuery("create", performer, production, on, role, False, estimated_days=days))
            continue
        asset = replica or rng.choice(assets[performer])
        use = rng.choice(keys)
        if roll < 0.25:
            use = rng.choice(USE_KEYS)  # often not described
        elif roll < 0.35:
            production = rng.choice(productions)  # another production
        elif roll < 0.40:
            other = rng.choice(performers)  # a replica that may have no consent at all
            performer, asset = other, rng.choice(assets[other])
        if roll > 0.95:
            alteration = rng.choice(ALTERATIONS)
            out.append(
                ClearanceQuery("alter", performer, production, on, role, True, asset_id=asset, alteration=alteration)
            )
            continue
        out.append(ClearanceQuery("use", performer, production, on, role, rng.random() < 0.7, asset, use, days))
    return out


def query_json(q: ClearanceQuery) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": q.action,
        "performer_id": str(q.performer_id),
        "production_id": str(q.production_id),
        "on": q.on.isoformat(),
        "role": q.role,
        "replaces_in_person_work": q.replaces_in_person_work,
    }
    for name in ("asset_id", "use", "estimated_days", "alteration"):
        value = getattr(q, name)
        if value is not None:
            body[name] = str(value) if name == "asset_id" else value
    return body


# --- measurements ----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def in_process(index: ClearanceIndex, queries: list[ClearanceQuery]) -> dict[str, Any]:
    evaluate_one = index.evaluate
    for q in queries[:2000]:  # warm caches (rates, policies)
        evaluate_one(q)
    latencies = []
    clock = time.perf_counter_ns
    allowed = 0
    gc.disable()
    cpu_started = time.process_time()
    started = time.perf_counter()
    for q in queries:
        t0 = clock()
        decision = evaluate_one(q)
        latencies.append(clock() - t0)
        allowed += decision.decision == "allow"
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    gc.enable()
    latencies.sort()
    return {
        "decisions": len(queries),
        "allowed": allowed,
        "decisions_per_s": round(len(queries) / elapsed),
        # Wall-clock figures count time the process waited for a CPU on a shared machine; the
        # CPU-time rate is what one core gives this loop.
        "decisions_per_cpu_s": round(len(queries) / cpu),
        "p50_us": round(percentile(latencies, 0.50) / 1000, 1),
        "p99_us": round(percentile(latencies, 0.99) / 1000, 1),
        "max_us": round(latencies[-1] / 1000, 1),
    }


def check_equal(path: Path, index: ClearanceIndex, queries: list[ClearanceQuery], n: int) -> int:
    """Reports from the index equal those of the pure engine over cases built from the database."""
    db = Database(f"sqlite:///{path}", log_events=False)
    checked = 0
    with db.read() as session:
        for q in queries[:n]:
            assert index.evaluate(q).to_report() == evaluate(session, q).to_report(), q
            checked += 1
    db.dispose()
    return checked


def incremental_refresh(path: Path, index: ClearanceIndex, world: dict[str, Any], repeats: int = 20) -> dict[str, Any]:
    """Catching up after changes committed by another process: nothing new, one grant, one revocation.

    The changes go through a second :class:`Database` with event logging on, as another process
    (or the API) writes them; the index follows the transparency log instead of reloading.
    """
    reader = Database(f"sqlite:///{path}", log_events=False)
    writer = Database(f"sqlite:///{path}")
    clock = time.perf_counter
    try:
        nothing = []
        for _ in range(repeats):
            with reader.read() as session:
                started = clock()
                assert index.catch_up(session) == "current"
                nothing.append(clock() - started)
        performer = world["performers"][0]
        replica = world["assets"][performer][0]
        production = world["productions"][0]
        with writer.write() as session:
            admin = session.scalars(select(Account.id).limit(1)).one()
            grant = ConsentGrant(
                performer_id=performer,
                scope=ConsentScope.USE,
                replica_asset_id=replica,
                production_id=production,
                specific=True,
                separately_signed=True,
                signed_by=Signer.PERFORMER,
                signed_on=date(2026, 1, 1),
                representation=Representation.UNION,
                recorded_by=admin,
                uses=[GrantUse(position=0, key="bench-new-use", description="bench-new-use: scenes 1-3")],
            )
            session.add(grant)
        query = ClearanceQuery(
            action="use",
            performer_id=performer,
            production_id=production,
            on=date(2026, 6, 1),
            role="background",
            replaces_in_person_work=False,
            asset_id=replica,
            use="bench-new-use",
        )
        with reader.read() as session:
            started = clock()
            grant_outcome = index.catch_up(session)
            grant_s = clock() - started
            exact = evaluate(session, query).to_report()
        assert grant_outcome == "incremental", grant_outcome
        after_grant = index.evaluate(query).to_report()
        assert after_grant == exact, (after_grant, exact)
        with writer.write() as session:
            session.add(GrantRevocation(grant_id=grant.id, effective_on=date(2026, 3, 1), revoked_by=admin))
        with reader.read() as session:
            started = clock()
            revocation_outcome = index.catch_up(session)
            revocation_s = clock() - started
            exact = evaluate(session, query).to_report()
        assert revocation_outcome == "incremental", revocation_outcome
        after_revocation = index.evaluate(query)
        assert after_revocation.to_report() == exact, (after_revocation, exact)
    finally:
        reader.dispose()
        writer.dispose()
    nothing.sort()
    return {
        "nothing_new_ms_median": round(nothing[len(nothing) // 2] * 1000, 2),
        "one_grant_ms": round(grant_s * 1000, 2),
        "one_grant_decision": after_grant["decision"],
        "one_revocation_ms": round(revocation_s * 1000, 2),
        "after_revocation": [after_revocation.decision, *after_revocation.codes],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: str, url: str, port: int) -> None:
    """Child process: the API under uvicorn, one worker, access log off."""
    settings = load_settings(
        data_dir=Path(data_dir), database_url=url, environment="development", max_json_bytes=4 * 1024 * 1024
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def over_http(world: dict[str, Any], path: Path, queries: list[ClearanceQuery], batch: int) -> dict[str, Any]:
    port = free_port()
    settings = world["settings"]
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(settings.data_dir), f"sqlite:///{path}", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for _ in range(300):
            try:
                conn.request("GET", "/health")
                conn.getresponse().read()
                break
            except OSError:
                conn.close()
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
        bodies = [
            json.dumps({"queries": [query_json(q) for q in queries[i : i + batch]]}).encode()
            for i in range(0, len(queries), batch)
        ]
        load_started = time.perf_counter()
        conn.request("POST", "/clearances/batch", body=bodies[0], headers=headers)
        warm = conn.getresponse()
        assert warm.status == 200, warm.read()[:500]
        warm.read()
        first_batch_s = time.perf_counter() - load_started  # includes loading the index in the server
        latencies = []
        server_cpu = cpu_seconds(child.pid)
        started = time.perf_counter()
        decided = 0
        for body in bodies:
            t0 = time.perf_counter()
            conn.request("POST", "/clearances/batch", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            assert response.status == 200, payload[:500]
            decided += payload.count(b'"decision":')
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(child.pid) - server_cpu
        latencies.sort()
        return {
            "server": "uvicorn (subprocess, 1 worker), client http.client keep-alive, sequential",
            "decisions": decided,
            "batch": batch,
            "decisions_per_s": round(decided / elapsed),
            "decisions_per_server_cpu_s": round(decided / server_cpu) if server_cpu > 0 else None,
            "batch_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "batch_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "batch_max_ms": round(latencies[-1] * 1000, 1),
            "batches_over_1s": sum(1 for x in latencies if x > 1),
            "first_batch_s_incl_index_load": round(first_batch_s, 1),
        }
    finally:
        child.terminate()
        child.wait(30)


def cedar_baseline(world: dict[str, Any], n_policies: int, n_requests: int, rng: random.Random) -> dict[str, Any]:
    """The same grants as Cedar policies: coverage (replica, production, use) and the date window."""
    revoked: dict[str, int] = {}
    grants = [g for g in world["grants"] if g[2] == "use"][:n_policies]
    with sqlite3.connect(world["db_path"]) as conn:
        details = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT g.id, g.signed_on, g.expires_on, r.effective_on FROM consent_grants g"
                " LEFT JOIN grant_revocations r ON r.grant_id = g.id"
                f" WHERE g.id IN ({','.join('?' * len(grants))})",
                [g[0].hex for g in grants],
            )
        }

    def ordinal(text: str | None) -> int | None:
        return date.fromisoformat(text).toordinal() if text else None

    policies = []
    for grant_id, _performer, _scope, replica, production, keys in grants:
        signed, expires, revocation = (ordinal(v) for v in details[grant_id.hex])
        conditions = [
            f'context.production == "{production}"',
            f"[{', '.join(json.dumps(k) for k in keys)}].contains(context.use)",
            f"context.day >= {signed}",
        ]
        if expires is not None:
            conditions.append(f"context.day <= {expires}")
        if revocation is not None:
            conditions.append(f"context.day < {revocation}")
            revoked[grant_id.hex] = revocation
        policies.append(
            f'@id("{grant_id}")\npermit (principal, action == Action::"use", resource == Replica::"{replica}")\n'
            f"when {{ {' && '.join(conditions)} }};"
        )
    text = "\n".join(policies)
    requests = []
    for _ in range(n_requests):
        _grant_id, _performer, _scope, replica, production, keys = rng.choice(grants)
        use = rng.choice(keys) if rng.random() < 0.7 else rng.choice(USE_KEYS)
        requests.append(
            {
                "principal": 'Producer::"p"',
                "action": 'Action::"use"',
                "resource": f'Replica::"{replica}"',
                "context": {"production": str(production), "use": use, "day": day(rng, 1800).toordinal()},
            }
        )
    out: dict[str, Any] = {"policies": len(policies), "requests": len(requests)}
    text_requests = requests[: max(50, n_requests // 50)]
    started = time.perf_counter()
    for request in text_requests:
        cedarpy.is_authorized(request, text, [])
    out["is_authorized_text_per_s"] = round(len(text_requests) / (time.perf_counter() - started))
    policy_set = cedarpy.PolicySet.from_str(text)
    entities = cedarpy.Entities.from_json_str("[]")
    latencies = []
    allowed = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for request in requests:
        t0 = time.perf_counter_ns()
        result = cedarpy.is_authorized(request, policy_set, entities)
        latencies.append(time.perf_counter_ns() - t0)
        allowed += result.allowed
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    latencies.sort()
    out["is_authorized_parsed_per_s"] = round(len(requests) / elapsed)
    out["is_authorized_parsed_per_cpu_s"] = round(len(requests) / cpu)
    out["is_authorized_parsed_p99_us"] = round(percentile(latencies, 0.99) / 1000, 1)
    out["allowed"] = allowed
    started = time.perf_counter()
    cedarpy.is_authorized_batch(requests, policy_set, entities)
    out["is_authorized_batch_per_s"] = round(len(requests) / (time.perf_counter() - started))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--performers", type=int, default=100_000)
    parser.add_argument("--productions", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--http-requests", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--check", type=int, default=2_000, help="requests compared with evaluate()")
    parser.add_argument("--cedar-policies", type=int, default=1_000)
    parser.add_argument("--cedar-requests", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where the database goes (default: a temp folder)")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="clearance-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "ledger.db"
    if path.exists():
        path.unlink()
    results: dict[str, Any] = {"grants": args.grants, "performers": args.performers, "productions": args.productions}
    results["load_average_at_start"] = [round(x, 1) for x in os.getloadavg()]
    try:
        world = build_database(path, args)
        world["db_path"] = path
        results["insert_s"] = round(world["insert_s"], 1)
        results["db_mb"] = round(path.stat().st_size / 2**20)
        print(f"database: {args.grants} grants, {world['rows']} rows in {world['insert_s']:.1f} s", file=sys.stderr)

        db = Database(f"sqlite:///{path}", log_events=False)
        started = time.perf_counter()
        with db.read() as session:
            index = ClearanceIndex.load(session)
        results["index_load_s"] = round(time.perf_counter() - started, 1)
        gc.freeze()  # as clearance_index() does in the server
        results["index_grants"] = index.grant_count
        results["rss_mb_after_load"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        db.dispose()
        print(f"index loaded in {results['index_load_s']} s", file=sys.stderr)

        rng = random.Random(args.seed + 1)
        queries = make_requests(world, args.requests, rng)
        results["in_process"] = in_process(index, queries)
        print(f"in-process: {results['in_process']}", file=sys.stderr)
        results["checked_equal_to_evaluate"] = check_equal(path, index, queries, args.check)
        results["incremental_refresh"] = incremental_refresh(path, index, world)
        print(f"incremental refresh: {results['incremental_refresh']}", file=sys.stderr)
        del index
        gc.collect()

        if args.http_requests:
            http_queries = queries[: args.http_requests]
            results["http_batch"] = over_http(world, path, http_queries, args.batch)
            print(f"http: {results['http_batch']}", file=sys.stderr)
        if args.cedar_policies:
            results["cedarpy"] = cedar_baseline(world, args.cedar_policies, args.cedar_requests, rng)
            print(f"cedarpy: {results['cedarpy']}", file=sys.stderr)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    results["python"] = sys.version.split()[0]
    results["cpus"] = os.cpu_count()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
