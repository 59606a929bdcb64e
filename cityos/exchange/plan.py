"""What a grant's code may read of its resource, worked out once and cached per process.

A plan holds the granted columns (``_id`` plus the grant's items that exist), the row scope as
filters, the masking method of each granted item and the function masking a record.

Masking (docs/exchange.md):
- item type = the catalogue item's ``pi_type``; when unset and the grade is not confirmed by a
  reviewer (or the item is marked personal), the type its name or field suggests
  (``cityos.protection.scan.header_hint``: 身份证号 → id_card);
- item grade = the higher of the item's grade and the grade of its type
  (``cityos.protection.grades.TYPE_GRADES``), raised to 重要 for items marked sensitive personal;
- method = the grant's ``masking.by_type[type]``, else ``masking.by_grade[grade]``, else the
  bureau's method for the grade (``cityos.protection.policies.grade_methods``: its table over
  ``DEFAULT_BY_GRADE``: 核心 suppress, 重要/一般-4/一般-3 mask, others keep);
- pseudonyms use the grant's own key (stable within a grant, unrelated across grants).

The plan is rebuilt at once when the grant changes (its version, read on every call), and
otherwise at the latest ``PLAN_TTL`` seconds after it was built: new items, item grades set by a
classification review and newly loaded columns apply within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from cityos.catalog import services as catalog
from cityos.core.errors import ProblemError
from cityos.crypto.envelope import data_key
from cityos.datastore.crypt import ColumnCipher, encrypted_fields, reader_cipher
from cityos.datastore.query import View, make_view
from cityos.datastore.tables import ID_COLUMN, load_spec, physical_table
from cityos.protection import masking
from cityos.protection.grades import TYPE_GRADES, grade_rank
from cityos.protection.masking import DEFAULT_BY_GRADE, METHODS, MaskingPolicy
from cityos.protection.policies import grade_methods
from cityos.protection.scan import header_hint
from cityos.sharing.grants import get_grant, pseudonym_key

PLAN_TTL = 5.0


@dataclass(frozen=True)
class Plan:
    key: tuple[Any, ...]
    built: float
    resource_id: str
    code: str
    view: View  # granted columns only (and _id)
    full: View  # every column (row scope)
    granted: tuple[str, ...]  # in catalogue order
    methods: dict[str, str]  # field → masking method
    kinds: dict[str, str | None]  # field → item type
    scope: dict[str, list[Any]]
    scope_missing: tuple[str, ...]  # scope fields the resource lacks: calls are refused
    mask: Callable[[dict[str, Any]], dict[str, Any]]  # in place, on a fresh record
    search_view: View  # text fields that are granted and kept as they are
    row_count: int
    # fields stored encrypted at rest (cityos.datastore.crypt) → data type; read from their
    # ciphertext column, filtered by their blind index
    encrypted: dict[str, str] = field(default_factory=dict)
    cipher: ColumnCipher | None = None
    table: Table | None = None  # the physical table, ciphertext and blind-index columns included
    # prepared statements per query shape (cityos/exchange/statements.py)
    statements: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    noted: set[tuple[str, ...]] = field(default_factory=set)  # query shapes told to the indexer

    @property
    def masked(self) -> frozenset[str]:
        return frozenset(f for f, m in self.methods.items() if m != "keep")


def item_kind(item: Any) -> str | None:
    if item.pi_type:
        return str(item.pi_type)
    if item.grade_status == "confirmed" and item.sensitivity not in (
        "personal",
        "sensitive_personal",
    ):
        return None
    return header_hint(item.name or "") or header_hint(item.field)


def item_grade(item: Any, kind: str | None) -> str:
    grade = str(item.grade or "一般-1")
    entry = TYPE_GRADES.get(kind or "")
    if entry is not None and grade_rank(entry.grade) > grade_rank(grade):
        grade = entry.grade
    if item.sensitivity == "sensitive_personal" and grade_rank("重要") > grade_rank(grade):
        grade = "重要"
    return grade


def method_for(
    kind: str | None,
    grade: str,
    overrides: Mapping[str, Any],
    bureau: Mapping[str, str] = DEFAULT_BY_GRADE,
) -> str:
    """The grant's override by type, then by grade, then the bureau's method for the grade."""
    by_type = overrides.get("by_type") or {}
    by_grade = overrides.get("by_grade") or {}
    method = by_type.get(kind) if kind else None
    method = method or by_grade.get(grade) or bureau.get(grade, "keep")
    return method if method in METHODS else "suppress"  # an unknown override hides the value


def _masker(
    methods: dict[str, str], kinds: dict[str, str | None], key: bytes | None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function masking a freshly read record IN PLACE (each masked field once).

    The per-field functions are those ``cityos.protection.masking.compile_plan`` runs, taken
    directly to avoid copying every record once per method."""
    steps: list[tuple[str, Callable[[Any], Any]]] = []
    for method in sorted(set(methods.values()) - {"keep"}):
        policy = MaskingPolicy(by_grade={}, default=method, key=key)
        types = {f: kinds[f] for f, m in methods.items() if m == method}
        steps.extend(masking.field_functions(policy, tuple(sorted(types.items()))))

    def run(record: dict[str, Any]) -> dict[str, Any]:
        for name, fn in steps:
            if name in record:
                record[name] = fn(record[name])
        return record

    return run


def _restricted(view: View, names: list[str]) -> View:
    keep = [ID_COLUMN, *names]
    return replace(
        view,
        columns={n: view.columns[n] for n in keep if n in view.columns},
        types={n: view.types[n] for n in keep if n in view.types},
        names={n: view.names[n] for n in keep if n in view.names},
    )


def _encryption(
    db: Any, session: Session, full: View
) -> tuple[dict[str, str], ColumnCipher | None, Table | None]:
    record = full.record
    names = [f for f in encrypted_fields(record) if f in full.types]
    if record is None or not names:
        return {}, None, full.from_
    cipher = reader_cipher(session, record)
    if cipher is None:
        return {}, None, full.from_

    def lookup(key_id: str) -> bytes:
        with db.session() as fresh:
            return data_key(fresh, key_id)

    table = physical_table(full.spec.table_name, dict(record.columns), names)
    return {f: full.types[f] for f in names}, cipher.with_lookup(lookup), table


def _on_table(view: View, table: Table | None) -> View:
    """The view with its stored columns taken from ``table`` (one FROM in every statement)."""
    if table is None or table is view.from_:
        return view
    columns = {n: table.c.get(n, col) for n, col in view.columns.items()}
    return replace(view, columns=columns, from_=table)


def build(db: Any, session: Session, grant_id: str, key: tuple[Any, ...]) -> Plan:
    grant = get_grant(session, grant_id)
    resource, spec = load_spec(session, grant.resource_id)
    full = make_view(session, spec)
    items = {i.field: i for i in catalog.get_items(session, resource.id)}
    granted = [f.field for f in spec.fields if f.field in set(grant.items or [])]
    kinds = {f: item_kind(items[f]) for f in granted}
    bureau = grade_methods(session)  # /console/classification/policies
    methods = {
        f: method_for(kinds[f], item_grade(items[f], kinds[f]), grant.masking or {}, bureau)
        for f in granted
    }
    pkey = pseudonym_key(session, grant) if "pseudonymize" in methods.values() else None
    scope = {
        str(f): list(v) if isinstance(v, list | tuple) else [v]
        for f, v in (grant.row_scope or {}).items()
    }
    encrypted, cipher, table = _encryption(db, session, full)
    full = _on_table(full, table)
    view = _restricted(full, granted)
    kept_text = [f for f in granted if methods[f] == "keep" and f not in encrypted]
    return Plan(
        key=key,
        built=time.monotonic(),
        resource_id=resource.id,
        code=resource.code,
        view=view,
        full=full,
        granted=tuple(granted),
        methods=methods,
        kinds=kinds,
        scope=scope,
        scope_missing=tuple(f for f in scope if f not in full.columns or f == ID_COLUMN),
        mask=_masker(methods, kinds, pkey),
        search_view=_restricted(full, kept_text),
        row_count=int(full.record.row_count or 0) if full.record is not None else 0,
        encrypted=encrypted,
        cipher=cipher,
        table=table,
    )


def plan_for(db: Any, cache: dict[str, Plan], grant_id: str, grant_version: int) -> Plan:
    """The cached plan of a grant, rebuilt when stale (see the module docstring)."""
    found = cache.get(grant_id)
    now = time.monotonic()
    if found is not None and found.key == (grant_version,) and now - found.built < PLAN_TTL:
        return found
    with db.session() as session:
        plan = build(db, session, grant_id, (grant_version,))
    cache[grant_id] = plan
    return plan


def scope_unenforceable(plan: Plan) -> ProblemError:
    return ProblemError(
        403,
        "scope_unenforceable",
        "The grant limits rows by {fields}, which this resource does not have; ask the "
        "provider to correct the grant.",
        fields=", ".join(plan.scope_missing),
    )
