"""policy_for_grant / item_types: what the exchange masks a grant's records with."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from cityos.audit.models import AuditRecord
from cityos.core.errors import ProblemError
from cityos.protection.masking import DEFAULT_BY_GRADE, compile_plan, split_kind
from cityos.protection.policies import (
    grade_methods,
    item_types,
    methods_for,
    policy_for_grant,
    set_grade_methods,
    validate_grant_masking,
)

KEY = b"k" * 32


def _item(field: str, name: str = "", **extra: Any) -> dict[str, Any]:
    return {"field": field, "name": name or field, **extra}


def test_item_types_from_pi_type_name_hint_grade_and_sensitivity() -> None:
    items = [
        _item("id_number", "身份证号", pi_type="id_card", grade="重要", grade_status="confirmed"),
        _item("full_name", "姓名", pi_type="name", grade="一般-3"),
        _item("person", "负责人"),  # no pi_type, not confirmed: the name hints "name"
        _item("phone", "办公电话", grade_status="confirmed"),  # reviewer said: no type
        _item("notes", "备注", grade="核心", grade_status="confirmed"),
        _item("secret", "内部编号", sensitivity="sensitive_personal"),
        _item("birth", "出生日期", data_type="date", grade="一般-3"),
        _item("seq", "序号", data_type="integer"),
        _item("vip", "姓名2", pi_type="name", grade="重要", grade_status="confirmed"),
        _item("pending", "字段", grade="一般-1", proposed_grade="重要", grade_status="proposed"),
    ]
    types = item_types(items)
    assert types == {
        "id_number": "id_card",
        "full_name": "name",
        "person": "name",
        "phone": None,
        "notes": "@核心",
        "secret": "@重要",
        "birth": "date@一般-3",
        "seq": None,
        "vip": "name@重要",
        "pending": "@重要",
    }


def test_item_types_accepts_orm_like_objects() -> None:
    class Item:
        field = "mobile"
        name = "手机号码"
        pi_type = "mobile"
        grade = "一般-4"
        proposed_grade = None
        grade_status = "confirmed"
        sensitivity = "personal"
        data_type = "string"

    assert item_types([Item()]) == {"mobile": "mobile"}


def test_split_kind() -> None:
    assert split_kind("name@重要") == ("name", "重要")
    assert split_kind("@核心") == ("", "核心")
    assert split_kind("id_card") == ("id_card", None)
    assert split_kind("name@bogus") == ("name", None)


def test_policy_for_grant_defaults_and_grade_of_the_item(app: FastAPI) -> None:
    with app.state.db.session() as session:
        policy = policy_for_grant(session, {}, KEY)
    types = {
        "id_number": "id_card",
        "name": "name",
        "vip": "name@核心",
        "notes": "@核心",
        "birth": "date@一般-3",
        "seq": None,
    }
    assert methods_for(policy, types) == {
        "id_number": DEFAULT_BY_GRADE["重要"],
        "name": DEFAULT_BY_GRADE["一般-3"],
        "vip": "suppress",
        "notes": "suppress",
        "birth": "mask",
        "seq": "keep",
    }
    plan = compile_plan(policy, types)
    out = plan(
        {
            "id_number": "460100199001011234",
            "name": "张三丰",
            "vip": "李四",
            "notes": "机密",
            "birth": "1990-05-17",
            "seq": 7,
        }
    )
    assert out == {
        "id_number": "4601**********1234",
        "name": "张**",
        "vip": None,
        "notes": None,
        "birth": "1990",  # masking a date generalises it
        "seq": 7,
    }


def test_bureau_table_and_grant_overrides(app: FastAPI) -> None:
    with app.state.db.session() as session:
        methods = set_grade_methods(session, {"重要": "pseudonymize", "一般-3": "keep"}, None)
        assert methods["重要"] == "pseudonymize" and methods["一般-3"] == "keep"
    with app.state.db.session() as session:
        assert grade_methods(session)["重要"] == "pseudonymize"
        entries = session.query(AuditRecord).filter_by(action="protection.policy.update").all()
        assert len(entries) == 1
        assert entries[0].detail["重要"] == {"old": "mask", "new": "pseudonymize"}
        policy = policy_for_grant(session, {}, KEY)
        other = policy_for_grant(session, {}, b"o" * 32)
        override = policy_for_grant(session, {"by_type": {"id_card": "keep"}}, KEY)
    types = {"id_number": "id_card", "name": "name"}
    a = compile_plan(policy, types)({"id_number": "460100199001011234", "name": "张三"})
    b = compile_plan(other, types)({"id_number": "460100199001011234", "name": "张三"})
    assert len(a["id_number"]) == 64 and a["id_number"] != b["id_number"]  # per-grant keys
    assert a["name"] == "张三"
    kept = compile_plan(override, types)({"id_number": "460100199001011234"})
    assert kept["id_number"] == "460100199001011234"


def test_invalid_policies_are_refused(app: FastAPI) -> None:
    with pytest.raises(ProblemError) as exc:
        validate_grant_masking({"by_grade": {"重要": "shred"}})
    assert exc.value.status == 422
    with pytest.raises(ProblemError):
        validate_grant_masking({"colour": "red"})
    with pytest.raises(ProblemError):
        validate_grant_masking({"by_grade": {"绝密": "keep"}})
    with app.state.db.session() as session, pytest.raises(ProblemError) as exc:
        set_grade_methods(session, {"核心": "shred"}, None)
    assert exc.value.code == "unknown_method"
