"""Unit and property tests for likeness_ledger.transparency.merkle.

The oracle is a direct transcription of the recursive definitions in RFC 9162 §2.1 (MTH, PATH,
SUBPROOF), kept deliberately naive so it shares no code or tricks with the implementation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from likeness_ledger.errors import Error
from likeness_ledger.transparency import merkle
from likeness_ledger.transparency.errors import TreeRangeError, VerificationError

# --- RFC 9162 §2.1 reference (the test oracle) --------------------------------------------------


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaf_hashes: Sequence[bytes]) -> bytes:
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    left, right = ref_mth(leaf_hashes[:k]), ref_mth(leaf_hashes[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    n = len(leaf_hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_path(m, leaf_hashes[:k]), ref_mth(leaf_hashes[k:])]
    return [*ref_path(m - k, leaf_hashes[k:]), ref_mth(leaf_hashes[:k])]


def ref_subproof(m: int, leaf_hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaf_hashes)
    if m == n:
        return [] if complete else [ref_mth(leaf_hashes)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, leaf_hashes[:k], complete), ref_mth(leaf_hashes[k:])]
    return [*ref_subproof(m - k, leaf_hashes[k:], False), ref_mth(leaf_hashes[:k])]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


def flip(value: bytes, position: int, mask: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ mask]) + value[position + 1 :]


# Sizes around powers of two are where right-edge handling goes wrong.
EDGE_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129]
sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(min_value=1, max_value=140))
masks = st.integers(min_value=1, max_value=255)


class CountingSource:
    """A NodeSource backed by a dict, like a database table of (level, index) -> hash."""

    def __init__(self, tree: merkle.MerkleTree) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        level = 0
        while True:
            width = tree.size >> level
            if not width:
                break
            for index in range(width):
                self.nodes[level, index] = tree.get_node(level, index)
            level += 1
        self.reads = 0

    def get_node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.nodes[level, index]


class TestHashing:
    def test_prefixes_are_the_rfc_ones(self) -> None:
        assert merkle.LEAF_PREFIX == b"\x00"
        assert merkle.NODE_PREFIX == b"\x01"
        assert merkle.HASH_SIZE == 32

    def test_leaf_and_node_hash_are_domain_separated(self) -> None:
        a, b = b"a" * 32, b"b" * 32
        assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)
        assert merkle.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
        assert merkle.leaf_hash(a) == hashlib.sha256(b"\x00" + a).digest()

    def test_empty_tree(self) -> None:
        assert merkle.root([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
        assert merkle.MerkleTree().root() == merkle.EMPTY_ROOT
        assert merkle.MerkleTree().root(0) == merkle.EMPTY_ROOT

    def test_verification_error_is_a_400_project_error(self) -> None:
        assert issubclass(merkle.VerificationError, Error)
        assert merkle.VerificationError.http_status == 400
        assert merkle.VerificationError is VerificationError


class TestMerkleTree:
    @settings(max_examples=40, deadline=None)
    @given(n=st.integers(min_value=0, max_value=140))
    def test_roots_of_every_size_match_the_rfc(self, n: int) -> None:
        hashes = leaves(n)
        tree = merkle.MerkleTree()
        expected = [ref_mth([])]
        for index, item in enumerate(hashes):
            assert tree.append(item) == index
            expected.append(ref_mth(hashes[: index + 1]))
            assert tree.root() == expected[-1]
        assert len(tree) == tree.size == n
        assert [tree.root(size) for size in range(n + 1)] == expected
        assert merkle.root(hashes) == expected[-1]

    @settings(max_examples=40, deadline=None)
    @given(chunks=st.lists(st.integers(min_value=0, max_value=40), max_size=8), single=st.booleans())
    def test_append_many_equals_repeated_append(self, chunks: list[int], single: bool) -> None:
        hashes = leaves(sum(chunks))
        bulk, one_by_one = merkle.MerkleTree(), merkle.MerkleTree()
        offset = 0
        for count in chunks:
            part = hashes[offset : offset + count]
            if single:
                assert bulk.append_many(iter(part)) == offset
            else:
                bulk.append_many(part)
            for item in part:
                one_by_one.append(item)
            offset += count
        assert bulk.size == one_by_one.size == len(hashes)
        assert bulk.root() == one_by_one.root() == ref_mth(hashes)
        for level in range(len(hashes).bit_length()):
            for index in range(len(hashes) >> level):
                assert bulk.get_node(level, index) == one_by_one.get_node(level, index)

    def test_constructor_takes_leaf_hashes(self) -> None:
        hashes = leaves(10)
        assert merkle.MerkleTree(hashes).root() == merkle.MerkleTree(iter(hashes)).root()

    @pytest.mark.parametrize("bad", [b"", b"x" * 31, b"x" * 33, "x" * 32, bytearray(32), None])
    def test_append_rejects_anything_but_32_bytes(self, bad: object) -> None:
        tree = merkle.MerkleTree()
        with pytest.raises(ValueError, match="expected 32 bytes"):
            tree.append(bad)  # type: ignore[arg-type]  # the point is a wrong type
        with pytest.raises(ValueError, match="expected 32 bytes"):
            tree.append_many([b"\x00" * 32, bad])  # type: ignore[list-item]  # likewise
        assert tree.size == 0

    def test_get_node_only_hands_out_complete_subtrees(self) -> None:
        tree = merkle.MerkleTree(leaves(5))
        assert tree.get_node(2, 0) == ref_mth(leaves(5)[:4])
        for level, index in [(2, 1), (3, 0), (0, 5), (-1, 0), (0, -1)]:
            with pytest.raises(IndexError):
                tree.get_node(level, index)

    def test_out_of_range_requests_raise_tree_range_error(self) -> None:
        tree = merkle.MerkleTree(leaves(8))
        calls: list[Callable[[], object]] = [
            lambda: tree.root(9),
            lambda: tree.root(-1),
            lambda: tree.inclusion_proof(8),
            lambda: tree.inclusion_proof(-1),
            lambda: tree.inclusion_proof(3, 3),
            lambda: tree.inclusion_proof(0, 9),
            lambda: tree.inclusion_proof(0, 0),
            lambda: tree.consistency_proof(0),
            lambda: tree.consistency_proof(5, 4),
            lambda: tree.consistency_proof(1, 9),
            lambda: merkle.tree_root(tree, -1),
            lambda: merkle.inclusion_proof(0, []),
            lambda: merkle.consistency_proof(0, leaves(3)),
        ]
        for call in calls:
            with pytest.raises(TreeRangeError, match=r"expected .* got"):
                call()
        assert TreeRangeError.http_status == 400

    def test_consistency_proof_between_equal_sizes_is_empty(self) -> None:
        tree = merkle.MerkleTree(leaves(6))
        assert tree.consistency_proof(6) == []
        assert tree.consistency_proof(3, 3) == []


class TestProofs:
    @settings(max_examples=40, deadline=None)
    @given(n=sizes)
    def test_every_inclusion_proof_matches_the_rfc_and_verifies(self, n: int) -> None:
        hashes = leaves(n)
        tree = merkle.MerkleTree(hashes)
        top = tree.root()
        for index in range(n):
            proof = tree.inclusion_proof(index)
            assert proof == ref_path(index, hashes)
            merkle.verify_inclusion(hashes[index], index, n, proof, top)
        probe = n // 2
        assert merkle.inclusion_proof(probe, hashes) == ref_path(probe, hashes)

    @settings(max_examples=40, deadline=None)
    @given(n=sizes)
    def test_every_consistency_proof_matches_the_rfc_and_verifies(self, n: int) -> None:
        hashes = leaves(n)
        tree = merkle.MerkleTree(hashes)
        top = tree.root()
        for size1 in range(1, n + 1):
            proof = tree.consistency_proof(size1)
            assert proof == ref_subproof(size1, hashes, complete=True)
            merkle.verify_consistency(size1, n, proof, tree.root(size1), top)
        probe = (n + 1) // 2
        assert merkle.consistency_proof(probe, hashes) == tree.consistency_proof(probe)

    def test_every_proof_between_past_sizes_verifies(self) -> None:
        n = 40
        tree = merkle.MerkleTree(leaves(n))
        roots = [tree.root(size) for size in range(n + 1)]
        for size2 in range(1, n + 1):
            for size1 in range(1, size2 + 1):
                proof = tree.consistency_proof(size1, size2)
                merkle.verify_consistency(size1, size2, proof, roots[size1], roots[size2])
            for index in range(size2):
                proof = tree.inclusion_proof(index, size2)
                merkle.verify_inclusion(tree.get_node(0, index), index, size2, proof, roots[size2])

    @settings(max_examples=60, deadline=None)
    @given(n=sizes, data=st.data())
    def test_any_flipped_byte_in_an_inclusion_check_fails(self, n: int, data: st.DataObject) -> None:
        hashes = leaves(n)
        tree = merkle.MerkleTree(hashes)
        index = data.draw(st.integers(min_value=0, max_value=n - 1))
        proof, top, leaf = tree.inclusion_proof(index), tree.root(), hashes[index]
        where = data.draw(st.sampled_from(["leaf", "root", "proof"] if proof else ["leaf", "root"]))
        position, mask = data.draw(st.integers(min_value=0, max_value=31)), data.draw(masks)
        if where == "leaf":
            leaf = flip(leaf, position, mask)
        elif where == "root":
            top = flip(top, position, mask)
        else:
            item = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            proof[item] = flip(proof[item], position, mask)
        with pytest.raises(VerificationError, match=r"expected .* got"):
            merkle.verify_inclusion(leaf, index, n, proof, top)

    @settings(max_examples=60, deadline=None)
    @given(n=sizes.filter(lambda n: n > 1), data=st.data())
    def test_any_flipped_byte_in_a_consistency_check_fails(self, n: int, data: st.DataObject) -> None:
        tree = merkle.MerkleTree(leaves(n))
        size1 = data.draw(st.integers(min_value=1, max_value=n - 1))
        proof, root1, root2 = tree.consistency_proof(size1), tree.root(size1), tree.root()
        where = data.draw(st.sampled_from(["root1", "root2", "proof"]))
        position, mask = data.draw(st.integers(min_value=0, max_value=31)), data.draw(masks)
        if where == "root1":
            root1 = flip(root1, position, mask)
        elif where == "root2":
            root2 = flip(root2, position, mask)
        else:
            item = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            proof[item] = flip(proof[item], position, mask)
        with pytest.raises(VerificationError, match=r"expected .* got"):
            merkle.verify_consistency(size1, n, proof, root1, root2)

    @settings(max_examples=25, deadline=None)
    @given(n=sizes, data=st.data())
    def test_wrong_shape_inclusion_checks_fail(self, n: int, data: st.DataObject) -> None:
        hashes = leaves(n)
        tree = merkle.MerkleTree(hashes)
        index = data.draw(st.integers(min_value=0, max_value=n - 1))
        proof, top = tree.inclusion_proof(index), tree.root()
        other = data.draw(st.integers(min_value=0, max_value=n).filter(lambda i: i != index))
        shapes = [
            (hashes[index], index, n, [*proof, top], top),  # one hash too many
            (hashes[index], index, index, proof, top),  # index outside the claimed tree
            (hashes[index], other, n, proof, top),  # claims another position
            (hashes[index], index, n, proof, tree.root(n - 1) if n > 1 else merkle.EMPTY_ROOT),
        ]
        if proof:
            shapes.append((hashes[index], index, n, proof[:-1], top))  # one hash short
        for leaf, position, size, path, expected in shapes:
            with pytest.raises(VerificationError):
                merkle.verify_inclusion(leaf, position, size, path, expected)

    @settings(max_examples=40, deadline=None)
    @given(n=sizes.filter(lambda n: n > 1), data=st.data())
    def test_wrong_shape_consistency_checks_fail(self, n: int, data: st.DataObject) -> None:
        tree = merkle.MerkleTree(leaves(n))
        size1 = data.draw(st.integers(min_value=1, max_value=n - 1))
        proof, root1, root2 = tree.consistency_proof(size1), tree.root(size1), tree.root()
        shapes = [
            (size1, n, proof[:-1], root1, root2),
            (size1, n, [*proof, root2], root1, root2),
            (size1, n, proof, root2, root1),  # swapped roots
            (n, size1, proof, root2, root1),  # shrinking tree
            (0, n, proof, merkle.EMPTY_ROOT, root2),  # from the empty tree: policy
            (size1, size1, [], root1, root2),  # same size, different roots
            (size1, size1, proof, root1, root1),  # same size, non-empty proof
        ]
        for first, second, path, r1, r2 in shapes:
            with pytest.raises(VerificationError, match=r"expected .* got"):
                merkle.verify_consistency(first, second, path, r1, r2)

    def test_error_messages_say_what_was_expected(self) -> None:
        hashes = leaves(5)
        tree = merkle.MerkleTree(hashes)
        with pytest.raises(VerificationError, match=r"expected 3 hashes, got 2"):
            merkle.verify_inclusion(hashes[0], 0, 5, tree.inclusion_proof(0)[:2], tree.root())
        with pytest.raises(VerificationError, match=f"expected {tree.root().hex()}, got"):
            merkle.verify_inclusion(hashes[1], 0, 5, tree.inclusion_proof(0), tree.root())
        with pytest.raises(VerificationError, match=r"leaf hash: expected 32 bytes, got 3"):
            merkle.verify_inclusion(b"abc", 0, 5, [], tree.root())
        with pytest.raises(VerificationError, match=r"expected size1 > 0, got 0"):
            merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
        with pytest.raises(VerificationError, match=r"first root: expected"):
            merkle.verify_consistency(3, 5, tree.consistency_proof(3), tree.root(2), tree.root())
        short = tree.consistency_proof(3)
        short[1] = b"x"
        with pytest.raises(VerificationError, match=r"consistency proof\[1\]: expected 32 bytes"):
            merkle.verify_consistency(3, 5, short, tree.root(3), tree.root())

    def test_equal_sizes_only_compare_roots(self) -> None:
        top = merkle.root(leaves(7))
        merkle.verify_consistency(7, 7, [], top, top)

    def test_huge_tree_sizes_are_handled(self) -> None:
        size = 2**64 - 1
        proof = [merkle.leaf_hash(bytes([i])) for i in range(64)]
        with pytest.raises(VerificationError, match="expected"):
            merkle.verify_inclusion(proof[0], size - 1, size, proof, merkle.EMPTY_ROOT)
        with pytest.raises(VerificationError, match="expected"):
            merkle.verify_consistency(size - 5, size, proof, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)


class TestNodeSource:
    """The generic algorithms over a store other than MerkleTree (the database hook)."""

    @settings(max_examples=30, deadline=None)
    @given(n=sizes, data=st.data())
    def test_generic_algorithms_agree_with_the_tree(self, n: int, data: st.DataObject) -> None:
        tree = merkle.MerkleTree(leaves(n))
        source = CountingSource(tree)
        size = data.draw(st.integers(min_value=1, max_value=n))
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        size1 = data.draw(st.integers(min_value=1, max_value=size))
        assert merkle.tree_root(source, size) == tree.root(size)
        assert merkle.tree_root(source, 0) == merkle.EMPTY_ROOT
        assert merkle.tree_inclusion_proof(source, index, size) == tree.inclusion_proof(index, size)
        assert merkle.tree_consistency_proof(source, size1, size) == tree.consistency_proof(
            size1, size
        )

    def test_proofs_read_logarithmically_many_nodes(self) -> None:
        n = 20_011
        tree = merkle.MerkleTree(leaves(n))
        source = CountingSource(tree)
        budget = 2 * n.bit_length() + 2
        for index in (0, 1, n // 2, n - 2, n - 1):
            source.reads = 0
            merkle.tree_inclusion_proof(source, index, n)
            assert source.reads <= budget
        for size1 in (1, 2, 3, n // 3, n - 1):
            source.reads = 0
            merkle.tree_consistency_proof(source, size1, n)
            assert source.reads <= budget
        source.reads = 0
        merkle.tree_root(source, n)
        assert source.reads <= n.bit_length()

    def test_a_protocol_implementation_is_enough(self) -> None:
        source: merkle.NodeSource = CountingSource(merkle.MerkleTree(leaves(3)))
        assert merkle.tree_root(source, 3) == ref_mth(leaves(3))
