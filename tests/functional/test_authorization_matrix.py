"""The authorization matrix: role × share type × grant state × own/other department.

For every combination, who may read a resource's records through the datastore API (their own
credentials) and through the exchange API (an authorization code of a grant), and that nothing
else gets through: no department reads another's non-shared data.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.catalog.models import Resource
from cityos.core.errors import ProblemError
from cityos.sharing.grants import change_status, create_grant, get_grant
from tests.conftest import Actors
from tests.unit.exchange.conftest import World

SHARE_TYPES = ("unconditional", "conditional", "none")
GRANT_STATES = ("no grant", "active", "suspended", "revoked", "expired", "not yet valid")
# who calls, and which department they belong to relative to the provider
CALLERS = {
    "provider officer": ("officer_police", "own"),
    "provider staff": ("staff_police", "own"),
    "consumer officer": ("officer_civil", "other"),
    "consumer staff": ("staff_civil", "other"),
    "public-service enterprise member": ("member_water_co", "other"),
    "social organisation member": ("member_ngo", "outsider"),
    "bureau admin": ("admin", "bureau"),
    "security reviewer": ("reviewer", "bureau"),
}


@pytest.fixture
def matrix(app: FastAPI, client: TestClient, actors: Actors) -> World:
    police = actors.org("海口市公安局")
    civil = actors.org("海口市民政局")
    health = actors.org("海口市卫生健康委员会")
    water_co = actors.org("海口市供水有限公司", kind="enterprise")  # public-service enterprise
    ngo = actors.org("海口市志愿者协会", kind="social")  # not a sharing participant
    actors.user("admin", "admin")
    actors.user("reviewer", "reviewer")
    actors.user("officer_police", "data_officer", police)
    actors.user("staff_police", "public", police)
    actors.user("officer_civil", "data_officer", civil)
    actors.user("staff_civil", "public", civil)
    actors.user("officer_health", "data_officer", health)
    actors.user("member_water_co", "public", water_co)
    actors.user("member_ngo", "public", ngo)
    return World(app, client, actors, police, civil, health)


def _grant(world: World, resource_id: str, state: str) -> str | None:
    if state == "no grant":
        return None
    today = date.today()
    start, end = today - timedelta(days=30), today + timedelta(days=30)
    if state == "expired":
        start, end = today - timedelta(days=60), today - timedelta(days=1)
    if state == "not yet valid":
        start, end = today + timedelta(days=1), today + timedelta(days=30)
    with world.db.session() as session:
        grant = create_grant(
            session,
            resource=session.get(Resource, resource_id),
            consumer_org_id=world.civil,
            items=["id_card", "name", "district"],
            valid_from=start,
            valid_until=end,
            actor=None,
            purpose="矩阵测试",
        )
        grant_id = grant.id
    # a code is issued while the grant is usable, then the grant changes state
    code = None
    if state in ("active", "suspended", "revoked"):
        _key, code = world.code(grant_id)
        if state != "active":
            with world.db.session() as session:
                action = "suspend" if state == "suspended" else "revoke"
                change_status(session, get_grant(session, grant_id), action, None, "矩阵测试")
    return code or grant_id


def _datastore_read(world: World, username: str | None, resource_id: str) -> int:
    headers = world.headers(username) if username else {}
    response = world.client.get(f"/api/v1/datastore/{resource_id}/records", headers=headers)
    return response.status_code


def _expected_datastore(share_type: str, relation: str) -> bool:
    if relation in ("own", "bureau"):
        return True
    if relation == "other":  # a government department or public-service enterprise
        return share_type == "unconditional"
    return False  # not a sharing participant (social organisation), or anonymous


def test_datastore_api_matrix(matrix: World) -> None:
    """Own credentials: own department and bureau always; other departments only 无条件共享;
    nobody else (the resources are not open)."""
    resources = {share: matrix.people(share_type=share) for share in SHARE_TYPES}
    failures: list[str] = []
    for (label, (username, relation)), share in product(CALLERS.items(), SHARE_TYPES):
        status = _datastore_read(matrix, username, resources[share])
        allowed = _expected_datastore(share, relation)
        if (status == 200) != allowed:
            failures.append(f"{label} / {share}: HTTP {status}, expected allowed={allowed}")
        if not allowed and status not in (403, 404):
            failures.append(f"{label} / {share}: refused with {status}, not 403/404")
    for share in SHARE_TYPES:
        status = _datastore_read(matrix, None, resources[share])
        if status == 200:
            failures.append(f"anonymous / {share}: read records")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("share", ("unconditional", "conditional"))
def test_exchange_matrix(matrix: World, share: str) -> None:
    """A code reads only while its grant is active and in its period."""
    failures: list[str] = []
    for state in GRANT_STATES:
        resource_id = matrix.people(share_type=share)
        handle = _grant(matrix, resource_id, state)
        if state in ("no grant", "expired", "not yet valid"):
            # no code can be issued for a grant that is not usable; no code, no data
            response = matrix.call(None)
            if response.status_code != 401:
                failures.append(f"{share}/{state}: no code gave {response.status_code}")
            if handle is not None:
                try:
                    matrix.code(handle)
                except ProblemError as exc:
                    assert exc.status in (403, 409, 422), exc.status
                else:
                    failures.append(f"{share}/{state}: a code was issued")
            continue
        response = matrix.call(handle, limit=5)
        expected = 200 if state == "active" else 403
        if response.status_code != expected:
            failures.append(f"{share}/{state}: HTTP {response.status_code}, expected {expected}")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            fields = {f["id"] for f in body["fields"]}
            if not fields <= {"_id", "id_card", "name", "district"}:
                failures.append(f"{share}/{state}: fields beyond the grant: {sorted(fields)}")
            first = body["records"][0]["id_card"]
            if "*" not in first:
                failures.append(f"{share}/{state}: ID number not masked: {first}")
    assert not failures, "\n".join(failures)


def test_not_shared_resource_cannot_be_granted(matrix: World) -> None:
    resource_id = matrix.people(share_type="none")
    with pytest.raises(ProblemError) as caught:
        _grant(matrix, resource_id, "active")
    assert caught.value.code == "not_shareable"


def test_code_of_one_grant_reads_only_its_resource(matrix: World) -> None:
    """A code names one grant: another department's conditional resource stays closed."""
    granted = matrix.people(share_type="conditional")
    other = matrix.people(share_type="conditional")
    code = _grant(matrix, granted, "active")
    assert code is not None
    ok = matrix.call(code, limit=1)
    assert ok.status_code == 200
    # the exchange API takes no resource parameter: the code decides; the datastore API
    # refuses the consumer's own token for the other conditional resource
    assert _datastore_read(matrix, "officer_civil", other) in (403, 404)
    # the code is not an API token: the datastore API refuses it
    response = matrix.client.get(
        f"/api/v1/datastore/{other}/records", headers={"Authorization": f"Bearer {code}"}
    )
    assert response.status_code == 401
