"""Benchmark: the union's monthly statement run and one large statement, SQLite and PostgreSQL.

Builds a synthetic union-sized ledger in a scratch database (a temporary SQLite file; a
PostgreSQL database created for the run and dropped after it), then measures:

- the monthly run (:func:`likeness_ledger.usage.statements.monthly_run`) for the last month of
  the ledger: every performer with lines in the month or a balance carried into it gets a CSV
  statement written to disk. It runs in a child process so its peak RSS is its own, and it is
  measured twice: with half the usage lines loaded and with all of them, to show memory stays
  flat as the data grows;
- the baseline in the same run: the naive way, loading the month's obligation rows as ORM
  objects and grouping them per performer in memory (also in a child process, both sizes);
- one performer's statement with ``--big`` lines in that month (JSON-ready totals and lines,
  CSV text, and the PDF, which itemises its first 1,000 lines).

    .venv/bin/python benchmarks/statements.py --performers 16000 --lines 1000000        # scaled
    .venv/bin/python benchmarks/statements.py --performers 160000 --lines 10000000      # full size
    .venv/bin/python benchmarks/statements.py --only-one --performers 2000 --lines 200000  # one statement

``--only-one`` loads the lines in one go and measures only the one large statement (no monthly
run, no baseline). Its times are best of ``--repeat`` (wall clock, and this process's CPU time,
which moves less when the machine is shared).

Lines are usage obligations spread over ``--months`` months; there is one payment for every 20
lines (no clearance is run: this measures statements). The usage lines and payments are loaded
with each database's bulk path: PostgreSQL ``COPY ... FROM STDIN`` (psycopg 3), SQLite raw
``sqlite3`` ``executemany`` with ``synchronous=OFF``, ``journal_mode=OFF`` and a 1 GiB page cache
for the load only. Values are encoded with the models' own column types (the bind processors
SQLAlchemy uses), so the rows are the ones an ORM insert would store. ``--loader core`` inserts
them through SQLAlchemy Core instead (about 6,000 rows/s; kept to check the bulk path against).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, func, insert, select, text
from sqlalchemy.engine import Dialect, make_url

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.all_models import Base
from likeness_ledger.db import Database
from likeness_ledger.registry.models import Performer, PerformerCategory, Producer, Production, ProductionType
from likeness_ledger.usage import documents, statements
from likeness_ledger.usage.models import Obligation, ObligationKind, Payment

UNION = Principal(uuid.uuid4(), "union", Role.UNION)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BATCH = 20_000


def month_start(first: date, offset: int) -> date:
    year, month = divmod(first.month - 1 + offset, 12)
    return date(first.year + year, month + 1, 1)


def rss_mb() -> float:
    """This process's peak RSS in MB.

    On Linux this is ``VmHWM``, the high-water mark of the process's own address space.
    ``ru_maxrss`` is not used there: ``subprocess`` starts children with vfork, and the kernel
    carries the parent's high-water mark across the exec into the child's ``ru_maxrss``, so a child
    would report at least the parent's peak (which, after a load, is the parent's, not its own).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- building the ledger ------------------------------------------------------------------------


class World:
    def __init__(self, url: str, performers: int, months: int, seed: int, loader: str = "bulk") -> None:
        self.url = url
        self.loader = loader
        self.months = months
        self.first = date(2025, 1, 1)
        self.rng = random.Random(seed)
        self.engine = create_engine(url)
        Base.metadata.create_all(self.engine)
        self.producers = [uuid.uuid4() for _ in range(max(2, performers // 1000))]
        self.productions = [(uuid.uuid4(), self.rng.choice(self.producers)) for _ in range(len(self.producers) * 10)]
        self.performers = [uuid.uuid4() for _ in range(performers)]
        self.big = self.performers[0]
        with self.engine.begin() as conn:
            conn.execute(
                insert(Producer),
                [{"id": p, "name": f"Producer {i}", "created_at": NOW} for i, p in enumerate(self.producers)],
            )
            conn.execute(
                insert(Production),
                [
                    {
                        "id": p,
                        "producer_id": q,
                        "title": f"Production {i}",
                        "type": ProductionType.THEATRICAL,
                        "agreement": "sag-aftra-tv-theatrical-2026",
                        "created_at": NOW,
                    }
                    for i, (p, q) in enumerate(self.productions)
                ],
            )
            for start in range(0, performers, BATCH):
                conn.execute(
                    insert(Performer),
                    [
                        {
                            "id": p,
                            "legal_name": f"Performer {start + i}",
                            "category": PerformerCategory.BACKGROUND,
                            "created_at": NOW,
                        }
                        for i, p in enumerate(self.performers[start : start + BATCH])
                    ],
                )
        self.lines = 0

    @property
    def last_month(self) -> date:
        return month_start(self.first, self.months - 1)

    def generate(self, count: int, *, big: int = 0) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """Yield batches of (usage lines, payments) as row dicts; ``big`` lines are the big performer's.

        Payments come out in batches of at least ``BATCH`` (the last one smaller). The random
        draws are the same whichever loader stores the rows.
        """
        rng = self.rng
        days = [28] * self.months
        payments: list[dict[str, Any]] = []
        done = 0
        while done < count:
            rows = []
            for _ in range(min(BATCH, count - done)):
                if done < big:
                    performer, month = self.big, self.months - 1
                else:
                    performer, month = rng.choice(self.performers), rng.randrange(self.months)
                production, producer = rng.choice(self.productions)
                on = month_start(self.first, month).replace(day=rng.randint(1, days[month]))
                days_worked = rng.randint(1, 5)
                oid = uuid.uuid4()
                rows.append(
                    {
                        "id": oid,
                        "root_id": oid,
                        "kind": ObligationKind.USAGE,
                        "performer_id": performer,
                        "producer_id": producer,
                        "production_id": production,
                        "amount": Decimal(231 * days_worked),
                        "currency": "USD",
                        "basis": f"{days_worked} days x background day scale 231.00",
                        "incurred_on": on,
                        "recorded_on": on,
                        "pending_rate": False,
                        "residuals_due": True,
                        "rate_agreement": "sag-aftra-tv-theatrical-2026",
                        "rate_category": "background",
                        "rate_per": "day",
                        "rate_effective": date(2026, 7, 1),
                        "rate_amount": Decimal("231.00"),
                        "rate_source": "RULES.md §2",
                        "rate_confidence": "U",
                        "created_by": "bench",
                        "created_at": NOW,
                    }
                )
                if rng.randrange(20) == 0:
                    payments.append(
                        {
                            "id": uuid.uuid4(),
                            "producer_id": producer,
                            "performer_id": performer,
                            "amount": Decimal(200 * days_worked),
                            "currency": "USD",
                            "paid_on": on,
                            "reference": None,
                            "recorded_by": "bench",
                            "created_at": NOW,
                        }
                    )
                done += 1
            if len(payments) >= BATCH or done >= count:
                yield rows, payments
                payments = []
            else:
                yield rows, []
            print(f"  inserted {self.lines + done:,} lines", end="\r", file=sys.stderr)

    def add_lines(self, count: int, *, big: int = 0) -> None:
        """Insert ``count`` usage lines (``big`` of them the big performer's, in the last month)."""
        batches = self.generate(count, big=big)
        if self.loader == "core":
            with self.engine.begin() as conn:
                for rows, payments in batches:
                    conn.execute(insert(Obligation), rows)
                    if payments:
                        conn.execute(insert(Payment), payments)
        elif self.engine.dialect.name == "postgresql":
            self._copy_postgres(batches)
        else:
            self._executemany_sqlite(batches)
        self.lines += count
        print(file=sys.stderr)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))

    def _copy_postgres(self, batches: Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
        """One transaction; one ``COPY FROM STDIN`` per generated batch and table."""
        dialect = self.engine.dialect
        lines, pays = Encoder(_table(Obligation), dialect), Encoder(_table(Payment), dialect)
        with self.engine.begin() as conn:
            raw: Any = conn.connection.driver_connection  # a psycopg 3 Connection
            with raw.cursor() as cursor:
                for rows, payments in batches:
                    for encoder, batch in ((lines, rows), (pays, payments)):
                        if not batch:
                            continue
                        with cursor.copy(encoder.copy_sql) as copy:
                            for row in batch:
                                copy.write_row(encoder.encode(row))

    def _executemany_sqlite(self, batches: Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
        """Raw ``sqlite3`` on its own connection: durability off and a big cache for the load only.

        The pragmas are per connection (``journal_mode=OFF`` is not kept in the file, unlike
        WAL), so the measured run afterwards opens the database with its normal settings.
        """
        dialect = self.engine.dialect
        lines, pays = Encoder(_table(Obligation), dialect), Encoder(_table(Payment), dialect)
        path = make_url(self.url).database
        assert path is not None
        self.engine.dispose()
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA journal_mode=OFF")
            # 1 GiB of page cache: the random-UUID indexes otherwise thrash the 2 MB default.
            conn.execute("PRAGMA cache_size=-1048576")
            conn.execute("BEGIN")
            for rows, payments in batches:
                conn.executemany(lines.insert_sql, map(lines.encode, rows))
                if payments:
                    conn.executemany(pays.insert_sql, map(pays.encode, payments))
            conn.execute("COMMIT")
        finally:
            conn.close()


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Encoder:
    """Row dicts to tuples of what the database stores, through the columns' own bind processors.

    This is what SQLAlchemy would send (UUIDs as 32-char hex on SQLite, enums by name, money as
    integer cents, dates and timestamps in the dialect's form). Converted values are cached per
    column, except for the columns whose values never repeat (the ids).
    """

    UNIQUE = frozenset({"id", "root_id"})

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.names = [column.name for column in table.columns]
        self.processors: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
        ]
        self.caches: list[dict[Any, Any] | None] = [None if n in self.UNIQUE else {} for n in self.names]
        columns = ", ".join(self.names)
        self.copy_sql = f"COPY {table.name} ({columns}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join('?' * len(self.names))})"

    def encode(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The stored values of one row, in column order (absent columns are NULL)."""
        out = []
        for name, processor, cache in zip(self.names, self.processors, self.caches, strict=True):
            value = row.get(name)
            if processor is None or value is None:
                out.append(value)
            elif cache is None:
                out.append(processor(value))
            else:
                try:
                    out.append(cache[value])
                except KeyError:
                    cache[value] = encoded = processor(value)
                    out.append(encoded)
        return tuple(out)


# --- measurements (run in child processes for their own peak RSS) --------------------------------


def child_run(url: str, period_label: str, mode: str) -> dict[str, Any]:
    db = Database(url)
    period = statements.parse_period(period_label)
    out = Path(tempfile.mkdtemp(prefix="statement-run-"))
    started = time.perf_counter()
    try:
        if mode == "run":

            def write(statement: statements.Statement) -> None:
                with (out / f"{statement.subject_id}.csv").open("w", encoding="utf-8", newline="") as handle:
                    documents.write_csv(statement, handle)

            summary = statements.monthly_run(db, period, write)
            result: dict[str, Any] = {"statements": summary.statements, "lines": summary.lines}
        else:
            # Baseline: every obligation of the month as an ORM object, grouped per performer.
            with db.read() as session:
                rows = session.scalars(
                    select(Obligation).where(
                        Obligation.incurred_on >= period.start, Obligation.incurred_on <= period.end
                    )
                ).all()
                grouped: dict[uuid.UUID, list[Obligation]] = {}
                for row in rows:
                    grouped.setdefault(row.performer_id, []).append(row)
                result = {"statements": len(grouped), "lines": len(rows)}
    finally:
        shutil.rmtree(out, ignore_errors=True)
        db.dispose()
    result.update({"seconds": time.perf_counter() - started, "rss_mb": rss_mb()})
    return result


def measure_child(url: str, period: str, mode: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--period", period],
        check=True,
        capture_output=True,
        text=True,
    )
    parsed: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return parsed


def one_statement(url: str, performer: uuid.UUID, period_label: str, repeat: int = 3) -> dict[str, Any]:
    db = Database(url)
    period = statements.parse_period(period_label)
    best: dict[str, float] = {}
    for _ in range(repeat):
        with db.read() as session:
            t0, c0 = time.perf_counter(), time.process_time()
            statement = statements.performer_statement(session, UNION, performer, period)
            t1, c1 = time.perf_counter(), time.process_time()
        csv_text = documents.csv_text(statement)
        t2, c2 = time.perf_counter(), time.process_time()
        pdf = documents.pdf_bytes(statement)
        t3, c3 = time.perf_counter(), time.process_time()
        for key, value in (
            ("build", t1 - t0),
            ("csv", t2 - t1),
            ("pdf", t3 - t2),
            ("build+csv", t2 - t0),
            ("all", t3 - t0),
            ("build cpu", c1 - c0),
            ("csv cpu", c2 - c1),
            ("pdf cpu", c3 - c2),
            ("build+csv cpu", c2 - c0),
            ("all cpu", c3 - c0),
        ):
            best[key] = min(best.get(key, value), value)
    db.dispose()
    return {
        "lines": len(statement.lines),
        "closing": str(statement.closing),
        "csv_bytes": len(csv_text),
        "pdf_bytes": len(pdf),
        **best,
    }


# --- databases -----------------------------------------------------------------------------------


def scratch(kind: str, pg_url: str) -> tuple[str, Any]:
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="statements-bench-"))
        return f"sqlite:///{folder / 'ledger.db'}", lambda: shutil.rmtree(folder, ignore_errors=True)
    name = f"ll_bench_statements_{os.getpid()}"
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = pg_url.rsplit("/", 1)[0]

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}", drop


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    url, drop = scratch(kind, args.pg_url)
    print(f"[{kind}] {args.performers:,} performers, {args.lines:,} lines over {args.months} months", file=sys.stderr)
    try:
        world = World(url, args.performers, args.months, args.seed, args.loader)
        period = world.last_month.strftime("%Y-%m")
        if args.only_one:
            t0 = time.perf_counter()
            world.add_lines(args.lines, big=args.big)
            return {
                "db": kind,
                "period": period,
                "load_seconds": time.perf_counter() - t0,
                "single": one_statement(url, world.big, period, args.repeat),
            }
        half = args.lines // 2
        t0 = time.perf_counter()
        world.add_lines(half, big=args.big)
        load_half = time.perf_counter() - t0
        sizes = []
        sizes.append(
            {
                "lines": world.lines,
                "run": measure_child(url, period, "run"),
                "baseline": measure_child(url, period, "baseline"),
            }
        )
        t0 = time.perf_counter()
        world.add_lines(args.lines - half)
        load_rest = time.perf_counter() - t0
        sizes.append(
            {
                "lines": world.lines,
                "run": measure_child(url, period, "run"),
                "baseline": measure_child(url, period, "baseline"),
            }
        )
        single = one_statement(url, world.big, period, args.repeat)
        engine = create_engine(url)
        with engine.connect() as conn:
            month_lines = conn.execute(
                select(func.count()).select_from(Obligation).where(Obligation.incurred_on >= world.last_month)
            ).scalar_one()
        engine.dispose()
        return {
            "db": kind,
            "period": period,
            "load_seconds": load_half + load_rest,
            "month_lines": month_lines,
            "sizes": sizes,
            "single": single,
        }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--performers", type=int, default=16_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--big", type=int, default=100_000, help="lines of the one large statement")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a database to connect to for CREATE/DROP DATABASE of the scratch database",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--loader",
        default="bulk",
        choices=["bulk", "core"],
        help="bulk: COPY (PostgreSQL) / raw sqlite3 executemany; core: SQLAlchemy Core inserts (slow)",
    )
    parser.add_argument("--only-one", action="store_true", help="measure only the one large statement")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the one statement (the best is kept)")
    parser.add_argument("--child", choices=["run", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--period", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_run(args.url, args.period, args.child)))
        return
    results = [bench(kind, args) for kind in args.db]
    print(json.dumps(results, indent=2))
    for r in results:
        s = r["single"]
        line = (
            f"\n{r['db']}: one statement, {s['lines']:,} lines: build {s['build']:.2f} s, "
            f"CSV {s['csv']:.2f} s (build+CSV {s['build+csv']:.2f} s), PDF {s['pdf']:.2f} s; CPU: build "
            f"{s['build cpu']:.2f} s, CSV {s['csv cpu']:.2f} s (build+CSV {s['build+csv cpu']:.2f} s), "
            f"PDF {s['pdf cpu']:.2f} s"
        )
        print(line)
        if "sizes" not in r:
            continue
        print(f"{r['db']}: month {r['period']} has {r['month_lines']:,} lines; load {r['load_seconds']:.0f} s")
        print(
            f"{'total lines':>12} {'run s':>8} {'run RSS MB':>11} {'statements':>11} "
            f"{'baseline s':>11} {'baseline RSS MB':>16}"
        )
        for size in r["sizes"]:
            run, base = size["run"], size["baseline"]
            print(
                f"{size['lines']:>12,} {run['seconds']:>8.1f} {run['rss_mb']:>11.0f} {run['statements']:>11,} "
                f"{base['seconds']:>11.1f} {base['rss_mb']:>16.0f}"
            )


if __name__ == "__main__":
    main()
