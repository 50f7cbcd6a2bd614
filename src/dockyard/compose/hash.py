"""The canonical configuration hash of a service (label `com.docker.compose.config-hash`).

sha256 of canonical JSON of the normalised service: key order, list/map forms and defaults do
not change it. Like Compose v2, it leaves out what does not shape the container: `build`,
`pull_policy`, `scale`/`deploy.replicas`, `depends_on` and `profiles`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from dockyard.compose.model import PullPolicy, Service
from dockyard.compose.serialize import to_data

# Lists whose order carries no meaning for the container; sorted before hashing.
_UNORDERED = ("cap_add", "cap_drop", "expose", "extra_hosts", "security_opt", "tmpfs")


def config_hash(service: Service) -> str:
    """The hex sha256 that tells whether a container still matches its service definition."""
    stripped = dataclasses.replace(
        service,
        build=None,
        pull_policy=PullPolicy.MISSING,
        replicas=1,
        depends_on=(),
        profiles=(),
    )
    data = to_data(stripped)
    for key in _UNORDERED:
        if key in data:
            data[key] = sorted(data[key])
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
