from fastapi.testclient import TestClient

from cityos.core import i18n
from cityos.core.i18n_check import extracted, missing


def test_every_message_has_a_zh_hans_translation() -> None:
    gaps = missing("zh_Hans")
    report = "\n".join(f"{places[0]}: {msgid!r}" for msgid, places in sorted(gaps.items()))
    assert not gaps, f"{len(gaps)} messages lack a zh-Hans translation:\n{report}"


def test_extraction_sees_templates_python_and_problem_messages() -> None:
    found = extracted()
    assert "Skip to main content" in found  # template
    assert "Wrong username or password." in found  # python gettext
    assert "The username {username} is already taken." in found  # conflict()


def test_accept_language_negotiation() -> None:
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("fr, zh-CN;q=0.5") == "zh_Hans"
    assert i18n.negotiate("en;q=0.1, zh;q=0.9") == "zh_Hans"
    assert i18n.negotiate("de") is None


def test_pages_default_to_chinese_and_switch_to_english(client: TestClient) -> None:
    zh = client.get("/login")
    assert 'lang="zh-Hans"' in zh.text and "登录" in zh.text
    en = client.get("/login?lang=en")
    assert 'lang="en"' in en.text and "Sign in" in en.text
    # the choice is remembered in a cookie
    assert 'lang="en"' in client.get("/login").text
    assert 'lang="zh-Hans"' in client.get("/login?lang=zh-Hans").text


def test_api_errors_follow_the_locale(client: TestClient) -> None:
    zh = client.get("/api/v1/organisations/nope")
    assert zh.status_code == 404
    assert zh.headers["content-type"].startswith("application/problem+json")
    assert zh.json()["code"] == "not_found" and "未找到" in zh.json()["detail"]
    en = client.get("/api/v1/organisations/nope", headers={"Accept-Language": "en"})
    assert en.json()["detail"].startswith("Not found")


def test_no_translation_is_left_without_a_message() -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    used = set(extracted())
    stale = []
    for path in sorted((Path(i18n.LOCALE_DIR) / "zh_Hans" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale="zh"):
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                if msgid and msgid not in used:
                    stale.append(f"{path.name}: {msgid!r}")
    assert not stale, "remove translations nothing uses:\n" + "\n".join(stale)
