#!/usr/bin/env bash
# Postgres + pgAdmin 4 on dockyard, with one command, on a fresh Debian 12 machine (as root):
# installs dockyard if needed, makes the debian:bookworm base offline from Debian's packages,
# fetches pgAdmin's wheels on the host, builds both images, starts the stack and waits until
# both services are healthy. The first run takes a few minutes; later runs reuse the base
# image, the wheels and the build cache and take seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dockyard=${DOCKYARD:-$repo/.venv/bin/dockyard}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
cd "$here"

if [[ ! -x $dockyard ]]; then
	step "installing dockyard (scripts/install.sh)"
	"$repo/scripts/install.sh"
fi

step "base image debian:bookworm"
if "$dockyard" image inspect debian:bookworm >/dev/null 2>&1; then
	echo "debian:bookworm is there"
else
	echo "bootstrapping it with mmdebstrap from Debian's mirror (about 30 s) …"
	"$dockyard" image bootstrap debian:bookworm
fi

step "pgAdmin 4 wheels (downloaded on the host)"
./fetch-wheels.sh

step "building the images and starting the stack (builds are cached after the first time)"
"$dockyard" compose up -d --build --wait

cat <<'INFO'

Postgres   psql -h 127.0.0.1 -p 5432 -U app -d appdb          (password: app-password)
           or any client (DBeaver, …) on localhost:5432
pgAdmin 4  http://127.0.0.1:5050                              (admin@example.com / admin-password)
           the server "db" is already registered: open it and give the password app-password

Stop:      dockyard compose -f examples/postgres-pgadmin/compose.yaml down      (keeps the data)
Remove:    dockyard compose -f examples/postgres-pgadmin/compose.yaml down -v   (deletes it)
INFO
