"""The audit API: admin and reviewer only; search, signed head and proofs that verify."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.audit import merkle
from cityos.audit.log import sign_tree_head
from cityos.crypto import sm2_verify
from tests.conftest import Actors


def _setup(app: FastAPI, actors: Actors) -> dict[str, dict[str, str]]:
    org = actors.org()
    actors.user("root", "admin")
    actors.user("auditor", "reviewer")
    actors.user("officer", "data_officer", org)
    actors.user("someone", "public")
    return {name: actors.headers(name) for name in ("root", "auditor", "officer", "someone")}


def test_only_admin_and_reviewer(client: TestClient, app: FastAPI, actors: Actors) -> None:
    headers = _setup(app, actors)
    for path in (
        "/api/v1/audit/records",
        "/api/v1/audit/tree-head",
        "/api/v1/audit/proof/inclusion?leaf_index=0&tree_size=1",
        "/api/v1/audit/proof/consistency?first=1&second=1",
    ):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=headers["someone"]).status_code == 403
        assert client.get(path, headers=headers["officer"]).status_code == 403
    assert client.get("/api/v1/audit/records", headers=headers["root"]).status_code == 200
    assert client.get("/api/v1/audit/records", headers=headers["auditor"]).status_code == 200


def test_search_head_and_proofs(client: TestClient, app: FastAPI, actors: Actors) -> None:
    headers = _setup(app, actors)["auditor"]
    missing = client.get("/api/v1/audit/tree-head", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "no_tree_head"
    page = client.get("/api/v1/audit/records", params={"action": "user.*"}, headers=headers)
    body = page.json()
    assert page.status_code == 200 and body["total"] >= 4
    first = body["items"][-1]
    assert first["action"] == "user.create" and len(first["leaf_hash"]) == 64
    assert (
        client.get("/api/v1/audit/records", params={"actor": "nobody"}, headers=headers).json()[
            "total"
        ]
        == 0
    )
    assert (
        client.get(
            "/api/v1/audit/records", params={"since": "2000-01-01T00:00:00"}, headers=headers
        ).json()["total"]
        >= 4
    )

    head1 = sign_tree_head(app.state.db)
    assert head1 is not None
    actors.user("later", "public")
    head2 = sign_tree_head(app.state.db)
    assert head2 is not None and head2.tree_size > head1.tree_size

    got = client.get("/api/v1/audit/tree-head", headers=headers).json()
    assert got["tree_size"] == head2.tree_size and got["root_hash"] == head2.root_hash.hex()
    signed = merkle.TreeHead(got["tree_size"], bytes.fromhex(got["root_hash"]), got["timestamp_ms"])
    assert got["signed_data"] == signed.signed_data().hex()
    assert sm2_verify(
        got["public_key"].encode(), signed.signed_data(), bytes.fromhex(got["signature"])
    )

    root2 = bytes.fromhex(got["root_hash"])
    for index in range(head2.tree_size):
        proof = client.get(
            "/api/v1/audit/proof/inclusion",
            params={"leaf_index": index, "tree_size": head2.tree_size},
            headers=headers,
        ).json()
        path = [bytes.fromhex(p) for p in proof["audit_path"]]
        leaf = bytes.fromhex(proof["leaf_hash"])
        assert merkle.verify_inclusion(leaf, index, head2.tree_size, path, root2)
    consistency = client.get(
        "/api/v1/audit/proof/consistency",
        params={"first": head1.tree_size, "second": head2.tree_size},
        headers=headers,
    ).json()
    assert merkle.verify_consistency(
        head1.tree_size,
        head2.tree_size,
        head1.root_hash,
        root2,
        [bytes.fromhex(p) for p in consistency["consistency"]],
    )


def test_proof_parameters_are_checked(client: TestClient, app: FastAPI, actors: Actors) -> None:
    headers = _setup(app, actors)["root"]
    size = client.get("/api/v1/audit/records", headers=headers).json()["total"]
    cases = [
        ("/api/v1/audit/proof/inclusion", {"leaf_index": 0, "tree_size": size + 1}),
        ("/api/v1/audit/proof/inclusion", {"leaf_index": size, "tree_size": size}),
        ("/api/v1/audit/proof/inclusion", {"leaf_index": -1, "tree_size": size}),
        ("/api/v1/audit/proof/consistency", {"first": 2, "second": 1}),
        ("/api/v1/audit/proof/consistency", {"first": 1, "second": size + 1}),
    ]
    for path, params in cases:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, params, response.text)
