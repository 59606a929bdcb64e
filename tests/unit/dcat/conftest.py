from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.unit.ckan.world import World, build_world


@pytest.fixture
def world(app: FastAPI, actors: object) -> World:
    return build_world(app, actors)
