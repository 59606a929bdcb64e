#!/usr/bin/env bash
# Development helper: regenerate the newest, not yet released migration from the models.
# Released migrations are never edited: 0001 (foundation) and 0002 (sharing, exchange, security)
# are frozen; 0003 (open data, demand, showcase) is regenerated on top of them until released.
# Serialized with flock, so helpers
# working in the same tree may call it at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>.regen_migration.lock
flock 9
rev=0003
name=open_data_demand_showcase
tmp=$(mktemp -d)
rm -f cityos/migrations/versions/${rev}_*.py
.venv/bin/python - "$tmp" "$rev" "$name" <<'PY'
import sys
from alembic import command
from cityos.core.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/m.db")
command.upgrade(cfg, "head")
command.revision(cfg, message=sys.argv[3].replace("_", " "), autogenerate=True, rev_id=sys.argv[2])
PY
mv cityos/migrations/versions/${rev}_*.py cityos/migrations/versions/${rev}_${name}.py 2>/dev/null || true
rm -rf "$tmp"
echo "regenerated cityos/migrations/versions/${rev}_${name}.py"
