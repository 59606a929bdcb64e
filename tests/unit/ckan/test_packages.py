"""CKAN package actions: envelope, visibility, search syntax, errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Actors
from tests.unit.ckan.world import World

API = "/api/3/action"


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=" + response.url.path.split("/")[-1])
    return body["result"]


def error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and "help" in body and "result" not in body
    assert body["error"]["__type"] == kind
    return dict(body["error"])


def test_package_list_shows_anonymous_callers_only_the_open_published_resources(
    client: TestClient, world: World
) -> None:
    names = ok(client.get(f"{API}/package_list"))
    assert sorted(names) == sorted([world.name("air"), world.name("sources")])
    # asking for private ones changes nothing for an anonymous caller
    assert sorted(ok(client.get(f"{API}/package_list?include_private=true"))) == sorted(names)
    assert ok(client.get(f"{API}/package_list?limit=1&offset=1")) == sorted(names)[1:]


def test_a_departments_token_sees_more_when_it_asks_for_private_packages(
    client: TestClient, world: World, actors: Actors
) -> None:
    token = actors.token("waterman")
    raw = {"Authorization": token}  # CKAN clients send the token without "Bearer"
    public_names = ok(client.get(f"{API}/package_list", headers=raw))
    assert world.name("water") not in public_names  # CKAN: private ones only when asked
    names = ok(client.get(f"{API}/package_list?include_private=True", headers=raw))
    expected = {world.name(k) for k in ("air", "sources", "water", "ledger")}
    assert set(names) == expected
    # the same through X-CKAN-API-Key and Bearer
    for headers in ({"X-CKAN-API-Key": token}, {"Authorization": f"Bearer {token}"}):
        got = ok(client.get(f"{API}/package_list?include_private=true", headers=headers))
        assert set(got) == expected
    # drafts: only the provider's members (and the bureau) see them
    assert world.name("draft") not in ok(
        client.get(f"{API}/package_list?include_private=1&include_drafts=1", headers=raw)
    )
    env = actors.headers("envoff")
    assert world.name("draft") in ok(
        client.get(f"{API}/package_list?include_private=1&include_drafts=1", headers=env)
    )


def test_package_show_by_id_name_or_code_and_the_package_shape(
    client: TestClient, world: World
) -> None:
    rid = world.ids["air"]
    by_id = ok(client.get(f"{API}/package_show", params={"id": rid}))
    by_name = ok(client.post(f"{API}/package_show", json={"id": world.name("air")}))
    by_code = ok(client.post(f"{API}/package_show", data={"id": world.codes["air"]}))
    assert by_id == by_name == by_code
    pkg = by_id
    assert pkg["id"] == rid and pkg["name"] == world.name("air")
    assert pkg["title"] == "空气质量监测数据" and pkg["notes"].startswith("全市空气质量")
    assert pkg["state"] == "active" and pkg["private"] is False and pkg["type"] == "dataset"
    assert pkg["organization"]["name"] == world.slugs["env"]
    assert pkg["organization"]["title"] == "市生态环境局"
    assert pkg["owner_org"] == world.env
    assert {t["name"] for t in pkg["tags"]} == {"空气", "环境监测"}
    assert [g["name"] for g in pkg["groups"]] == ["class-2"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["code"] == world.codes["air"]
    assert extras["open_type"] == "unconditional" and extras["update_cycle"] == "daily"
    assert extras["districts"] == "460105,460106"
    # CKAN timestamps: UTC, no offset
    assert "+" not in pkg["metadata_modified"] and "T" in pkg["metadata_modified"]
    assert pkg["num_resources"] == 1
    res = pkg["resources"][0]
    assert res["id"] == rid and res["package_id"] == rid and res["format"] == "CSV"
    assert res["url"].endswith(f"/api/v1/datastore/{rid}/export.csv")
    assert res["datastore_active"] is True
    assert pkg["url"].endswith(f"/catalog/{world.codes['air']}")


def test_package_show_hides_what_the_caller_may_not_see(
    client: TestClient, world: World, actors: Actors
) -> None:
    err = error(client.get(f"{API}/package_show?id={world.ids['water']}"), 404, "Not Found Error")
    assert err["message"].startswith("Not found")
    # a department sees it, flagged private as in CKAN
    pkg = ok(
        client.get(
            f"{API}/package_show?id={world.ids['water']}", headers=actors.headers("waterman")
        )
    )
    assert pkg["private"] is True
    # the draft: its provider yes, another department no
    draft = f"{API}/package_show?id={world.ids['draft']}"
    error(client.get(draft, headers=actors.headers("waterman")), 404, "Not Found Error")
    assert ok(client.get(draft, headers=actors.headers("envoff")))["state"] == "draft"


def test_missing_and_invalid_parameters_are_validation_errors(
    client: TestClient, world: World
) -> None:
    err = error(client.get(f"{API}/package_show"), 409, "Validation Error")
    assert err["id"] == ["Missing value"] or err["id"]
    err = error(client.get(f"{API}/package_search?rows=many"), 409, "Validation Error")
    assert "rows" in err


def test_package_search_text_facets_and_paging(client: TestClient, world: World) -> None:
    facets = json.dumps(["organization", "tags", "groups", "res_format", "open_type"])
    result = ok(
        client.get(f"{API}/package_search", params={"q": "空气", "facet.field": facets, "rows": 10})
    )
    assert result["count"] == 1
    assert [p["name"] for p in result["results"]] == [world.name("air")]
    sf = result["search_facets"]
    assert sf["organization"]["items"] == [
        {"name": world.slugs["env"], "display_name": "市生态环境局", "count": 1}
    ]
    assert {i["name"] for i in sf["tags"]["items"]} == {"空气", "环境监测"}
    assert sf["groups"]["items"][0]["name"] == "class-2"
    assert sf["res_format"]["items"] == [{"name": "CSV", "display_name": "CSV", "count": 1}]
    assert sf["open_type"]["items"][0]["name"] == "unconditional"
    assert result["facets"]["organization"] == {world.slugs["env"]: 1}
    assert result["sort"] == "score desc, metadata_modified desc"

    everything = ok(client.get(f"{API}/package_search?q=*:*&sort=name asc"))
    assert everything["count"] == 2
    assert [p["name"] for p in everything["results"]] == sorted(
        [world.name("air"), world.name("sources")]
    )
    page = ok(client.get(f"{API}/package_search?sort=name asc&rows=1&start=1"))
    assert page["count"] == 2 and [p["name"] for p in page["results"]] == [
        everything["results"][1]["name"]
    ]
    # rows above CKAN's maximum are capped, not refused
    assert ok(client.get(f"{API}/package_search?rows=5000"))["count"] == 2
    limited = ok(
        client.post(f"{API}/package_search", json={"facet.field": ["tags"], "facet.limit": 1})
    )
    assert len(limited["search_facets"]["tags"]["items"]) == 1


def test_package_search_fq_clauses(client: TestClient, world: World, actors: Actors) -> None:
    def names(**params: Any) -> set[str]:
        headers = params.pop("headers", {})
        return {
            p["name"]
            for p in ok(client.get(f"{API}/package_search", params=params, headers=headers))[
                "results"
            ]
        }

    env, water = world.slugs["env"], world.slugs["water"]
    assert names(fq=f"organization:{env}") == {world.name("air"), world.name("sources")}
    assert names(fq=f"organization:{water}") == set()
    assert names(fq="tags:污染源") == {world.name("sources")}
    assert names(fq='tags:"环境监测"') == {world.name("air")}
    assert names(fq="groups:class-2 +res_format:CSV") == {world.name("air"), world.name("sources")}
    assert names(fq=f"+organization:{env} +tags:空气") == {world.name("air")}
    assert names(fq=f"+organization:{env} AND organization:{water}") == set()
    assert names(fq="tags:空气 tags:空气") == {world.name("air")}
    assert names(fq="tags:(空气 OR 污染源)") == {world.name("air"), world.name("sources")}
    assert names(fq="+dataset_type:dataset", q="tags:空气") == {world.name("air")}
    assert names(fq="groups:class-1") == set()
    # values that name nothing of ours match nothing, as in CKAN (no error)
    assert names(fq="groups:transport") == set()
    assert names(fq="res_format:JSON") == set()
    assert names(fq="res_format:(JSON OR csv)") == {world.name("air"), world.name("sources")}
    assert names(fq="res_format:database") == {world.name("air"), world.name("sources")}
    # a department with include_private
    private = names(
        fq=f"organization:{water}",
        include_private="true",
        headers={"Authorization": actors.token("waterman")},
    )
    assert private == {world.name("water")}
    err = error(client.get(f"{API}/package_search?fq=colour:blue"), 400, "Search Query Error")
    assert "colour" in err["message"]
    error(client.get(f"{API}/package_search?sort=colour desc"), 400, "Search Query Error")
    error(client.get(f"{API}/package_search?fq=-tags:空气"), 400, "Search Query Error")
    # AND of two tags is not something the catalogue search can answer: said, not guessed
    both = client.get(f"{API}/package_search", params={"fq": "+tags:空气 AND tags:环境监测"})
    assert "OR" in error(both, 400, "Search Query Error")["message"]


def test_current_package_list_with_resources(client: TestClient, world: World) -> None:
    packages = ok(client.get(f"{API}/current_package_list_with_resources?limit=5"))
    assert {p["name"] for p in packages} == {world.name("air"), world.name("sources")}
    assert all(len(p["resources"]) == 1 for p in packages)
    newest_first = [p["metadata_modified"] for p in packages]
    assert newest_first == sorted(newest_first, reverse=True)
    assert len(ok(client.get(f"{API}/current_package_list_with_resources?limit=1&page=2"))) == 1


def test_resource_show_and_views(client: TestClient, world: World) -> None:
    rid = world.ids["air"]
    res = ok(client.get(f"{API}/resource_show?id={rid}"))
    assert res["id"] == rid and res["datastore_active"] is True
    views = ok(client.get(f"{API}/resource_view_list?id={rid}"))
    assert views and views[0]["resource_id"] == rid and views[0]["view_type"]
    error(client.get(f"{API}/resource_show?id={world.ids['water']}"), 404, "Not Found Error")
    error(client.get(f"{API}/resource_view_list?id=nope"), 404, "Not Found Error")
