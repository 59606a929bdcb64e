"""Every endpoint declares who may call it (public / authenticated / roles)."""

from typing import Any

from fastapi import FastAPI

from cityos.auth.access import declared_access
from cityos.routes import iter_endpoints

FRAMEWORK = {"/api/v1/openapi.json"}


def _declared(dependant: Any) -> set[str]:
    labels: set[str] = set()
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        label = declared_access(dep.call)
        if label:
            labels.add(label)
        stack.extend(dep.dependencies)
    return labels


def test_the_walk_sees_our_endpoints(app: FastAPI) -> None:
    paths = {e.path for e in iter_endpoints(app)}
    assert {"/api/v1/me", "/login", "/console/organisations"} <= paths


def test_every_route_declares_access(app: FastAPI) -> None:
    undeclared = [
        f"{sorted(e.methods)} {e.path}"
        for e in iter_endpoints(app)
        if e.path not in FRAMEWORK and not _declared(e.dependant)
    ]
    assert not undeclared, "routes without an access declaration:\n" + "\n".join(undeclared)
