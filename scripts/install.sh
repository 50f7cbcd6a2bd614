#!/usr/bin/env bash
# Install dockyard on a fresh Debian 12 machine (as root): system packages, then a virtualenv
# in .venv with the project and its development tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  python3 python3-venv           # the interpreter (a venv's starts ~70 ms faster than a pyenv shim)
  libseccomp2                    # seccomp filters (loaded with ctypes)
  busybox-static                 # the offline busybox image and test root file systems
  runc                           # the oracle the runtime's tests compare with
  tini                           # `run --init`: a minimal init as PID 1
  umoci skopeo docker-registry   # independent image tools and a local OCI registry for tests
  podman                         # the peer a built image round-trips through (tests, bench)
  nftables iproute2              # networking
  mmdebstrap                     # offline Debian base images
  apache2-utils openssl          # htpasswd and token keys for the registry auth tests
  curl postgresql-client         # talking to example stacks from the host
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ! -x .venv/bin/python ]]; then
  /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
# Byte-compile now: a CLI that compiles its modules at every start (PYTHONDONTWRITEBYTECODE,
# read-only trees) is tens of milliseconds slower.
.venv/bin/python -m compileall -q src >/dev/null
echo "dockyard installed: $(.venv/bin/dockyard version)"
