"""The datastore tests' small world (departments, people, resources) for the grading tests."""

from tests.unit.datastore.conftest import world

__all__ = ["world"]
