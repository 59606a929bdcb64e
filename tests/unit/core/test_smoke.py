from fastapi.testclient import TestClient


def test_home_renders_in_chinese_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.text


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_api_docs_use_local_assets(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "CityOS API" and "/api/v1/me" in spec["paths"]
