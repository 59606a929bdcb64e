"""Imports every domain's models so that Alembic and tests see the whole schema."""

from cityos.audit import models as audit_models
from cityos.auth import models as auth_models
from cityos.catalog import models as catalog_models
from cityos.core.db import Base
from cityos.crypto import models as crypto_models
from cityos.datastore import models as datastore_models
from cityos.demand import models as demand_models
from cityos.directory import models as directory_models
from cityos.exchange import models as exchange_models
from cityos.incidents import models as incidents_models
from cityos.interfaces import models as interfaces_models
from cityos.notify import models as notify_models
from cityos.opendata import models as opendata_models
from cityos.protection import models as protection_models
from cityos.sharing import models as sharing_models
from cityos.showcase import models as showcase_models

DOMAIN_MODELS = [
    audit_models,
    auth_models,
    directory_models,
    catalog_models,
    datastore_models,
    crypto_models,
    sharing_models,
    exchange_models,
    incidents_models,
    interfaces_models,
    protection_models,
    notify_models,
    demand_models,
    opendata_models,
    showcase_models,
]

metadata = Base.metadata
