"""What must never be lost: CDRs, queue events, alarms, agent state (SQLite with WAL).

Each part owns its tables in its own module here and creates them through
:meth:`Store.ensure_schema`, so no central schema file grows with every feature.
"""
from appliance.store.db import Store, StoreError

__all__ = ["Store", "StoreError"]
