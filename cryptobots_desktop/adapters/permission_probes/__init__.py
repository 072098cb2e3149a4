"""Permission probes: one module per exchange, each asking the exchange's own "what may this key do"
endpoint and reading the answer into ``core.key_permissions.KeyPermissions`` exactly as
``../shared/design/key-permissions.md`` says (absent or unconfirmed fields stay unknown, never safe).

``probe_key(exchange_id, credentials, now_ms=...)`` is the one entry point; ``probe_for(exchange_id)``
the registry (None: the exchange cannot say, e.g. MEXC).
"""

from cryptobots_desktop.adapters.permission_probes.base import Probe
from cryptobots_desktop.adapters.permission_probes.probing import PROBED_EXCHANGES, probe_for, probe_key

__all__ = ["PROBED_EXCHANGES", "Probe", "probe_for", "probe_key"]
