"""Merkle hash trees, inclusion proofs and consistency proofs (RFC 6962 §2.1, RFC 9162 §2.1).

The tree hash is the one Certificate Transparency defines, with SHA-256:

* the hash of the empty tree is ``SHA-256("")``;
* a leaf hash is ``SHA-256(0x00 || entry)`` (:data:`LEAF_PREFIX`);
* an interior node is ``SHA-256(0x01 || left || right)`` (:data:`NODE_PREFIX`), where the left
  subtree holds the largest power of two of leaves strictly smaller than the whole.

The distinct prefixes are what stop a leaf from being passed off as an interior node (second
preimage attacks, RFC 9162 §2.1.1). Leaf indices are 0-based throughout.

Proof *generation* is written once, over the :class:`NodeSource` protocol: anything that can hand
out the hash of a complete (perfect) subtree by ``(level, index)`` can produce roots and proofs
for any past tree size with O(log n) node reads. :class:`MerkleTree` is the in-memory source; a
database-backed log implements ``get_node`` over its stored nodes and calls :func:`tree_root`,
:func:`tree_inclusion_proof` and :func:`tree_consistency_proof` directly.

Proof *verification* follows the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and
raises :class:`VerificationError` on any mismatch. One policy goes beyond the RFC: like
transparency-dev/merkle, a consistency proof from an empty tree (``size1 == 0``) is rejected,
since it proves nothing and accepting it would let a malicious log present any tree as an
"extension" of nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol

from likeness_ledger.transparency.errors import TreeRangeError, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "MerkleTree",
    "NodeSource",
    "TreeRangeError",
    "VerificationError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "tree_consistency_proof",
    "tree_inclusion_proof",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
"""Size in bytes of every leaf, node and root hash (SHA-256)."""

LEAF_PREFIX: Final = b"\x00"
"""Domain-separation prefix of leaf hashes (RFC 9162 §2.1.1)."""

NODE_PREFIX: Final = b"\x01"
"""Domain-separation prefix of interior node hashes (RFC 9162 §2.1.1)."""

EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
"""Root hash of the tree with no leaves: SHA-256 of the empty string (RFC 9162 §2.1.1)."""

# Bound once at import: the hot loops below call it millions of times.
_sha256 = hashlib.sha256

_NodeGetter = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)`` of one log entry."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


class NodeSource(Protocol):
    """Read access to the complete-subtree hashes of a Merkle tree.

    This is the storage hook shared by the in-memory :class:`MerkleTree` and a database-backed
    log: the root and proof algorithms only ever ask for *complete* subtrees, which never change
    once written, so a store can keep them in an append-only table keyed by ``(level, index)``.
    """

    def get_node(self, level: int, index: int) -> bytes:
        """Return the hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``.

        Level 0 holds the leaf hashes themselves. The algorithms only ask for subtrees that are
        complete within the tree size they were given, so callers must not pass a size larger
        than the store holds; a store should raise (``IndexError``, ``KeyError``) rather than
        invent a missing node.
        """
        ...


# --- generation: written once over NodeSource ---------------------------------------------------


def _range_root(get: _NodeGetter, begin: int, end: int) -> bytes:
    """Return the RFC 9162 hash of the leaves ``[begin, end)``, a node on the tree's right edge.

    Every node of an RFC 9162 tree starts at a multiple of the largest power of two not above its
    width, so the range splits greedily into complete subtrees of decreasing size, which are then
    folded from the right, exactly as the recursive definition of MTH nests them.
    """
    width = end - begin
    if not width & (width - 1):  # complete subtree: one stored node, the common case
        level = width.bit_length() - 1
        return get(level, begin >> level)
    parts: list[bytes] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        parts.append(get(level, begin >> level))
        begin += 1 << level
    sha, prefix = _sha256, NODE_PREFIX
    acc = parts.pop()
    while parts:
        acc = sha(prefix + parts.pop() + acc).digest()
    return acc


def _path(get: _NodeGetter, level: int, index: int, size: int) -> list[bytes]:
    """Return the audit path of node ``(level, index)`` up to the root of a tree of ``size`` leaves.

    The path has two parts (the same decomposition transparency-dev/merkle uses). Below the
    level where the node's path and the tree's right edge meet, every sibling is a complete
    subtree except the topmost one, which may be the partial right-edge node. Above it, the
    path runs along the right edge, whose siblings are the complete left subtrees given by the
    set bits of the index. Either way it costs O(log n) node reads and at most log n hashes.
    """
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    proof: list[bytes] = []
    append = proof.append
    for shift in range(inner - 1):
        append(get(level + shift, (index >> shift) ^ 1))
    if inner:
        shift = inner - 1
        sibling_level = level + shift
        sibling = (index >> shift) | 1  # always to the right: index < last at this bit
        begin = sibling << sibling_level
        end = begin + (1 << sibling_level)
        if end <= size:
            append(get(sibling_level, sibling))
        else:
            append(_range_root(get, begin, size))
    index >>= inner
    level += inner
    while index:
        if index & 1:
            append(get(level, index ^ 1))
        index >>= 1
        level += 1
    return proof


def _check_size(size: int, available: int) -> None:
    if not 0 <= size <= available:
        raise TreeRangeError(f"tree size out of range: expected 0..{available}, got {size}")


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index out of range: expected 0 <= index < {size}, got {index}")


def tree_root(source: NodeSource, size: int) -> bytes:
    """Return the root hash of the first ``size`` leaves of ``source`` (RFC 9162 §2.1.1 MTH)."""
    if size < 0:
        raise TreeRangeError(f"tree size out of range: expected >= 0, got {size}")
    if size == 0:
        return EMPTY_ROOT
    return _range_root(source.get_node, 0, size)


def tree_inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1).

    Hashes are ordered from the leaf's sibling upwards, as RFC 9162 PATH(m, D[n]) lists them.
    """
    _check_index(index, size)
    return _path(source.get_node, 0, index, size)


def tree_consistency_proof(source: NodeSource, size1: int, size2: int) -> list[bytes]:
    """Return the proof that the tree of ``size1`` leaves is a prefix of that of ``size2`` leaves.

    The proof equals RFC 9162 §2.1.4.1 PROOF(m, D[n]): the node that ends exactly at ``size1``
    (omitted when ``size1`` is a power of two, as the verifier already holds it as the old root)
    followed by that node's audit path in the larger tree. ``size1 == 0`` is refused because
    :func:`verify_consistency` rejects such proofs (see the module docstring).
    """
    return _consistency_path(source.get_node, size1, size2)


def _consistency_path(get: _NodeGetter, size1: int, size2: int) -> list[bytes]:
    if not 0 < size1 <= size2:
        raise TreeRangeError(
            f"consistency proof sizes out of range: expected 0 < size1 <= size2, "
            f"got size1={size1}, size2={size2}"
        )
    if size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    index = (size1 - 1) >> level
    proof = _path(get, level, index, size2)
    if index:
        proof.insert(0, get(level, index))
    return proof


class MerkleTree:
    """An append-only RFC 9162 Merkle tree held in memory.

    Every complete subtree hash is stored, one list of 32-byte hashes per level, so an append
    costs one hash amortised (n leaves have n - 1 interior nodes), and the root of *any* past
    size, an inclusion proof or a consistency proof costs O(log n) list reads plus at most
    log n hashes for the partial right edge. Memory is about two stored hashes per leaf.

    Not thread-safe: guard appends with a lock if several threads write.
    """

    __slots__ = ("_get", "_levels")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        levels: list[list[bytes]] = [[]]
        self._levels = levels
        # The proof algorithms only ask for nodes that exist, so they read through this
        # unchecked getter; the public get_node adds the bounds check (about 10% slower).
        self._get: _NodeGetter = lambda level, index: levels[level][index]
        self.append_many(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self._levels[0])

    def get_node(self, level: int, index: int) -> bytes:
        """Return the stored hash of a complete subtree (the :class:`NodeSource` hook).

        Raises ``IndexError`` if that subtree is not complete yet.
        """
        if level < 0 or index < 0:
            raise IndexError(f"no node at level {level}, index {index}")
        return self._levels[level][index]

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash (see :func:`leaf_hash`) and return its 0-based index."""
        if type(leaf_hash) is not bytes or len(leaf_hash) != HASH_SIZE:
            raise ValueError(_bad_leaf_message(leaf_hash))
        levels = self._levels
        row = levels[0]
        row.append(leaf_hash)
        width = len(row)
        index = width - 1
        node = leaf_hash
        level = 0
        sha, prefix = _sha256, NODE_PREFIX
        # Each trailing zero bit of the new size completes one more subtree up the right edge.
        while not width & 1:
            node = sha(prefix + row[-2] + node).digest()
            level += 1
            if level == len(levels):
                levels.append([])
            row = levels[level]
            row.append(node)
            width >>= 1
        return index

    def append_many(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append leaf hashes in order; return the index of the first one (the old size).

        Faster than repeated :meth:`append`: each level is extended in one pass.
        """
        new = list(leaf_hashes)
        # Set-of-map runs the checks in C; only on failure look for the culprit.
        if set(map(type, new)) - {bytes} or set(map(len, new)) - {HASH_SIZE}:
            bad = next(h for h in new if type(h) is not bytes or len(h) != HASH_SIZE)
            raise ValueError(_bad_leaf_message(bad))
        levels = self._levels
        first = len(levels[0])
        levels[0].extend(new)
        sha, prefix = _sha256, NODE_PREFIX
        level = 0
        while True:
            lower = levels[level]
            stop = len(lower) & ~1
            start = 2 * len(levels[level + 1]) if level + 1 < len(levels) else 0
            if start >= stop:
                return first
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].extend(
                [
                    sha(prefix + left + right).digest()
                    for left, right in zip(
                        lower[start:stop:2], lower[start + 1 : stop : 2], strict=True
                    )
                ]
            )
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash at ``size`` leaves (default: the current size)."""
        if size is None:
            size = len(self._levels[0])
        _check_size(size, len(self._levels[0]))
        return _range_root(self._get, 0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree at ``size`` (default: now)."""
        if size is None:
            size = len(self._levels[0])
        _check_size(size, len(self._levels[0]))
        _check_index(index, size)
        return _path(self._get, 0, index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the consistency proof from the tree at ``size1`` to that at ``size2``."""
        if size2 is None:
            size2 = len(self._levels[0])
        _check_size(size2, len(self._levels[0]))
        return _consistency_path(self._get, size1, size2)


def _bad_leaf_message(value: object) -> str:
    if not isinstance(value, bytes):
        return f"leaf hash: expected {HASH_SIZE} bytes, got {type(value).__name__}"
    return f"leaf hash: expected {HASH_SIZE} bytes, got {len(value)}"


# --- pure functions over a list of leaf hashes ---------------------------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 root hash of a whole list of leaf hashes (empty: ``SHA-256("")``)."""
    return MerkleTree(leaf_hashes).root()


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the inclusion proof of ``leaf_hashes[index]`` in the tree of all ``leaf_hashes``."""
    return MerkleTree(leaf_hashes).inclusion_proof(index)


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from the first ``size1`` leaves to all of ``leaf_hashes``."""
    return MerkleTree(leaf_hashes).consistency_proof(size1)


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------


def _require_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what}: expected {HASH_SIZE} bytes, got {len(value)}")


def _require_hashes(what: str, items: Sequence[bytes]) -> None:
    # One pass in C over the lengths; the per-item loop only runs to name the bad one.
    if set(map(len, items)) - {HASH_SIZE}:
        for position, item in enumerate(items):
            _require_hash(f"{what}[{position}]", item)


def _inclusion_length(index: int, size: int) -> int:
    # Same decomposition as _path: inner siblings plus one left sibling per set bit above them.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` sits at ``index`` in the tree of ``size`` leaves with ``root``.

    Implements RFC 9162 §2.1.3.2. The proof must have exactly the length the tree shape
    implies (which is what the RFC's final ``sn == 0`` test enforces). Raises
    :class:`VerificationError`; returns nothing on success.
    """
    _require_hash("leaf hash", leaf_hash)
    _require_hash("root", root)
    if not 0 <= index < size:
        raise VerificationError(
            f"leaf index out of range: expected 0 <= index < tree size {size}, got {index}"
        )
    want = _inclusion_length(index, size)
    if len(proof) != want:
        raise VerificationError(
            f"inclusion proof for leaf {index} of {size}: "
            f"expected {want} hashes, got {len(proof)}"
        )
    _require_hashes("inclusion proof", proof)
    sha, prefix = _sha256, NODE_PREFIX
    fn, sn = index, size - 1
    acc = leaf_hash
    for sibling in proof:
        if fn & 1 or fn == sn:
            acc = sha(prefix + sibling + acc).digest()
            # On the right edge a node may have no right sibling for several levels.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            acc = sha(prefix + acc + sibling).digest()
        fn >>= 1
        sn >>= 1
    if acc != root:
        raise VerificationError(
            f"inclusion proof does not lead to the root: expected {root.hex()}, got {acc.hex()}"
        )


def _consistency_length(size1: int, size2: int) -> int:
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + (inner - shift) + border


def _verify_same_tree(proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    if proof:
        raise VerificationError(
            f"equal tree sizes: expected an empty proof, got {len(proof)} hashes"
        )
    if root1 != root2:
        raise VerificationError(
            f"equal tree sizes: expected root {root1.hex()}, got {root2.hex()}"
        )


def _consistency_roots(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    """Run RFC 9162 §2.1.4.2 steps 2-6; return the recomputed (first root, second root)."""
    # Step 2: when size1 is a power of two the old root itself is the first node.
    path = [root1, *proof] if not size1 & (size1 - 1) else list(proof)
    sha, prefix = _sha256, NODE_PREFIX
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if fn & 1 or fn == sn:
            fr = sha(prefix + node + fr).digest()
            sr = sha(prefix + node + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha(prefix + sr + node).digest()
        fn >>= 1
        sn >>= 1
    return fr, sr


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` leaves with ``root1`` is a prefix of ``size2``/``root2``.

    Implements RFC 9162 §2.1.4.2, plus transparency-dev's policy of rejecting ``size1 == 0``.
    Equal sizes need an empty proof and equal roots. Raises :class:`VerificationError`.
    """
    if size1 <= 0:
        raise VerificationError(
            "consistency proofs from an empty tree are rejected: "
            f"expected size1 > 0, got {size1}"
        )
    if size2 < size1:
        raise VerificationError(f"trees shrink: expected size2 >= size1 = {size1}, got {size2}")
    if size1 == size2:
        _verify_same_tree(proof, root1, root2)
        return
    # Checked only now: with equal sizes the roots are merely compared, whatever their length
    # (transparency-dev's probe "sizes are equal (one) and proof is empty" expects acceptance).
    _require_hash("first root", root1)
    _require_hash("second root", root2)
    want = _consistency_length(size1, size2)
    if len(proof) != want:
        raise VerificationError(
            f"consistency proof from {size1} to {size2}: "
            f"expected {want} hashes, got {len(proof)}"
        )
    _require_hashes("consistency proof", proof)
    fr, sr = _consistency_roots(size1, size2, proof, root1)
    if fr != root1:
        raise VerificationError(
            f"consistency proof does not lead to the first root: "
            f"expected {root1.hex()}, got {fr.hex()}"
        )
    if sr != root2:
        raise VerificationError(
            f"consistency proof does not lead to the second root: "
            f"expected {root2.hex()}, got {sr.hex()}"
        )
