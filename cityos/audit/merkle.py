"""RFC 6962 Merkle trees, pure Python, with SM3 (or any hash, for known-answer tests).

Shape (RFC 6962 §2.1 / RFC 9162 §2.1.1): MTH({}) = HASH(), MTH({d0}) = HASH(0x00 || d0), and
for n > 1 with k the largest power of two smaller than n:
MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])).

Everything here works on *leaf hashes* (``hasher.leaf(entry)``). Proofs are lists of subtree
hashes; ``inclusion_ranges``/``consistency_ranges`` name the leaf ranges whose MTH they are, so a
caller can compute them by streaming leaves from a database (``proof_from_stream``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives import hashes

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


class HashObject(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def copy(self) -> HashObject: ...
    def digest(self) -> bytes: ...


def _sm3_factory() -> Callable[[], HashObject]:
    """The fastest SM3 here: hashlib's OpenSSL SM3 when present, else ``cryptography``'s."""
    try:
        probe = hashlib.new("sm3", b"abc").hexdigest()
        if probe == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0":
            return lambda: hashlib.new("sm3")
    except ValueError:
        pass
    return lambda: _CryptoHash()


class _CryptoHash:
    """hashlib-like wrapper of cryptography's SM3 (update/digest/copy)."""

    def __init__(self, inner: hashes.Hash | None = None) -> None:
        self._h = inner or hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def copy(self) -> _CryptoHash:
        return _CryptoHash(self._h.copy())

    def digest(self) -> bytes:
        return self._h.copy().finalize()


class TreeHasher:
    """Leaf and node hashing with the RFC 6962 domain-separation prefixes."""

    def __init__(self, new: Callable[[], HashObject], size: int = 32) -> None:
        self.size = size
        empty = new()
        self._empty = bytes(empty.digest())
        leaf_base = new()
        leaf_base.update(LEAF_PREFIX)
        node_base = new()
        node_base.update(NODE_PREFIX)
        leaf_copy, node_copy = leaf_base.copy, node_base.copy

        def leaf(data: bytes) -> bytes:
            h = leaf_copy()
            h.update(data)
            return bytes(h.digest())

        def node(left: bytes, right: bytes) -> bytes:
            h = node_copy()
            h.update(left + right)
            return bytes(h.digest())

        self.leaf: Callable[[bytes], bytes] = leaf
        self.node: Callable[[bytes, bytes], bytes] = node
        # fresh hash objects already fed the 0x00 / 0x01 prefix (for hot loops that hash in
        # place: ``h = new_node(); h.update(left + right); h.digest()`` is ``node(left, right)``)
        self.new_leaf: Callable[[], HashObject] = leaf_copy
        self.new_node: Callable[[], HashObject] = node_copy

    def empty(self) -> bytes:
        """MTH of the empty tree: the hash of the empty string."""
        return self._empty


SM3_HASHER = TreeHasher(_sm3_factory())
SHA256_HASHER = TreeHasher(hashlib.sha256)  # the RFC's own hash: for known-answer tests


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n >= 2)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    return 1 << ((n - 1).bit_length() - 1)


# ----------------------------------------------------------------------------- compact range


class CompactRange:
    """Streaming MTH: the roots of the perfect subtrees covering leaves [0, size).

    Appending is O(1) amortised (one node hash per leaf on average); ``root()`` is O(log n).
    Serialised as the concatenated subtree hashes, largest subtree first (the *frontier*).
    """

    __slots__ = ("_stack", "hasher", "size")

    def __init__(self, hasher: TreeHasher = SM3_HASHER) -> None:
        self.hasher = hasher
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf_hash: bytes) -> None:
        node = self.hasher.node
        stack = self._stack
        h, n = leaf_hash, self.size
        while n & 1:
            h = node(stack.pop(), h)
            n >>= 1
        stack.append(h)
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def root(self) -> bytes:
        if not self._stack:
            return self.hasher.empty()
        node = self.hasher.node
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node(left, h)
        return h

    def frontier(self) -> bytes:
        return b"".join(self._stack)

    @classmethod
    def from_frontier(
        cls, size: int, frontier: bytes, hasher: TreeHasher = SM3_HASHER
    ) -> CompactRange:
        width = hasher.size
        if size < 0 or len(frontier) != bin(size).count("1") * width:
            raise ValueError("frontier does not fit the tree size")
        compact = cls(hasher)
        compact.size = size
        compact._stack = [frontier[i : i + width] for i in range(0, len(frontier), width)]
        return compact


def root(leaf_hashes: Iterable[bytes], hasher: TreeHasher = SM3_HASHER) -> bytes:
    """MTH over the given leaf hashes (streaming)."""
    compact = CompactRange(hasher)
    compact.extend(leaf_hashes)
    return compact.root()


# ----------------------------------------------------------------------------- proof shapes


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose MTHs form PATH(index, D[size]) (RFC 6962 §2.1.1), leaf level first."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Leaf ranges whose MTHs form PROOF(first, D[second]) (RFC 6962 §2.1.2)."""
    if not 0 <= first <= second:
        raise ValueError("need 0 <= first <= second")
    if first == 0 or first == second:
        return []
    ranges: list[Range] = []
    start, end, complete = 0, second, True
    while True:
        m = first - start
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, complete = start + k, False
    ranges.reverse()
    return ranges


def range_hash(leaf_hashes: Sequence[bytes], span: Range, hasher: TreeHasher = SM3_HASHER) -> bytes:
    return root(leaf_hashes[span[0] : span[1]], hasher)


def inclusion_proof(
    leaf_hashes: Sequence[bytes],
    index: int,
    size: int | None = None,
    hasher: TreeHasher = SM3_HASHER,
) -> list[bytes]:
    size = len(leaf_hashes) if size is None else size
    if size > len(leaf_hashes):
        raise ValueError("tree size beyond the leaves given")
    return [range_hash(leaf_hashes, r, hasher) for r in inclusion_ranges(index, size)]


def consistency_proof(
    leaf_hashes: Sequence[bytes],
    first: int,
    second: int | None = None,
    hasher: TreeHasher = SM3_HASHER,
) -> list[bytes]:
    second = len(leaf_hashes) if second is None else second
    if second > len(leaf_hashes):
        raise ValueError("tree size beyond the leaves given")
    return [range_hash(leaf_hashes, r, hasher) for r in consistency_ranges(first, second)]


def proof_from_stream(
    ranges: Sequence[Range],
    leaf_hashes: Iterable[tuple[int, bytes]],
    hasher: TreeHasher = SM3_HASHER,
) -> list[bytes]:
    """MTHs of ``ranges`` (disjoint) from ``(index, leaf hash)`` pairs streamed in index order.

    Memory is O(log n); leaves outside every range are skipped. Raises ValueError when the
    stream skips or repeats an index inside a range.
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    out: list[bytes | None] = [None] * len(ranges)
    pos = 0
    compact: CompactRange | None = None
    expected = ranges[order[0]][0] if order else 0
    for index, leaf_hash in leaf_hashes:
        if pos >= len(order):
            break
        start, end = ranges[order[pos]]
        if index < start:
            continue
        if index != expected:
            raise ValueError(f"leaf {expected} is missing from the log")
        if compact is None:
            compact = CompactRange(hasher)
        compact.append(leaf_hash)
        expected = index + 1
        if index + 1 == end:
            out[order[pos]] = compact.root()
            compact = None
            pos += 1
            if pos < len(order):
                expected = ranges[order[pos]][0]
    if pos < len(order):
        raise ValueError(f"leaf {expected} is missing from the log")
    return [h for h in out if h is not None]


# ----------------------------------------------------------------------------- verification


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], hasher: TreeHasher = SM3_HASHER
) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root the proof leads to, or None when it cannot fit."""
    if not 0 <= index < size or any(len(p) != hasher.size for p in proof):
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root_hash: bytes,
    hasher: TreeHasher = SM3_HASHER,
) -> bool:
    """True when ``proof`` shows leaf ``index`` with ``leaf_hash`` in the tree of ``size``."""
    if len(leaf_hash) != hasher.size:
        return False
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof, hasher)
    return computed is not None and computed == root_hash


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
    hasher: TreeHasher = SM3_HASHER,
) -> bool:
    """RFC 9162 §2.1.4.2: the tree of size ``second`` extends the tree of size ``first``."""
    if not 0 <= first <= second or any(len(p) != hasher.size for p in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == hasher.empty()
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


@dataclass(frozen=True)
class TreeHead:
    """What a signed tree head commits to."""

    tree_size: int
    root_hash: bytes
    timestamp_ms: int

    def signed_data(self) -> bytes:
        """RFC 6962 §3.5 TreeHeadSignature: v1 (0), tree_hash (1), timestamp, size, root."""
        return (
            b"\x00\x01"
            + self.timestamp_ms.to_bytes(8, "big")
            + self.tree_size.to_bytes(8, "big")
            + self.root_hash
        )
