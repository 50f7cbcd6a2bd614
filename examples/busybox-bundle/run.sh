#!/usr/bin/env bash
# The runtime's main job: make a busybox OCI bundle from the host's busybox-static and run it
# with dockyard-runtime in fresh namespaces, a memory/pids-limited cgroup and a seccomp profile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/../../.venv/bin"
bundle=$(mktemp -d /tmp/dockyard-demo-XXXXXX)
trap 'rm -rf "$bundle"' EXIT
"$venv/python" -c "import sys; from pathlib import Path; from dockyard.testing.rootfs import make_busybox_rootfs; make_busybox_rootfs(Path(sys.argv[1]))" "$bundle/rootfs"
cp "$here/config.json" "$bundle/config.json"
"$venv/dockyard-runtime" --root /run/dockyard-demo run --bundle "$bundle" "demo-$$"
