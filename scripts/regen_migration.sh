#!/usr/bin/env bash
# Development helper: regenerate the initial migration from the models (before the first release).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f cityos/migrations/versions/0001_initial.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from cityos.core.migrate import alembic_config
cfg = alembic_config(f"sqlite:///{sys.argv[1]}/m.db")
command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
PY
mv cityos/migrations/versions/0001_*.py cityos/migrations/versions/0001_initial.py 2>/dev/null || true
# the audit table is append-only: add its triggers at the end of upgrade()
.venv/bin/python - <<'PY'
from pathlib import Path
p = Path("cityos/migrations/versions/0001_initial.py")
s = p.read_text()
marker = "    # ### end Alembic commands ###"
head, sep, tail = s.partition(marker)
s = head + sep + "\n    from cityos.audit.triggers import install_append_only\n\n    install_append_only(op)" + tail
p.write_text(s)
PY
rm -rf "$tmp"
echo "regenerated cityos/migrations/versions/0001_initial.py"
