"""RFC 6962 Merkle trees: known answers from first principles and from RFC 6962's own hash."""

from collections.abc import Sequence

import pytest

from cityos.audit import merkle
from cityos.audit.merkle import SHA256_HASHER, SM3_HASHER, CompactRange, TreeHasher
from cityos.crypto import sm3

N = 40


def naive_mth(entries: Sequence[bytes], h: TreeHasher = SM3_HASHER) -> bytes:
    """RFC 6962 §2.1 written out literally (recursive, on the raw entries)."""
    n = len(entries)
    if n == 0:
        return h.empty()
    if n == 1:
        return h.leaf(entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return h.node(naive_mth(entries[:k], h), naive_mth(entries[k:], h))


def naive_path(m: int, entries: Sequence[bytes], h: TreeHasher = SM3_HASHER) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, literally."""
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, entries[:k], h), naive_mth(entries[k:], h)]
    return [*naive_path(m - k, entries[k:], h), naive_mth(entries[:k], h)]


def naive_subproof(m: int, entries: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2, literally."""
    n = len(entries)
    if m == n:
        return [] if complete else [naive_mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, entries[:k], complete), naive_mth(entries[k:])]
    return [*naive_subproof(m - k, entries[k:], False), naive_mth(entries[:k])]


ENTRIES = [f"record-{i}".encode() for i in range(N)]
LEAVES = [SM3_HASHER.leaf(e) for e in ENTRIES]


def test_hashing_is_sm3_with_rfc6962_prefixes() -> None:
    assert SM3_HASHER.empty() == sm3(b"")
    assert SM3_HASHER.leaf(b"x") == sm3(b"\x00x")
    assert SM3_HASHER.node(b"a" * 32, b"b" * 32) == sm3(b"\x01" + b"a" * 32 + b"b" * 32)


def test_root_matches_naive_mth_for_every_size() -> None:
    assert merkle.root([]) == sm3(b"")
    for n in range(1, N + 1):
        assert merkle.root(LEAVES[:n]) == naive_mth(ENTRIES[:n]), n


def test_split_is_the_largest_power_of_two_not_the_midpoint() -> None:
    # for 5 leaves the RFC splits 4 + 1; a midpoint split (3 + 2) gives another root
    h = SM3_HASHER
    four = h.node(h.node(LEAVES[0], LEAVES[1]), h.node(LEAVES[2], LEAVES[3]))
    assert merkle.root(LEAVES[:5]) == h.node(four, LEAVES[4])
    assert merkle.largest_power_of_two_below(5) == 4
    assert merkle.largest_power_of_two_below(8) == 4
    assert merkle.largest_power_of_two_below(9) == 8


def test_every_inclusion_proof_is_rfc_path_and_verifies() -> None:
    for n in range(1, N + 1):
        root = merkle.root(LEAVES[:n])
        for m in range(n):
            proof = merkle.inclusion_proof(LEAVES, m, n)
            assert proof == naive_path(m, ENTRIES[:n]), (m, n)
            assert merkle.verify_inclusion(LEAVES[m], m, n, proof, root)
            # the wrong leaf, index, size or root does not verify
            assert not merkle.verify_inclusion(LEAVES[(m + 1) % N], m, n, proof, root)
            assert not merkle.verify_inclusion(LEAVES[m], m, n, proof, sm3(root))
            if n > 1:
                assert not merkle.verify_inclusion(LEAVES[m], (m + 1) % n, n, proof, root)
                assert not merkle.verify_inclusion(LEAVES[m], m, n, proof[:-1], root)
                assert not merkle.verify_inclusion(LEAVES[m], m, n, [*proof, root], root)
                bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                assert not merkle.verify_inclusion(LEAVES[m], m, n, bad, root)
            if n < N:
                bigger = merkle.root(LEAVES[: n + 1])
                assert not merkle.verify_inclusion(LEAVES[m], m, n + 1, proof, bigger)


def test_every_consistency_proof_is_rfc_proof_and_verifies() -> None:
    roots = [merkle.root(LEAVES[:n]) for n in range(N + 1)]
    for second in range(1, N + 1):
        for first in range(1, second + 1):
            proof = merkle.consistency_proof(LEAVES, first, second)
            assert proof == naive_subproof(first, ENTRIES[:second], True), (first, second)
            assert merkle.verify_consistency(first, second, roots[first], roots[second], proof)
            if first < second:
                assert not merkle.verify_consistency(
                    first, second, roots[first], roots[second - 1], proof
                )
                assert not merkle.verify_consistency(
                    first, second, sm3(roots[first]), roots[second], proof
                )
                assert not merkle.verify_consistency(
                    first, second, roots[first], roots[second], proof[:-1]
                )
                bad = [*proof[:-1], bytes([proof[-1][0] ^ 1]) + proof[-1][1:]]
                assert not merkle.verify_consistency(
                    first, second, roots[first], roots[second], bad
                )
    assert merkle.verify_consistency(0, 5, roots[0], roots[5], [])
    assert not merkle.verify_consistency(5, 4, roots[5], roots[4], [])
    assert not merkle.verify_consistency(4, 4, roots[4], roots[5], [])


def test_a_changed_history_is_not_consistent() -> None:
    forged = list(LEAVES)
    forged[3] = SM3_HASHER.leaf(b"forged")
    for first in range(4, 20):
        proof = merkle.consistency_proof(forged, first, 20)
        assert not merkle.verify_consistency(
            first, 20, merkle.root(LEAVES[:first]), merkle.root(forged[:20]), proof
        )


def test_compact_range_frontier_round_trip() -> None:
    for n in range(N + 1):
        compact = CompactRange()
        compact.extend(LEAVES[:n])
        again = CompactRange.from_frontier(n, compact.frontier())
        again.extend(LEAVES[n:])
        assert again.root() == merkle.root(LEAVES)
        assert len(compact.frontier()) == 32 * bin(n).count("1")
    with pytest.raises(ValueError):
        CompactRange.from_frontier(3, b"x" * 32)


def test_proof_from_stream_matches_in_memory_proofs() -> None:
    stream = list(enumerate(LEAVES))
    for n in (1, 2, 7, 16, 33, 40):
        for m in range(n):
            ranges = merkle.inclusion_ranges(m, n)
            assert merkle.proof_from_stream(ranges, iter(stream)) == merkle.inclusion_proof(
                LEAVES, m, n
            )
        for first in range(1, n + 1):
            ranges = merkle.consistency_ranges(first, n)
            assert merkle.proof_from_stream(ranges, iter(stream)) == merkle.consistency_proof(
                LEAVES, first, n
            )
    holed = [(i, h) for i, h in stream if i != 5]
    with pytest.raises(ValueError, match="missing"):
        merkle.proof_from_stream(merkle.inclusion_ranges(0, 8), iter(holed))


# RFC 6962 / certificate-transparency reference vectors (SHA-256): the same code, the RFC's hash
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_rfc6962_reference_vectors_with_sha256() -> None:
    h = SHA256_HASHER
    leaves = [h.leaf(e) for e in CT_ENTRIES]
    for n in range(9):
        assert merkle.root(leaves[:n], h).hex() == CT_ROOTS[n]
    assert [p.hex() for p in merkle.inclusion_proof(leaves, 0, 8, h)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in merkle.inclusion_proof(leaves, 5, 8, h)] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    proof = merkle.consistency_proof(leaves, 2, 5, h)
    assert [p.hex() for p in proof] == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]
    root2, root5 = bytes.fromhex(CT_ROOTS[2]), bytes.fromhex(CT_ROOTS[5])
    assert merkle.verify_consistency(2, 5, root2, root5, proof, h)
    assert merkle.consistency_proof(leaves, 1, 1, h) == []
    assert merkle.verify_inclusion(
        leaves[5], 5, 8, merkle.inclusion_proof(leaves, 5, 8, h), bytes.fromhex(CT_ROOTS[8]), h
    )


def test_tree_head_signed_data_is_rfc6962_layout() -> None:
    head = merkle.TreeHead(tree_size=7, root_hash=b"r" * 32, timestamp_ms=0x0102030405060708)
    data = head.signed_data()
    assert data[:2] == b"\x00\x01"
    assert data[2:10] == bytes.fromhex("0102030405060708")
    assert data[10:18] == (7).to_bytes(8, "big") and data[18:] == b"r" * 32
