"""The persistent transparency log: append events, sign checkpoints, hand out receipts, audit.

A thin storage layer over the pure algorithms of :mod:`~likeness_ledger.transparency.merkle`,
:mod:`~likeness_ledger.transparency.checkpoint` and :mod:`~likeness_ledger.transparency.receipts`.
Every function takes the caller's session: :func:`append` writes the leaf and the subtree hashes
it completes inside the caller's transaction, so an event and the business change it records
commit or roll back together. Appenders are serialised (SQLite has one writer; PostgreSQL takes a
transaction-scoped advisory lock), so leaf indices are dense and never race.
"""

from __future__ import annotations

import array
import collections
import functools
import hashlib
import itertools
import json
import os
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final

import orjson
import rfc8785
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool, SingletonThreadPool, StaticPool

from likeness_ledger.config import Settings
from likeness_ledger.db import utcnow
from likeness_ledger.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from likeness_ledger.keyfiles import load_or_create_signing_key
from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.canonical import canonical_json
from likeness_ledger.transparency.checkpoint import Checkpoint, Note, Signer
from likeness_ledger.transparency.errors import TreeRangeError, VerificationError
from likeness_ledger.transparency.models import (
    BLOCK_LEAVES,
    STORED_FROM,
    LogBlock,
    LogCheckpoint,
    LogLeaf,
    LogNode,
    LogPerformerRun,
)
from likeness_ledger.transparency.receipts import Receipt

__all__ = [
    "DbNodeSource",
    "LogCorrupted",
    "append",
    "append_many",
    "audit",
    "cached_levels",
    "configure_node_cache",
    "consistency_proof",
    "forget_shared_nodes",
    "hex_proof",
    "inclusion_proof",
    "latest_checkpoint",
    "log_signer",
    "receipt",
    "root",
    "sign_checkpoint",
    "size",
    "verifier_key",
]

ADVISORY_LOCK_KEY: Final = 0x6C6C_6F67  # "llog": the key PostgreSQL appenders serialise on
_EVENT_TYPE_MAX: Final = 64
_BATCH: Final = 1000
_NODE_CACHE_KEY: Final = "likeness.log_node_cache"
_SEEN_SIZE_KEY: Final = "likeness.log_seen_size"
_NODE_CACHE_MAX: Final = 1 << 18  # hashes (~20 MB) one session may keep before starting afresh
_WROTE_KEY: Final = "likeness.log_wrote"  # set once a session appended: it no longer publishes nodes
DEFAULT_CACHE_BUDGET: Final = 64 * 1024 * 1024  # bytes of committed hashes a process keeps per database
_SHARED_NODES_MIN: Final = 1 << 12  # single cached nodes allowed even with no budget
_NODE_ENTRY_BYTES: Final = 200  # what one single cached node costs in a dict: key tuple, bytes, slot
_REFRESH_SHIFT: Final = 4  # whole-level buffers are brought up to date once the log grew by 1/16
_LEVEL_CHUNK: Final = 1 << 14  # rows fetched at a time when reading a level in bulk
_RANGE_CACHE_MAX: Final = 1 << 12  # folded right-edge hashes kept per database
_BLOCK_BYTES: Final = (2 * BLOCK_LEAVES - 2) * merkle.HASH_SIZE  # a log_blocks row: 30 hashes


class LogCorrupted(IntegrityFailure):
    """The stored log does not match itself: an event, leaf hash, node or checkpoint was altered.

    ``index`` is the first leaf index found at fault (for a node, the first leaf it covers).
    """

    def __init__(self, message: str, *, index: int | None) -> None:
        super().__init__(message)
        self.index = index


# --- keys ----------------------------------------------------------------------------------------


def log_signer(settings: Settings, *, create: bool = False) -> Signer:
    """The log's note signer: the data folder's Ed25519 key, named after ``settings.log_origin``."""
    key = load_or_create_signing_key(settings.signing_key_path, create=create)
    return Signer(settings.log_origin, key)


def verifier_key(settings: Settings) -> str:
    """The verifier key (``name+keyid+base64``) users need to check checkpoints and receipts offline."""
    return log_signer(settings).vkey


# --- reading -------------------------------------------------------------------------------------


class _Driver:
    """The DBAPI connection under a session's transaction, for the hot paths (bulk append, proof reads).

    Going below SQLAlchemy here is what makes durable appends and database-backed proofs run at
    in-memory speeds: Core statement execution costs ~100 µs a call, a proof needs one query and
    an append batch a few thousand rows. Values still go through the columns' own bind
    processors, so rows are stored exactly as the ORM would store them.
    """

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect
        self.is_postgres = self.dialect.name == "postgresql"
        self.raw: Any = connection.connection.driver_connection
        self.mark = "%s" if self.is_postgres else "?"

    def cursor(self) -> Any:
        """A new DBAPI cursor in the session's transaction."""
        return self.raw.cursor()

    def binder(self, column: Any) -> Callable[[Any], Any]:
        """The dialect's bind processor for ``column`` (identity when it has none)."""
        process = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process if process is not None else _identity


def _identity(value: Any) -> Any:
    return value


def size(session: Session) -> int:
    """Number of leaves in the log."""
    cursor = _Driver(session).cursor()
    try:
        cursor.execute('SELECT max("index") FROM log_leaves')
        last = cursor.fetchone()[0]
    finally:
        cursor.close()
    return 0 if last is None else int(last) + 1


class _SharedNodes:
    """Committed complete-subtree hashes of one database, kept for the whole process.

    A complete subtree's hash never changes once its transaction commits (the log only grows),
    so a node any reader has seen can serve every later proof on any session of the same
    engine. Only committed nodes get here: sessions that appended to the log never publish
    (their own nodes could still roll back), and engines whose sessions share one connection
    (in-memory SQLite) get no shared cache, since a reader there could see another session's
    uncommitted rows.

    Two stores, both bounded by ``budget`` (bytes):

    * ``levels``: whole upper levels of ``log_nodes``, each one ``bytes`` object of 32-byte
      hashes in index order (node ``i`` at ``[32·i, 32·i + 32)``; no Python object per hash).
      Every proof needs one node from each level, so with the levels that fit in ``budget``
      in memory a proof reads only its few lowest levels from the database (at 10M leaves and
      64 MiB: levels 4 and up, 40 MB; a proof reads 4 rows instead of 24). They are read in
      bulk on first use (:meth:`refresh`) and extended with the new tails once the log has
      grown by a sixteenth; as the log outgrows the budget the lowest level is dropped.
    * ``nodes``: single nodes below those levels, as proofs read them, plus right-edge hashes
      of past sizes (``ranges``); past about a quarter of the budget the lowest levels go first.

    Readers take each store's current object once (``levels``, ``nodes``) and never see it
    change under them: refreshes and evictions swap in new objects whole. The lock keeps two
    refreshes or evictions from interleaving; a reader never waits for it.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.node_limit = max(_SHARED_NODES_MIN, budget // (4 * _NODE_ENTRY_BYTES))
        self.levels: dict[int, bytes] = {}
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.ranges: dict[tuple[int, int], bytes] = {}
        self.refresh_at = 1  # the tree size from which a reader brings ``levels`` up to date
        self._lock = threading.Lock()

    @property
    def level_bytes(self) -> int:
        """Bytes held in whole-level buffers (at most ``budget``)."""
        return sum(len(buf) for buf in self.levels.values())

    def add(self, found: dict[tuple[int, int], bytes]) -> None:
        self.nodes.update(found)
        if len(self.nodes) > self.node_limit:
            self._evict()

    def add_range(self, begin: int, end: int, value: bytes) -> None:
        if len(self.ranges) >= _RANGE_CACHE_MAX:
            self.ranges.clear()  # a handful of live sizes at a time; old ones are rarely asked again
        self.ranges[begin, end] = value

    def _evict(self) -> None:
        with self._lock:
            per_level = collections.Counter(level for level, _ in self.nodes)
            keep, floor = 0, 64
            while floor > 0 and keep + per_level[floor - 1] <= self.node_limit // 2:
                floor -= 1
                keep += per_level[floor]
            # A new dict swapped in whole: readers holding the old one's ``get`` still work.
            self.nodes = {key: value for key, value in self.nodes.items() if key[0] >= floor}

    def floor_for(self, tree_size: int) -> int:
        """The lowest stored level from which all levels of a ``tree_size`` tree fit in the budget."""
        floor, total = tree_size.bit_length(), 0
        while floor > STORED_FROM and total + (tree_size >> (floor - 1)) * merkle.HASH_SIZE <= self.budget:
            floor -= 1
            total += (tree_size >> floor) * merkle.HASH_SIZE
        return floor

    def refresh(self, tree_size: int, read_level: Callable[[int, int, int], bytes | None]) -> None:
        """Bring ``levels`` up to ``tree_size``: drop what no longer fits, read what is new.

        ``read_level(level, start, stop)`` returns the concatenated hashes of nodes
        ``start..stop-1`` of a level, or None if any is missing. Levels a tree of
        ``tree_size`` leaves fills are read top-down (a level already held only from its
        end on). Another thread already refreshing means this one goes on without waiting.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            if tree_size < self.refresh_at:
                return  # another thread has just done it
            floor = self.floor_for(tree_size)
            levels: dict[int, bytes] = {}
            for level in range(tree_size.bit_length() - 1, floor - 1, -1):
                held = self.levels.get(level, b"")
                count = tree_size >> level
                if len(held) >> 5 > count:  # held for a larger size (a caller behind the others)
                    levels[level] = held
                    continue
                tail = read_level(level, len(held) >> 5, count)
                if tail is None:
                    break  # a missing node: leave this level and those below to point reads
                levels[level] = held + tail if held else tail
            self.levels = levels
            self.refresh_at = tree_size + max(tree_size >> _REFRESH_SHIFT, 1)
        finally:
            self._lock.release()

    def clear(self) -> None:
        with self._lock:
            self.levels = {}
            self.nodes = {}
            self.ranges = {}
            self.refresh_at = 1


# One shared cache per connection pool: an engine and the option engines derived from it (the
# writer's) share a pool, and disposing of an engine gives it a new pool, hence a fresh cache.
_SHARED: Final[weakref.WeakKeyDictionary[Pool, _SharedNodes]] = weakref.WeakKeyDictionary()
_BUDGETS: Final[weakref.WeakKeyDictionary[Pool, int]] = weakref.WeakKeyDictionary()
_SHARED_LOCK: Final = threading.Lock()


def configure_node_cache(engine: Engine, budget_bytes: int) -> None:
    """Set the memory budget of ``engine``'s process-wide node cache (``LIKENESS_LOG_CACHE_BYTES``).

    0 turns the whole-level buffers off (single nodes are still cached, up to
    ``_SHARED_NODES_MIN``). Takes effect at once; levels over the new budget are dropped.
    """
    if budget_bytes < 0:
        raise ValueError(f"log cache budget: expected >= 0 bytes, got {budget_bytes}")
    with _SHARED_LOCK:
        _BUDGETS[engine.pool] = budget_bytes
        _SHARED.pop(engine.pool, None)


def _shared_nodes(session: Session) -> _SharedNodes | None:
    if session.info.get(_WROTE_KEY):
        return None
    bind = session.get_bind()
    if not isinstance(bind, Engine) or isinstance(bind.pool, StaticPool | SingletonThreadPool):
        return None  # a session on one connection's transaction, or one connection shared by all
    with _SHARED_LOCK:
        shared = _SHARED.get(bind.pool)
        if shared is None:
            shared = _SHARED[bind.pool] = _SharedNodes(_BUDGETS.get(bind.pool, DEFAULT_CACHE_BUDGET))
    return shared


def cached_levels(engine: Engine) -> dict[int, int]:
    """The tree levels this process holds whole for ``engine``'s database, each with its number of hashes."""
    shared = _SHARED.get(engine.pool)
    return {} if shared is None else {level: len(buffer) >> 5 for level, buffer in shared.levels.items()}


def forget_shared_nodes() -> None:
    """Empty the process-wide caches of committed nodes (benchmarks measuring cold reads; tests).

    Never needed for correctness: committed nodes never change. A database file replaced under
    a running process (restoring a backup) is the one case that calls for it.
    """
    with _SHARED_LOCK:
        for shared in list(_SHARED.values()):
            shared.clear()


class _SessionNodes:
    """What one session keeps between proofs: nodes and right-edge hashes it read, its DBAPI driver."""

    __slots__ = ("driver", "nodes", "ranges", "shared", "transaction")

    def __init__(self, session: Session) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.ranges: dict[tuple[int, int], bytes] = {}
        self.shared = _shared_nodes(session)
        self.transaction: object = None
        self.driver: _Driver | None = None


def _session_nodes(session: Session) -> _SessionNodes:
    state: _SessionNodes | None = session.info.get(_NODE_CACHE_KEY)
    if state is None or len(state.nodes) > _NODE_CACHE_MAX:
        state = session.info[_NODE_CACHE_KEY] = _SessionNodes(session)
    return state


class DbNodeSource:
    """A :class:`~likeness_ledger.transparency.merkle.NodeSource` reading the log tables.

    Levels from ``STORED_FROM`` up are ``log_nodes``; those below come from the ``log_blocks``
    row of their 16-leaf block, or, in the last block when it is incomplete, are hashed from
    its leaves in ``log_leaves``. Only complete subtrees within ``tree_size`` are served.
    :meth:`hashes` reads any number of them with one query.

    A session that has appended keeps what it reads in its own cache (``session.info``, dropped
    on rollback), since it may read its own uncommitted nodes; every other session reads through
    the process-wide cache of committed nodes (:class:`_SharedNodes`), so proofs on one session,
    and on later sessions of the same engine, read the upper levels once: in bulk, as whole
    levels held in contiguous buffers, as far down as the cache's memory budget allows.
    """

    def __init__(self, session: Session, tree_size: int) -> None:
        self.session = session
        self.tree_size = tree_size
        self._state = _session_nodes(session)
        self._cache = self._state.nodes

    def _check(self, level: int, index: int) -> None:
        if level < 0 or index < 0 or (index + 1) << level > self.tree_size:
            raise KeyError(f"no complete subtree at level {level}, index {index} in size {self.tree_size}")

    def get_node(self, level: int, index: int) -> bytes:
        """Return the stored hash of a complete subtree; raise ``KeyError`` if there is none."""
        self._check(level, index)
        return self.hashes([(level, index)])[0]

    def hashes(self, wanted: Sequence[tuple[int, int]]) -> list[bytes]:
        """The hashes of the given complete subtrees, in order; one query reads those not cached.

        Raises ``KeyError`` for a node outside the tree size or missing from the database.
        """
        found = self._cached(wanted)
        if None in found:
            missing = [key for key, value in zip(wanted, found, strict=True) if value is None]
            for level, index in missing:
                self._check(level, index)
            read = self._read(missing)
            for position, value in enumerate(found):
                if value is None:
                    key = wanted[position]
                    found[position] = read.get(key)
                    if found[position] is None:
                        raise KeyError(f"log node missing: level {key[0]}, index {key[1]}; run `likeness log audit`")
        return found  # type: ignore[return-value]  # every entry is filled in by now

    def _cached(self, wanted: Sequence[tuple[int, int]]) -> list[bytes | None]:
        """The cached hash of each wanted node, None where it must be read."""
        # A reader keeps what it reads in the shared cache only, a session that appended in its
        # own cache only (see _read), so each node has one place to look.
        shared = self._state.shared
        if shared is None:
            get = self._cache.get
            return [get(key) for key in wanted]
        if self.tree_size >= shared.refresh_at:
            shared.refresh(self.tree_size, self._read_level)
        levels, get = shared.levels, shared.nodes.get
        found: list[bytes | None] = []
        for key in wanted:
            buffer = levels.get(key[0])
            end = (key[1] + 1) << 5
            # A level buffer holds node i at [32 i, 32 i + 32); past its end (nodes newer than the
            # last refresh) and below the buffered levels: single cached nodes, or None.
            found.append(buffer[end - 32 : end] if buffer is not None and end <= len(buffer) else get(key))
        return found

    def range_hash(self, begin: int, end: int) -> bytes:
        """The RFC 9162 hash of leaves ``[begin, end)`` (a right-edge node: complete subtrees folded)."""
        cached = self._cached_range(begin, end)
        return cached if cached is not None else self._fold_range(begin, end, self.hashes(_range_nodes(begin, end)))

    def _cached_range(self, begin: int, end: int) -> bytes | None:
        value = self._state.ranges.get((begin, end))
        if value is None and self._state.shared is not None:
            value = self._state.shared.ranges.get((begin, end))
        return value

    def _fold_range(self, begin: int, end: int, parts: list[bytes]) -> bytes:
        hash_pair = merkle.node_hash
        acc = parts[-1]
        for part in reversed(parts[:-1]):
            acc = hash_pair(part, acc)
        if len(parts) > 1:
            if self._state.shared is not None:
                self._state.shared.add_range(begin, end, acc)
            else:
                self._state.ranges[begin, end] = acc
        return acc

    def path(self, level: int, index: int, lead: tuple[int, int] | None = None) -> list[bytes]:
        """The audit path of node ``(level, index)`` at this tree size (see ``merkle._path``).

        ``lead``, if given, is a node put first (a consistency proof's starting node). Every node
        the path needs, the right-edge node's parts included unless that hash is cached, is read
        with one query.
        """
        keys, position, begin, end = _path_keys(level, index, self.tree_size)
        if lead is not None:
            keys.insert(0, lead)
            position += position >= 0
        if position < 0:
            return self.hashes(keys)
        edge = self._cached_range(begin, end)
        if edge is not None:
            proof = self.hashes(keys)
        else:
            parts = _range_nodes(begin, end)
            proof = self.hashes(keys + parts)
            edge = self._fold_range(begin, end, proof[len(keys) :])
            del proof[len(keys) :]
        proof.insert(position, edge)
        return proof

    def _read_level(self, level: int, start: int, stop: int) -> bytes | None:
        """The hashes of nodes ``start..stop-1`` at ``level`` (>= 1), concatenated; None if any is missing.

        One range scan of ``log_nodes`` (clustered on ``(level, index)``), fetched in chunks
        so that no more than a chunk of row objects is alive at a time.
        """
        driver = self._driver()
        cursor = driver.cursor()
        out = bytearray()
        try:
            cursor.execute(
                f'SELECT hash FROM log_nodes WHERE level = {driver.mark} AND "index" >= {driver.mark} '  # noqa: S608
                f'AND "index" < {driver.mark} ORDER BY "index"',
                (level, start, stop),
            )
            while rows := cursor.fetchmany(_LEVEL_CHUNK):
                out += b"".join([row[0] for row in rows])
        finally:
            cursor.close()
        return bytes(out) if len(out) == (stop - start) * merkle.HASH_SIZE else None

    def _driver(self) -> _Driver:
        # The DBAPI connection is fixed for a transaction: reuse it for every proof in one.
        state = self._state
        transaction = self.session.get_transaction()
        if state.driver is None or transaction is None or state.transaction is not transaction:
            state.driver = _Driver(self.session)
            state.transaction = self.session.get_transaction()
        return state.driver

    def _read(self, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        # Below STORED_FROM: one log_blocks row per complete block, whatever number of its
        # hashes is wanted; in the last block, if incomplete, leaves by key and, for a subtree,
        # the block's leaves as one range. From STORED_FROM up: log_nodes by key.
        blocks: set[int] = set()
        leaves: list[int] = []
        tip = -1
        nodes: list[int] = []
        complete = self.tree_size >> STORED_FROM
        for level, index in wanted:
            if level >= STORED_FROM:
                nodes += (level, index)
                continue
            block = (index << level) >> STORED_FROM
            if block < complete:
                blocks.add(block)
            elif level:
                tip = block
            else:
                leaves.append(index)
        params: list[int] = [*leaves, *blocks]
        if tip >= 0:
            params += (tip << STORED_FROM, self.tree_size)
        params += nodes
        driver = self._driver()
        cursor = driver.cursor()
        try:
            cursor.execute(_fetch_sql(len(leaves), len(blocks), tip >= 0, len(nodes) // 2, driver.mark), params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        read = _wanted_from(rows, wanted)
        if self._state.shared is not None:
            self._state.shared.add(read)
        else:
            self._cache.update(read)
        return read

    def prefetch(self, wanted: Sequence[tuple[int, int]]) -> None:
        """Read the given (level, index) nodes into the cache with one query (missing ones are skipped)."""
        missing = [key for key, value in zip(wanted, self._cached(wanted), strict=True) if value is None]
        if missing:
            self._read(missing)


def _block_offset(level: int, index: int) -> int:
    """Where node ``(level, index)`` (level < ``STORED_FROM``) starts in its block's ``hashes``."""
    start = 2 * BLOCK_LEAVES - (2 * BLOCK_LEAVES >> level)  # levels 0, 1, 2, 3 start at hash 0, 16, 24, 28
    return (start + (index & ((BLOCK_LEAVES >> level) - 1))) * merkle.HASH_SIZE


def _wanted_from(rows: Iterable[Any], wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The wanted hashes out of fetched rows: blocks (level -1), leaves (level 0) and nodes."""
    blocks: dict[int, bytes] = {}
    read: dict[tuple[int, int], bytes] = {}
    for level, index, data in rows:
        if level < 0:
            blocks[index] = bytes(data)
        else:
            read[level, index] = bytes(data)
    found: dict[tuple[int, int], bytes] = {}
    for key in wanted:
        level, index = key
        value: bytes | None
        if level >= STORED_FROM:
            value = read.get(key)
        else:
            blob = blocks.get((index << level) >> STORED_FROM)
            if blob is not None:
                offset = _block_offset(level, index)
                value = blob[offset : offset + merkle.HASH_SIZE] if len(blob) == _BLOCK_BYTES else None
            elif level:  # in the incomplete last block: hash its leaves
                first = index << level
                parts = [read.get((0, leaf)) for leaf in range(first, first + (1 << level))]
                value = None if None in parts else _fold_complete(parts)  # type: ignore[arg-type]  # no None left
            else:
                value = read.get(key)
        if value is not None:
            found[key] = value
    return found


def _fold_complete(hashes: list[bytes]) -> bytes:
    """The hash of a complete subtree (a power-of-two number of hashes), pair by pair up to the top."""
    node_hash = merkle.node_hash
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


@functools.lru_cache(maxsize=512)
def _fetch_sql(leaves: int, blocks: int, tip: bool, nodes: int, mark: str) -> str:
    """One query: ``leaves`` leaf hashes by key, ``blocks`` blocks, the tip block's leaves, ``nodes`` nodes.

    A UNION ALL of primary-key lookups (and one range scan), so both SQLite and PostgreSQL use
    the primary-key index for every term (a row-value ``IN`` makes SQLite scan the table).
    Blocks come back at level -1.
    """
    parts: list[str] = []
    # Only placeholders are interpolated; every value is a bound parameter.
    if leaves:
        marks = ", ".join([mark] * leaves)
        parts.append(f'SELECT 0, "index", leaf_hash FROM log_leaves WHERE "index" IN ({marks})')  # noqa: S608
    if blocks:
        marks = ", ".join([mark] * blocks)
        parts.append(f'SELECT -1, "index", hashes FROM log_blocks WHERE "index" IN ({marks})')  # noqa: S608
    if tip:
        parts.append(f'SELECT 0, "index", leaf_hash FROM log_leaves WHERE "index" >= {mark} AND "index" < {mark}')  # noqa: S608
    parts += [f'SELECT level, "index", hash FROM log_nodes WHERE level = {mark} AND "index" = {mark}'] * nodes  # noqa: S608
    return " UNION ALL ".join(parts)


def forget_cached_nodes(session: Session) -> None:
    """Drop the session's node cache (after a rollback, nodes read from the undone work are gone).

    The process-wide cache needs nothing: a session that appended never published to it.
    """
    session.info.pop(_NODE_CACHE_KEY, None)
    session.info.pop(_SEEN_SIZE_KEY, None)


def _checked_size(session: Session, tree_size: int | None) -> int:
    # A size this session has already seen the log reach is still there (the log only grows, and
    # a rollback forgets it), so a proof at or below it needs no query.
    if tree_size is not None and 0 <= tree_size <= session.info.get(_SEEN_SIZE_KEY, -1):
        return tree_size
    current = size(session)
    session.info[_SEEN_SIZE_KEY] = current
    if tree_size is None:
        return current
    if not 0 <= tree_size <= current:
        raise TreeRangeError(f"tree size out of range: expected 0..{current}, got {tree_size}")
    return tree_size


def root(session: Session, tree_size: int | None = None) -> bytes:
    """The RFC 9162 root hash of the first ``tree_size`` leaves (default: the whole log)."""
    n = _checked_size(session, tree_size)
    return DbNodeSource(session, n).range_hash(0, n) if n else merkle.EMPTY_ROOT


def inclusion_proof(session: Session, index: int, tree_size: int | None = None) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves (default: all)."""
    n = _checked_size(session, tree_size)
    return _inclusion(DbNodeSource(session, n), index=index, size=n)


def consistency_proof(session: Session, size1: int, size2: int | None = None) -> list[bytes]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` leaves."""
    n = _checked_size(session, size2)
    source = DbNodeSource(session, n)
    if not 0 < size1 < n:  # equal sizes (empty proof) and the range errors: the reference code
        return merkle.tree_consistency_proof(source, size1, n)
    # As merkle.tree_consistency_proof: the node ending at size1, then its audit path.
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    return source.path(level, index, (level, index) if index else None)


# --- appending -----------------------------------------------------------------------------------


def _serialise_appenders(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _uuid_field(value: object, field: str | Callable[[], str]) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return _parse_uuid(value) if type(value) is str else _parse_uuid(str(value))
    except ValueError as exc:
        name = field if isinstance(field, str) else field()
        raise InvalidInput(f"{name}: expected a UUID, got {value!r}") from exc


@functools.lru_cache(maxsize=4096)
def _parse_uuid(text: str) -> uuid.UUID:
    # Events name the same few performers over and over; parse each spelling once.
    return uuid.UUID(text)


def _performers_of(event: dict[str, Any]) -> list[uuid.UUID]:
    performers: list[uuid.UUID] = []
    performer = event.get("performer_id")
    if performer is not None:
        performers.append(_uuid_field(performer, "event.performer_id"))
    many = event.get("performer_ids")
    if many is not None:
        if not isinstance(many, list):
            raise InvalidInput(f"event.performer_ids: expected a list of UUIDs, got {type(many).__name__}")
        for position, item in enumerate(many):
            # The field's name is only spelled out for an error.
            found = _uuid_field(item, functools.partial("event.performer_ids[{}]".format, position))
            if found not in performers:
                performers.append(found)
    return performers


def _canonical_event(event: dict[str, Any]) -> tuple[bytes, str, list[uuid.UUID]]:
    """Check an event and return its canonical JSON, type and the performers it concerns."""
    if not isinstance(event, dict):
        raise InvalidInput(f"event: expected a JSON object, got {type(event).__name__}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= _EVENT_TYPE_MAX:
        raise InvalidInput(f"event.type: expected a string of 1..{_EVENT_TYPE_MAX} characters, got {event_type!r}")
    performers = _performers_of(event)
    try:
        canonical = canonical_json(event)
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInput(f"event: expected RFC 8785-serialisable JSON, got {exc}") from exc
    return canonical, event_type, performers


_LEAF_COLUMNS: Final = ("index", "leaf_hash", "event", "event_type", "created_at")
_NODE_COLUMNS: Final = ("level", "index", "hash")
_BLOCK_COLUMNS: Final = ("index", "hashes")
_RUN_COLUMNS: Final = ("performer_id", "first_leaf", "last_leaf", "leaf_count", "offsets")
_COPY_CHUNK: Final = 256  # leaves hashed and sent to PostgreSQL at a time
# COPY text format: a backslash starts an escape, tab, newline and carriage return end fields and rows.
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def append_many(session: Session, events: Iterable[dict[str, Any]]) -> int:
    """Append events in order, in the caller's transaction; return the index of the first one.

    Each event is a JSON object with a ``type`` and optionally the performers it concerns (a
    ``performer_id`` and/or a ``performer_ids`` list); it is stored as RFC 8785 canonical JSON and
    committed to by ``leaf_hash(canonical JSON)``. Every subtree of 16 leaves or more that the
    new leaves complete is stored too, the hashes inside every block of 16 leaves they complete
    (one ``log_blocks`` row each), and one ``log_performer_runs`` row per performer
    concerned, listing that performer's leaves among the new ones. Rows go in as one
    ``executemany`` per table on SQLite and one ``COPY`` per table on PostgreSQL, not one
    statement per row. Raises :class:`InvalidInput` for an event that cannot be logged, and
    then nothing of the call is written.
    """
    pending = events if isinstance(events, list) else list(events)
    # PostgreSQL checks large batches chunk by chunk as they stream (see _copy_rows); otherwise
    # every event is checked before anything is written.
    streamed = len(pending) > _COPY_CHUNK and session.get_bind().dialect.name == "postgresql"
    checked = None if streamed else [_canonical_event(event) for event in pending]
    _serialise_appenders(session)
    # From now on this session may read its own uncommitted nodes: keep them out of the shared cache.
    session.info[_WROTE_KEY] = True
    _session_nodes(session).shared = None
    start = size(session)
    if not pending:
        return start
    driver = _Driver(session)
    edge = _RightEdge(DbNodeSource(session, start), start)
    created = driver.binder(LogLeaf.__table__.c.created_at)(utcnow())
    if driver.is_postgres:
        _copy_rows(driver, start=start, events=pending, checked=checked, edge=edge, created=created)
    else:
        assert checked is not None  # only PostgreSQL streams
        _insert_rows(driver, start=start, checked=checked, edge=edge, created=created)
    return start


_Checked = Sequence[tuple[bytes, str, list[uuid.UUID]]]


def _insert_rows(driver: _Driver, *, start: int, checked: _Checked, edge: _RightEdge, created: Any) -> None:
    """SQLite: the rows of new leaves, nodes and performer runs, each value through its column's binder."""
    bind_uuid = driver.binder(LogPerformerRun.__table__.c.performer_id)
    leaf_hash = merkle.leaf_hash
    hashes = [leaf_hash(canonical) for canonical, _, _ in checked]
    nodes, blocks = edge.extend(hashes)
    leaves = [
        (index, digest, canonical.decode("utf-8"), event_type, created)
        for index, (canonical, event_type, _), digest in zip(itertools.count(start), checked, hashes)
    ]
    _insert(driver, "log_leaves", _LEAF_COLUMNS, leaves)
    _insert(driver, "log_nodes", _NODE_COLUMNS, nodes)
    _insert(driver, "log_blocks", _BLOCK_COLUMNS, blocks)
    runs = [(bind_uuid(performer), *row) for performer, row in _run_rows(start, checked)]
    _insert(driver, "log_performer_runs", _RUN_COLUMNS, runs)


def _run_rows(start: int, checked: _Checked) -> Iterator[tuple[uuid.UUID, tuple[int, int, int, bytes]]]:
    """Each performer's ``log_performer_runs`` row values for a batch: first and last leaf, count, packed offsets."""
    runs: dict[uuid.UUID, list[int]] = {}
    for position, (_, _, performers) in enumerate(checked):
        for performer in performers:
            run = runs.get(performer)
            if run is None:
                runs[performer] = [position]
            else:
                run.append(position)
    for performer, steps in runs.items():
        first = steps[0]
        packed = array.array("I", [step - first for step in steps])
        if sys.byteorder == "big":  # pragma: no cover - the stored form is little-endian everywhere
            packed.byteswap()
        yield performer, (start + first, start + steps[-1], len(steps), packed.tobytes())


def _run_offsets(offsets: bytes) -> array.array[int]:
    """The offsets packed in a ``log_performer_runs.offsets`` value."""
    unpacked = array.array("I")
    unpacked.frombytes(offsets)
    if sys.byteorder == "big":  # pragma: no cover
        unpacked.byteswap()
    return unpacked


def _insert(driver: _Driver, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows on SQLite with one ``executemany`` (one prepared statement stepped per row, all in C)."""
    if not rows:
        return
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join(["?"] * len(columns))
    cursor = driver.cursor()
    try:
        # table and column names are the constants above; the values are bound parameters
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
    finally:
        cursor.close()


def _copy_rows(
    driver: _Driver,
    *,
    start: int,
    events: Sequence[dict[str, Any]],
    checked: _Checked | None,
    edge: _RightEdge,
    created: Any,
) -> None:
    r"""PostgreSQL: one ``COPY`` per table, the leaves streamed in chunks as they are checked and hashed.

    The server parses and inserts one chunk while this process canonicalises, hashes and
    formats the next, so the two run on different cores instead of one after the other. When
    the events were not checked beforehand (``checked`` is None), a savepoint lets an invalid
    event in a later chunk undo the chunks already sent, so a refused call writes nothing.

    Formatting the rows here (``bytea`` as ``\\x`` hex, UUIDs and timestamps in their standard
    text forms) costs a fraction of handing psycopg one row at a time. Every text value is
    escaped for the format except the event: RFC 8785 escapes every control character inside
    strings, so canonical JSON holds no tab, newline or carriage return, only backslashes.
    """
    lines = _LeafLines(created)
    leaf_hash = merkle.leaf_hash
    nodes: list[tuple[int, int, bytes]] = []
    blocks: list[tuple[int, bytes]] = []
    done: list[tuple[bytes, str, list[uuid.UUID]]] = []
    cursor = driver.cursor()
    savepoint = checked is None
    try:
        if savepoint:
            cursor.execute("SAVEPOINT likeness_log_append")
        try:
            with cursor.copy(_copy_sql("log_leaves", _LEAF_COLUMNS)) as copy:
                for begin in range(0, len(events), _COPY_CHUNK):
                    if checked is None:
                        part = [_canonical_event(event) for event in events[begin : begin + _COPY_CHUNK]]
                        done += part
                    else:
                        part = list(checked[begin : begin + _COPY_CHUNK])
                    hashes = [leaf_hash(canonical) for canonical, _, _ in part]
                    copy.write(lines.format(start + begin, part, hashes))
                    more_nodes, more_blocks = edge.extend(hashes)
                    nodes += more_nodes
                    blocks += more_blocks
        except InvalidInput:
            if savepoint:
                cursor.execute("ROLLBACK TO SAVEPOINT likeness_log_append")
            raise
        if savepoint:
            cursor.execute("RELEASE SAVEPOINT likeness_log_append")
    finally:
        cursor.close()
    node_lines = [f"{level}\t{index}\t\\\\x{node.hex()}\n" for level, index, node in nodes]
    _copy(driver, "log_nodes", _NODE_COLUMNS, node_lines)
    _copy(driver, "log_blocks", _BLOCK_COLUMNS, [f"{index}\t\\\\x{value.hex()}\n" for index, value in blocks])
    run_lines = [
        f"{performer}\t{first}\t{last}\t{count}\t\\\\x{packed.hex()}\n"
        for performer, (first, last, count, packed) in _run_rows(start, checked if checked is not None else done)
    ]
    _copy(driver, "log_performer_runs", _RUN_COLUMNS, run_lines)


class _LeafLines:
    """``log_leaves`` rows in COPY text format, as bytes (no decoding of the canonical JSON)."""

    def __init__(self, created: Any) -> None:
        self.when = (created.isoformat() if isinstance(created, datetime) else str(created)).encode()
        self.tails: dict[str, bytes] = {}  # "\t<event type>\t<time>\n" per event type, escaped once

    def format(self, start: int, part: _Checked, hashes: list[bytes]) -> bytes:
        """The rows of leaves ``start, start + 1, ...`` for ``part`` and its leaf hashes."""
        tails = self.tails
        lines = []
        for index, (canonical, event_type, _), digest in zip(itertools.count(start), part, hashes):
            tail = tails.get(event_type)
            if tail is None:
                tail = tails[event_type] = b"\t%s\t%s\n" % (event_type.translate(_COPY_ESCAPES).encode(), self.when)
            lines.append(b"%d\t\\\\x%s\t%s%s" % (index, digest.hex().encode(), canonical.replace(b"\\", b"\\\\"), tail))
        return b"".join(lines)


def _copy_sql(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    # table and column names are the constants above; the data goes through COPY, not SQL
    return f"COPY {table} ({names}) FROM STDIN"


def _copy(driver: _Driver, table: str, columns: tuple[str, ...], lines: list[str]) -> None:
    if not lines:
        return
    cursor = driver.cursor()
    try:
        with cursor.copy(_copy_sql(table, columns)) as copy:
            copy.write("".join(lines))
    finally:
        cursor.close()


class _RightEdge:
    """The tree's right edge as a binary counter, to hash the subtrees that new leaves complete.

    ``edge[level]`` is the hash of the complete subtree at that level still waiting for its
    right sibling (one for each set bit of the size). ``inner[level]`` holds the hashes at
    levels below ``STORED_FROM`` of the current, incomplete block, so that a completed block's
    ``log_blocks`` row costs no hashing of its own. Both are read from the database once (the
    current block's leaves, and one stored node per set bit from ``STORED_FROM`` up); then each
    new node costs one hash and no reads.
    """

    def __init__(self, source: DbNodeSource, size: int) -> None:
        self.size = size
        self.edge: list[bytes] = [b""] * 64
        first = size - size % BLOCK_LEAVES
        upper = [(level, (size >> level) - 1) for level in range(STORED_FROM, size.bit_length()) if size >> level & 1]
        found = source.hashes([(0, index) for index in range(first, size)] + upper)
        level_hashes = found[: size - first]
        self.inner: list[list[bytes]] = [level_hashes]
        for _ in range(1, STORED_FROM):
            level_hashes = [merkle.node_hash(a, b) for a, b in zip(level_hashes[::2], level_hashes[1::2], strict=False)]
            self.inner.append(level_hashes)
        for level in range(STORED_FROM):
            if size >> level & 1:  # the last complete subtree at this level in the block has no sibling yet
                self.edge[level] = self.inner[level][-1]
        for (level, _), value in zip(upper, found[size - first :], strict=True):
            self.edge[level] = value

    def extend(self, new_leaves: Sequence[bytes]) -> tuple[list[tuple[int, int, bytes]], list[tuple[int, bytes]]]:
        """Add leaf hashes; return the nodes (level >= ``STORED_FROM``) and the blocks they complete."""
        edge, inner, node_hash = self.edge, self.inner, merkle.node_hash
        nodes: list[tuple[int, int, bytes]] = []
        blocks: list[tuple[int, bytes]] = []
        last = BLOCK_LEAVES - 1
        for index, leaf in enumerate(new_leaves, self.size):
            inner[0].append(leaf)
            node, level, position = leaf, 0, index
            while position & 1:  # a right child: it completes its parent
                node = node_hash(edge[level], node)
                level, position = level + 1, position >> 1
                if level >= STORED_FROM:
                    nodes.append((level, position, node))
                else:
                    inner[level].append(node)
            edge[level] = node
            if index & last == last:  # the block is complete: its hashes, level by level
                blocks.append((index >> STORED_FROM, b"".join(itertools.chain.from_iterable(inner))))
                inner = self.inner = [[] for _ in range(STORED_FROM)]
        self.size += len(new_leaves)
        return nodes, blocks


def append(session: Session, event: dict[str, Any]) -> int:
    """Append one event in the caller's transaction; return its leaf index (see :func:`append_many`)."""
    return append_many(session, [event])


# --- checkpoints and receipts --------------------------------------------------------------------


def sign_checkpoint(session: Session, signer: Signer, origin: str) -> str:
    """Sign and store a checkpoint of the whole log now; return the signed note text.

    Call it in a write transaction. If a checkpoint of this size with the same body is already
    stored, that one is returned rather than a second signature.
    """
    _serialise_appenders(session)
    n = size(session)
    body = Checkpoint(origin=origin, size=n, root_hash=root(session, n))
    stored = session.get(LogCheckpoint, n)
    if stored is not None:
        if Note.from_text(stored.note).text == body.to_text():
            return stored.note
        raise Conflict(f"a different checkpoint of size {n} is already stored")
    note = body.sign([signer])
    session.add(LogCheckpoint(size=n, root_hash=body.root_hash, note=note))
    session.flush()
    return note


def latest_checkpoint(session: Session) -> str | None:
    """The signed note of the largest stored checkpoint, or None if none was signed yet."""
    return session.scalar(select(LogCheckpoint.note).order_by(LogCheckpoint.size.desc()).limit(1))


def receipt(session: Session, leaf_index: int, *, signer: Signer | None = None, origin: str | None = None) -> Receipt:
    """A receipt proving leaf ``leaf_index`` is in the log, checkable offline.

    With ``signer`` (and ``origin``), a checkpoint of the current log is signed and stored first
    (so call it in a write transaction); without, the latest stored checkpoint is used.
    """
    if signer is not None:
        note = sign_checkpoint(session, signer, origin or signer.name)
    else:
        found = latest_checkpoint(session)
        if found is None:
            raise NotFound("no checkpoint signed yet; run `likeness log checkpoint`")
        note = found
    checkpoint = Checkpoint.from_text(Note.from_text(note).text)
    if not 0 <= leaf_index < checkpoint.size:
        raise TreeRangeError(
            f"leaf index out of range: expected 0 <= index < {checkpoint.size} (latest checkpoint), got {leaf_index}"
        )
    event = session.scalar(select(LogLeaf.event).where(LogLeaf.index == leaf_index))
    if event is None:
        raise LogCorrupted(f"leaf {leaf_index}: missing below a signed checkpoint", index=leaf_index)
    proof = inclusion_proof(session, leaf_index, checkpoint.size)
    return Receipt(
        event=json.loads(event),
        leaf_index=leaf_index,
        tree_size=checkpoint.size,
        inclusion_proof=tuple(h.hex() for h in proof),
        checkpoint=note,
    )


# --- audit ---------------------------------------------------------------------------------------


AuditProgress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``leaves``, ``blocks``, ``nodes`` or ``checkpoints``."""


def _audit_leaves(session: Session, progress: AuditProgress | None, runs: _RunAudit) -> merkle.MerkleTree:
    tree = merkle.MerkleTree()
    total = size(session)
    query = select(LogLeaf.index, LogLeaf.event, LogLeaf.leaf_hash).order_by(LogLeaf.index)
    result = session.execute(query.execution_options(yield_per=_BATCH))
    try:
        for rows in result.partitions():
            _check_leaves(rows, tree, runs)
            if progress is not None:
                progress("leaves", tree.size, total)
    finally:
        result.close()  # a server-side cursor on PostgreSQL: close it even when a check fails
    return tree


def _canonical_parse(event: str, raw: bytes) -> tuple[bool, Any]:
    """Whether ``raw`` is RFC 8785 canonical JSON, and the parsed event."""
    # orjson parses and canonical_json writes (RFC 8785's exact output, a property test holds them
    # together) three to four times faster than json + rfc8785; only a mismatch is confirmed
    # with the reference pair, so no parser difference can raise a false alarm.
    try:
        parsed = orjson.loads(event)
        if canonical_json(parsed) == raw:
            return True, parsed
    except (ValueError, rfc8785.CanonicalizationError):
        pass
    try:
        parsed = json.loads(event)
        return rfc8785.dumps(parsed) == raw, parsed
    except (ValueError, rfc8785.CanonicalizationError):
        return False, None


def _check_leaves(rows: Iterable[Any], tree: merkle.MerkleTree, runs: _RunAudit) -> None:
    for index, event, stored in rows:
        if index != tree.size:
            raise LogCorrupted(f"leaf {tree.size}: missing (the next stored leaf is {index})", index=tree.size)
        raw = event.encode("utf-8")
        if merkle.leaf_hash(raw) != stored:
            raise LogCorrupted(f"leaf {index}: the stored event does not hash to the stored leaf hash", index=index)
        canonical, parsed = _canonical_parse(event, raw)
        if not canonical:
            raise LogCorrupted(f"leaf {index}: the stored event is not RFC 8785 canonical JSON", index=index)
        runs.add_event(index, parsed)
        tree.append(bytes(stored))


_MASK64: Final = (1 << 64) - 1


class _RunAudit:
    """What ``log_performer_runs`` must list, leaf by leaf, as sums of keyed 64-bit performer digests.

    A leaf's expected sum (mod 2^64) covers every performer its event names; each run adds its
    performer's digest to every leaf it lists. Equal sums at every leaf mean the index lists
    exactly the performers each event names: a missing or extra listing changes the sum, and so
    does a repeated one, since sums (unlike XOR) do not cancel. The key is random per audit, so
    rows cannot be made to cancel each other out.
    """

    def __init__(self) -> None:
        self.key = os.urandom(16)
        self.expected = array.array("Q")

    def digest(self, performer: uuid.UUID) -> int:
        return int.from_bytes(hashlib.blake2b(performer.bytes, digest_size=8, key=self.key).digest(), "little")

    def add_event(self, index: int, event: Any) -> None:
        try:
            performers = _performers_of(event) if isinstance(event, dict) else []
        except InvalidInput as exc:
            raise LogCorrupted(f"leaf {index}: {exc.message}", index=index) from exc
        self.expected.append(sum(map(self.digest, performers)) & _MASK64)

    def check(self, rows: Iterator[Any]) -> None:
        """Compare ``(performer, first, last, count, offsets)`` rows with the events; raise at the first leaf off."""
        size_ = len(self.expected)
        actual = array.array("Q", bytes(8 * size_))
        first_bad = size_
        for performer, first, last, count, offsets in rows:
            steps = _run_offsets(offsets)
            leaves = [first + step for step in steps]
            if (
                len(steps) != count
                or not steps
                or steps[0] != 0
                or leaves[-1] != last
                or last >= size_
                or any(b <= a for a, b in itertools.pairwise(steps))
            ):
                first_bad = min(first_bad, first)  # malformed: the run's first leaf is where it goes wrong
                continue
            value = self.digest(performer)
            for leaf in leaves:
                actual[leaf] = (actual[leaf] + value) & _MASK64
        for index in range(min(first_bad, size_)):
            if actual[index] != self.expected[index]:
                first_bad = index
                break
        if first_bad < size_:
            raise LogCorrupted(
                f"leaf {first_bad}: the performer index (log_performer_runs) does not list exactly the "
                "performers its event names",
                index=first_bad,
            )


def _expected_nodes(tree_size: int) -> Iterable[tuple[int, int]]:
    level = STORED_FROM
    while tree_size >> level:
        for index in range(tree_size >> level):
            yield level, index
        level += 1


def _streamed(session: Session, query: Any, check: Callable[[Iterator[Any]], None]) -> None:
    """Run ``check`` over ``query``'s rows, fetched ``_BATCH`` at a time, and close the cursor whatever happens."""
    result = session.execute(query.execution_options(yield_per=_BATCH))
    try:
        check(iter(result))
    finally:
        result.close()  # a server-side cursor on PostgreSQL


def _check_nodes(stored: Iterator[Any], tree: merkle.MerkleTree, progress: AuditProgress | None = None) -> None:
    total = sum(tree.size >> level for level in range(STORED_FROM, tree.size.bit_length()))
    for done, (level, index) in enumerate(_expected_nodes(tree.size)):
        if progress is not None and done % _BATCH == 0:
            progress("nodes", done, total)
        first = index << level
        where = f"node at level {level}, index {index} (leaves {first}..{((index + 1) << level) - 1})"
        row = next(stored, None)
        if row is None or (row[0], row[1]) != (level, index):
            raise LogCorrupted(f"leaf {first}: {where} is missing", index=first)
        if row[2] != tree.get_node(level, index):
            raise LogCorrupted(f"leaf {first}: {where} does not match the leaves below it", index=first)
    extra = next(stored, None)
    if extra is not None:
        raise LogCorrupted(
            f"node at level {extra[0]}, index {extra[1]} lies beyond the log's {tree.size} leaves",
            index=tree.size,
        )
    if progress is not None:
        progress("nodes", total, total)


def _check_blocks(stored: Iterator[Any], tree: merkle.MerkleTree, progress: AuditProgress | None = None) -> None:
    total = tree.size >> STORED_FROM
    for block in range(total):
        if progress is not None and block % _BATCH == 0:
            progress("blocks", block, total)
        first = block << STORED_FROM
        where = f"block {block} (leaves {first}..{first + BLOCK_LEAVES - 1})"
        row = next(stored, None)
        if row is None or row[0] != block:
            raise LogCorrupted(f"leaf {first}: {where} is missing", index=first)
        # The audit's in-memory tree already holds every level: compare, do not hash again.
        expected = b"".join(
            tree.get_node(level, (first >> level) + i)
            for level in range(STORED_FROM)
            for i in range(BLOCK_LEAVES >> level)
        )
        if bytes(row[1]) != expected:
            raise LogCorrupted(f"leaf {first}: {where} does not match its leaves", index=first)
    extra = next(stored, None)
    if extra is not None:
        raise LogCorrupted(f"block {extra[0]} lies beyond the log's {tree.size} leaves", index=tree.size)
    if progress is not None:
        progress("blocks", total, total)


def _audit_checkpoints(session: Session, tree: merkle.MerkleTree) -> None:
    query = select(LogCheckpoint).order_by(LogCheckpoint.size)
    result = session.scalars(query.execution_options(yield_per=_BATCH))
    try:
        _check_checkpoints(result, tree)
    finally:
        result.close()


def _check_checkpoints(rows: Iterable[LogCheckpoint], tree: merkle.MerkleTree) -> None:
    for row in rows:
        try:
            body = Checkpoint.from_text(Note.from_text(row.note).text)
        except VerificationError as exc:
            raise LogCorrupted(f"checkpoint of size {row.size}: {exc.message}", index=None) from exc
        if body.size != row.size or body.root_hash != row.root_hash:
            raise LogCorrupted(f"checkpoint of size {row.size}: its note disagrees with its row", index=None)
        if row.size > tree.size:
            raise LogCorrupted(f"checkpoint of size {row.size}: the log has only {tree.size} leaves", index=tree.size)
        if body.root_hash != tree.root(row.size):
            raise LogCorrupted(
                f"checkpoint of size {row.size}: its root does not match the leaves", index=max(row.size - 1, 0)
            )


def audit(session: Session, progress: AuditProgress | None = None) -> None:
    """Recompute every leaf hash, block, node, performer-index entry and checkpoint root; raise at the first mismatch.

    Raises :class:`LogCorrupted` whose ``index`` (and message) name the first leaf index at fault.
    ``progress(stage, done, total)`` is called as each stage goes (every 1,000 rows or so).
    """
    runs = _RunAudit()
    tree = _audit_leaves(session, progress, runs)
    blocks = select(LogBlock.index, LogBlock.hashes).order_by(LogBlock.index)
    _streamed(session, blocks, lambda rows: _check_blocks(rows, tree, progress))
    nodes = select(LogNode.level, LogNode.index, LogNode.hash).order_by(LogNode.level, LogNode.index)
    _streamed(session, nodes, lambda rows: _check_nodes(rows, tree, progress))
    run = LogPerformerRun
    listed = select(run.performer_id, run.first_leaf, run.last_leaf, run.leaf_count, run.offsets)
    _streamed(session, listed, runs.check)
    _audit_checkpoints(session, tree)


def hex_proof(proof: Sequence[bytes]) -> list[str]:
    """A proof as lower-case hex strings, the form receipts and proof files use."""
    return [item.hex() for item in proof]


# --- per-performer receipts and tile reads ---------------------------------------------------------


def leaf_concerns(session: Session, leaf_index: int, performer_id: uuid.UUID) -> bool:
    """True when the event at ``leaf_index`` names ``performer_id`` among the performers it concerns."""
    # Runs of one performer never overlap (appends are serialised), so only the last run that
    # starts at or before the leaf can hold it.
    found = session.execute(
        select(LogPerformerRun.first_leaf, LogPerformerRun.last_leaf, LogPerformerRun.offsets)
        .where(LogPerformerRun.performer_id == performer_id, LogPerformerRun.first_leaf <= leaf_index)
        .order_by(LogPerformerRun.first_leaf.desc())
        .limit(1)
    ).first()
    if found is None or found.last_leaf < leaf_index:
        return False
    return leaf_index - found.first_leaf in _run_offsets(found.offsets)


def performer_leaves(session: Session, performer_id: uuid.UUID, *, limit: int, offset: int) -> tuple[list[int], int]:
    """One page of the leaf indices whose events concern ``performer_id``, in log order, and the total."""
    where = LogPerformerRun.performer_id == performer_id
    total = int(session.scalar(select(func.coalesce(func.sum(LogPerformerRun.leaf_count), 0)).where(where)) or 0)
    if limit <= 0 or offset >= total:
        return [], total
    # Leaves before each run, summed in the database: the page starts in the first run that
    # ends past ``offset``, so the runs before it are never fetched.
    run = LogPerformerRun
    before = (func.sum(run.leaf_count).over(order_by=run.first_leaf) - run.leaf_count).label("before")
    numbered = select(run.first_leaf, run.leaf_count, run.offsets, before).where(where).subquery()
    rows = session.execute(
        select(numbered.c.first_leaf, numbered.c.before, numbered.c.offsets)
        .where(numbered.c.before + numbered.c.leaf_count > offset)
        .order_by(numbered.c.first_leaf)
    )
    page: list[int] = []
    for first, skipped, offsets in rows:
        steps = _run_offsets(offsets)[max(offset - int(skipped), 0) :]
        page += [int(first) + step for step in steps[: limit - len(page)]]
        if len(page) >= limit:
            break
    rows.close()
    return page, total


def covering_checkpoint(session: Session, signer: Signer, origin: str, leaf_index: int) -> str:
    """The latest stored checkpoint if it covers ``leaf_index``, else a newly signed one (write session)."""
    note = latest_checkpoint(session)
    if note is not None and Checkpoint.from_text(Note.from_text(note).text).size > leaf_index:
        return note
    return sign_checkpoint(session, signer, origin)


def _inclusion(source: DbNodeSource, *, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        return merkle.tree_inclusion_proof(source, index, size)  # raises the usual range error
    return source.path(0, index)


def _range_nodes(begin: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees that leaves ``[begin, end)`` split into, left to right."""
    nodes: list[tuple[int, int]] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def _path_keys(level: int, index: int, size: int) -> tuple[list[tuple[int, int]], int, int, int]:
    """The stored nodes of the audit path of node ``(level, index)`` at ``size``, bottom-up.

    The same walk as ``merkle._path`` (RFC 9162 PATH): complete siblings below the point where
    the node's path meets the right edge, there the possibly partial right-edge node, then the
    complete left subtrees above, one per set bit of the index. Returns the complete nodes and,
    when the right-edge node is partial, its position in the proof and its leaf range
    ``[begin, end)`` (position -1 otherwise).
    """
    inner = (index ^ ((size - 1) >> level)).bit_length()
    keys = [(level + shift, (index >> shift) ^ 1) for shift in range(inner - 1)]
    position = begin = end = -1
    if inner:
        sibling_level = level + inner - 1
        begin = ((index >> (inner - 1)) | 1) << sibling_level
        end = begin + (1 << sibling_level)
        if end <= size:
            keys.append((sibling_level, begin >> sibling_level))
        else:
            position, end = len(keys), size
    index >>= inner
    level += inner
    while index:
        if index & 1:
            keys.append((level, index ^ 1))
        index >>= 1
        level += 1
    return keys, position, begin, end


def inclusion_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """The stored nodes ``(level, index)`` the inclusion proof of leaf ``index`` at ``size`` is built from."""
    keys, position, begin, end = _path_keys(0, index, size)
    if position >= 0:
        keys[position:position] = _range_nodes(begin, end)
    return keys


def receipts_under(session: Session, leaf_indices: Sequence[int], note: str) -> list[Receipt]:
    """Receipts for each of ``leaf_indices`` against one signed checkpoint ``note`` that covers them all."""
    checkpoint = Checkpoint.from_text(Note.from_text(note).text)
    source = DbNodeSource(session, checkpoint.size)  # shared, so proofs reuse each other's nodes
    made: list[Receipt] = []
    for index in leaf_indices:
        if not 0 <= index < checkpoint.size:
            raise TreeRangeError(f"leaf index out of range: expected 0 <= index < {checkpoint.size}, got {index}")
        event = session.scalar(select(LogLeaf.event).where(LogLeaf.index == index))
        if event is None:
            raise LogCorrupted(f"leaf {index}: missing below a signed checkpoint", index=index)
        proof = _inclusion(source, index=index, size=checkpoint.size)
        made.append(
            Receipt(
                event=json.loads(event),
                leaf_index=index,
                tree_size=checkpoint.size,
                inclusion_proof=tuple(h.hex() for h in proof),
                checkpoint=note,
            )
        )
    return made


def stored_hashes(session: Session, level: int, start: int, count: int) -> list[bytes]:
    """The stored hashes of ``count`` consecutive complete subtrees at ``level`` from ``start``.

    Level 0 is the leaf hashes; levels below ``STORED_FROM`` are hashed from them. Raises
    :class:`NotFound` unless all of them exist.
    """
    if 0 < level < STORED_FROM:
        leaves = stored_hashes(session, 0, start << level, count << level)
        width = 1 << level
        return [_fold_complete(leaves[i : i + width]) for i in range(0, len(leaves), width)]
    if level == 0:
        query = select(LogLeaf.leaf_hash).where(LogLeaf.index >= start, LogLeaf.index < start + count)
        rows = session.scalars(query.order_by(LogLeaf.index))
    else:
        query = select(LogNode.hash).where(
            LogNode.level == level, LogNode.index >= start, LogNode.index < start + count
        )
        rows = session.scalars(query.order_by(LogNode.index))
    found = [bytes(row) for row in rows]
    if len(found) != count:
        raise NotFound(f"level {level} has no {count} complete subtrees from index {start}")
    return found


def stored_events(session: Session, start: int, count: int) -> list[bytes]:
    """The canonical JSON bytes of ``count`` consecutive leaves from ``start`` (the tlog entries)."""
    query = select(LogLeaf.event).where(LogLeaf.index >= start, LogLeaf.index < start + count)
    found = [event.encode("utf-8") for event in session.scalars(query.order_by(LogLeaf.index))]
    if len(found) != count:
        raise NotFound(f"the log has no {count} entries from index {start}")
    return found
