#!/usr/bin/env bash
# Entrypoint of the dpage/pgadmin4-compatible image: PGADMIN_DEFAULT_EMAIL and
# PGADMIN_DEFAULT_PASSWORD make the first user, /pgadmin4/servers.json pre-registers servers
# for that user (first start only), then gunicorn serves pgAdmin on PGADMIN_LISTEN_PORT (80).
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }

PGADMIN=$(/venv/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pgadmin4
DATA_DIR=/var/lib/pgadmin
: "${PGADMIN_LISTEN_ADDRESS:=0.0.0.0}"
: "${PGADMIN_LISTEN_PORT:=80}"
: "${GUNICORN_THREADS:=25}"

# As root: own the data directory, then run again as `pgadmin`, keeping only the capability
# to bind port 80 (as the official image's setcap on python does).
if [[ $(id -u) == 0 ]]; then
	mkdir -p "$DATA_DIR"
	chown -R pgadmin:pgadmin "$DATA_DIR"
	exec setpriv --reuid=pgadmin --regid=pgadmin --init-groups \
		--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
		"${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -f $DATA_DIR/pgadmin4.db ]]; then
	if [[ -z ${PGADMIN_DEFAULT_EMAIL:-} || -z ${PGADMIN_DEFAULT_PASSWORD:-} ]]; then
		log "error: set PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD for the first start"
		exit 1
	fi
	log "creating the configuration database for $PGADMIN_DEFAULT_EMAIL"
	# The pip package reads these names; the official image maps the DEFAULT ones the same way.
	PGADMIN_SETUP_EMAIL=$PGADMIN_DEFAULT_EMAIL PGADMIN_SETUP_PASSWORD=$PGADMIN_DEFAULT_PASSWORD \
		/venv/bin/python3 "$PGADMIN/setup.py" setup-db
	servers=${PGADMIN_SERVER_JSON_FILE:-/pgadmin4/servers.json}
	if [[ -f $servers ]]; then
		log "loading servers from $servers"
		/venv/bin/python3 "$PGADMIN/setup.py" load-servers "$servers" --user "$PGADMIN_DEFAULT_EMAIL"
	fi
fi

if [[ $# -gt 0 ]]; then
	exec "$@"
fi
log "pgAdmin 4 on http://$PGADMIN_LISTEN_ADDRESS:$PGADMIN_LISTEN_PORT"
# One worker: pgAdmin keeps per-user state in the process (the official image's choice too).
exec /venv/bin/gunicorn --bind "$PGADMIN_LISTEN_ADDRESS:$PGADMIN_LISTEN_PORT" \
	--workers 1 --threads "$GUNICORN_THREADS" --timeout 86400 \
	--access-logfile - --chdir "$PGADMIN" pgAdmin4:app
