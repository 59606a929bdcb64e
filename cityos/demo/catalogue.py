"""The demo's information resources, in loading order."""

from __future__ import annotations

from cityos.demo.catalogue_basic import BASIC
from cityos.demo.catalogue_city import CITY
from cityos.demo.catalogue_services import SERVICES
from cityos.demo.spec import ResourceSpec

RESOURCES: tuple[ResourceSpec, ...] = (*BASIC, *CITY, *SERVICES)
RESOURCE_BY_KEY = {r.key: r for r in RESOURCES}
