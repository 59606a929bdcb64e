"""Every endpoint declares who may call it (public / authenticated / roles)."""

from fastapi import FastAPI
from fastapi.routing import APIRoute

from cityos.auth.access import declared_access


def _declared(route: APIRoute) -> set[str]:
    labels: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        label = declared_access(dep.call)
        if label:
            labels.add(label)
        stack.extend(dep.dependencies)
    return labels


def test_every_route_declares_access(app: FastAPI) -> None:
    undeclared = [
        f"{sorted(r.methods)} {r.path}"
        for r in app.routes
        if isinstance(r, APIRoute)
        and not _declared(r)
        and r.path not in {"/api/v1/openapi.json", "/api/v1/docs"}
    ]
    assert not undeclared, "routes without an access declaration:\n" + "\n".join(undeclared)
