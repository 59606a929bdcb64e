"""The bureau's masking method per grade (/console/classification/policies) reaches the exchange."""

from __future__ import annotations

from cityos.protection.policies import set_grade_methods
from tests.unit.exchange.conftest import World


def test_bureau_method_per_grade_applies_to_codes(world: World) -> None:
    resource = world.people()
    before = world.call(world.code(world.grant(resource))[1], limit=1).json()
    assert before["records"][0]["name"] and "*" in before["records"][0]["name"]
    with world.db.session() as session:
        set_grade_methods(session, {"一般-3": "suppress"}, world.principal("admin"))
    # a new grant builds its plan now; existing plans follow within the plan's lifetime
    after = world.call(world.code(world.grant(resource))[1], limit=1).json()
    assert after["records"][0]["name"] is None
    methods = {f["id"]: f.get("masking") for f in after["fields"]}
    assert methods["name"] == "suppress" and methods["id_card"] == "mask"


def test_grant_override_beats_the_bureau(world: World) -> None:
    resource = world.people()
    with world.db.session() as session:
        set_grade_methods(session, {"一般-3": "suppress"}, world.principal("admin"))
    grant = world.grant(resource, masking={"by_type": {"name": "keep"}})
    body = world.call(world.code(grant)[1], limit=1).json()
    assert body["records"][0]["name"] and "*" not in body["records"][0]["name"]
