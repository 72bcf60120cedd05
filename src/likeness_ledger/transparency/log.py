"""The persistent transparency log: append events, sign checkpoints, hand out receipts, audit.

A thin storage layer over the pure algorithms of :mod:`~likeness_ledger.transparency.merkle`,
:mod:`~likeness_ledger.transparency.checkpoint` and :mod:`~likeness_ledger.transparency.receipts`.
Every function takes the caller's session: :func:`append` writes the leaf and the subtree hashes
it completes inside the caller's transaction, so an event and the business change it records
commit or roll back together. Appenders are serialised (SQLite has one writer; PostgreSQL takes a
transaction-scoped advisory lock), so leaf indices are dense and never race.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import rfc8785
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from likeness_ledger.config import Settings
from likeness_ledger.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from likeness_ledger.keyfiles import load_or_create_signing_key
from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.checkpoint import Checkpoint, Note, Signer
from likeness_ledger.transparency.errors import ReceiptInvalid, TreeRangeError, VerificationError
from likeness_ledger.transparency.models import LogCheckpoint, LogLeaf, LogNode
from likeness_ledger.transparency.receipts import Receipt, event_leaf_hash

__all__ = [
    "DbNodeSource",
    "LogCorrupted",
    "append",
    "append_many",
    "audit",
    "consistency_proof",
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


def size(session: Session) -> int:
    """Number of leaves in the log."""
    last = session.scalar(select(func.max(LogLeaf.index)))
    return 0 if last is None else int(last) + 1


class DbNodeSource:
    """A :class:`~likeness_ledger.transparency.merkle.NodeSource` reading the log tables.

    Level 0 is ``log_leaves.leaf_hash``, higher levels ``log_nodes``; nodes read are cached for
    the life of the object. Only complete subtrees within ``tree_size`` are served.
    """

    def __init__(self, session: Session, tree_size: int) -> None:
        self.session = session
        self.tree_size = tree_size
        self._cache: dict[tuple[int, int], bytes] = {}

    def get_node(self, level: int, index: int) -> bytes:
        """Return the stored hash of a complete subtree; raise ``KeyError`` if there is none."""
        if level < 0 or index < 0 or (index + 1) << level > self.tree_size:
            raise KeyError(f"no complete subtree at level {level}, index {index} in size {self.tree_size}")
        cached = self._cache.get((level, index))
        if cached is not None:
            return cached
        if level == 0:
            found = self.session.scalar(select(LogLeaf.leaf_hash).where(LogLeaf.index == index))
        else:
            found = self.session.scalar(select(LogNode.hash).where(LogNode.level == level, LogNode.index == index))
        if found is None:
            raise KeyError(f"log node missing: level {level}, index {index}; run `likeness log audit`")
        self._cache[(level, index)] = found
        return bytes(found)


def _checked_size(session: Session, tree_size: int | None) -> int:
    current = size(session)
    if tree_size is None:
        return current
    if not 0 <= tree_size <= current:
        raise TreeRangeError(f"tree size out of range: expected 0..{current}, got {tree_size}")
    return tree_size


def root(session: Session, tree_size: int | None = None) -> bytes:
    """The RFC 9162 root hash of the first ``tree_size`` leaves (default: the whole log)."""
    n = _checked_size(session, tree_size)
    return merkle.tree_root(DbNodeSource(session, n), n)


def inclusion_proof(session: Session, index: int, tree_size: int | None = None) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves (default: all)."""
    n = _checked_size(session, tree_size)
    return merkle.tree_inclusion_proof(DbNodeSource(session, n), index, n)


def consistency_proof(session: Session, size1: int, size2: int | None = None) -> list[bytes]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` leaves."""
    n = _checked_size(session, size2)
    return merkle.tree_consistency_proof(DbNodeSource(session, n), size1, n)


# --- appending -----------------------------------------------------------------------------------


def _serialise_appenders(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _leaf_row(index: int, event: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidInput(f"event: expected a JSON object, got {type(event).__name__}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= _EVENT_TYPE_MAX:
        raise InvalidInput(f"event.type: expected a string of 1..{_EVENT_TYPE_MAX} characters, got {event_type!r}")
    performer = event.get("performer_id")
    performer_id: uuid.UUID | None = None
    if performer is not None:
        try:
            performer_id = uuid.UUID(str(performer))
        except ValueError as exc:
            raise InvalidInput(f"event.performer_id: expected a UUID, got {performer!r}") from exc
    try:
        leaf = event_leaf_hash(event)
    except ReceiptInvalid as exc:
        raise InvalidInput(exc.message) from exc
    return {
        "index": index,
        "leaf_hash": leaf,
        "event": rfc8785.dumps(event).decode("utf-8"),
        "event_type": event_type,
        "performer_id": performer_id,
    }


def append_many(session: Session, events: Iterable[dict[str, Any]]) -> int:
    """Append events in order, in the caller's transaction; return the index of the first one.

    Each event is a JSON object with a ``type`` (and optionally a ``performer_id``); it is stored
    as RFC 8785 canonical JSON and committed to by ``leaf_hash(canonical JSON)``. Every subtree
    the new leaves complete is stored too. Raises :class:`InvalidInput` for an event that cannot
    be logged, before anything is written.
    """
    _serialise_appenders(session)
    start = size(session)
    leaves = [_leaf_row(start + offset, event) for offset, event in enumerate(events)]
    if not leaves:
        return start
    source = DbNodeSource(session, start)
    fresh: dict[tuple[int, int], bytes] = {}

    def get(level: int, index: int) -> bytes:
        found = fresh.get((level, index))
        return found if found is not None else source.get_node(level, index)

    nodes: list[dict[str, Any]] = []
    for leaf in leaves:
        index, node = leaf["index"], leaf["leaf_hash"]
        fresh[(0, index)] = node
        level, width, position = 0, index + 1, index
        # Each trailing zero bit of the new size completes one more subtree up the right edge.
        while not width & 1:
            node = merkle.node_hash(get(level, position - 1), node)
            level, position, width = level + 1, position >> 1, width >> 1
            fresh[(level, position)] = node
            nodes.append({"level": level, "index": position, "hash": node})
    for chunk in range(0, len(leaves), _BATCH):
        session.execute(insert(LogLeaf), leaves[chunk : chunk + _BATCH])
    for chunk in range(0, len(nodes), _BATCH):
        session.execute(insert(LogNode), nodes[chunk : chunk + _BATCH])
    return start


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


def _audit_leaves(session: Session) -> merkle.MerkleTree:
    tree = merkle.MerkleTree()
    query = select(LogLeaf.index, LogLeaf.event, LogLeaf.leaf_hash).order_by(LogLeaf.index)
    result = session.execute(query.execution_options(yield_per=_BATCH))
    try:
        _check_leaves(result, tree)
    finally:
        result.close()  # a server-side cursor on PostgreSQL: close it even when a check fails
    return tree


def _check_leaves(rows: Iterable[Any], tree: merkle.MerkleTree) -> None:
    for index, event, stored in rows:
        if index != tree.size:
            raise LogCorrupted(f"leaf {tree.size}: missing (the next stored leaf is {index})", index=tree.size)
        raw = event.encode("utf-8")
        if merkle.leaf_hash(raw) != stored:
            raise LogCorrupted(f"leaf {index}: the stored event does not hash to the stored leaf hash", index=index)
        try:
            canonical = rfc8785.dumps(json.loads(event))
        except (ValueError, rfc8785.CanonicalizationError):
            canonical = b""
        if canonical != raw:
            raise LogCorrupted(f"leaf {index}: the stored event is not RFC 8785 canonical JSON", index=index)
        tree.append(bytes(stored))


def _expected_nodes(tree_size: int) -> Iterable[tuple[int, int]]:
    level = 1
    while tree_size >> level:
        for index in range(tree_size >> level):
            yield level, index
        level += 1


def _audit_nodes(session: Session, tree: merkle.MerkleTree) -> None:
    query = select(LogNode.level, LogNode.index, LogNode.hash).order_by(LogNode.level, LogNode.index)
    result = session.execute(query.execution_options(yield_per=_BATCH))
    try:
        _check_nodes(iter(result), tree)
    finally:
        result.close()


def _check_nodes(stored: Iterator[Any], tree: merkle.MerkleTree) -> None:
    for level, index in _expected_nodes(tree.size):
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


def audit(session: Session) -> None:
    """Recompute every leaf hash, every stored node and every checkpoint root; raise on the first mismatch.

    Raises :class:`LogCorrupted` whose ``index`` (and message) name the first leaf index at fault.
    """
    tree = _audit_leaves(session)
    _audit_nodes(session, tree)
    _audit_checkpoints(session, tree)


def hex_proof(proof: Sequence[bytes]) -> list[str]:
    """A proof as lower-case hex strings, the form receipts and proof files use."""
    return [item.hex() for item in proof]
