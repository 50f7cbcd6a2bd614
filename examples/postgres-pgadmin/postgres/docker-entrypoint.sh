#!/usr/bin/env bash
# Entrypoint of the postgres:15-compatible image, after the official image's docker-entrypoint.sh:
# POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA, POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD and /docker-entrypoint-initdb.d/ mean what they mean there.
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() { log "error: $*"; exit 1; }

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA POSTGRES_USER POSTGRES_DB

# `docker run image -c shared_buffers=256MB` means flags for postgres.
if [[ $# -eq 0 || ${1:0:1} == '-' ]]; then
	set -- postgres "$@"
fi

# As root: own the data and socket directories, then run this script again as `postgres`.
# setpriv resolves the name in the image's /etc/passwd, never the host's.
if [[ $1 == postgres && $(id -u) == 0 ]]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	chmod 3777 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ $1 != postgres ]]; then
	exec "$@"
fi

first_start() {
	if [[ -z ${POSTGRES_PASSWORD:-} && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
		die "database is uninitialized and POSTGRES_PASSWORD is not set: set it (-e POSTGRES_PASSWORD=…)"
	fi
	log "initialising a new cluster in $PGDATA for user \"$POSTGRES_USER\""
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as upstream
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >&2
	# Any address may connect, with a password (the official image's pg_hba.conf line).
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

	# A server on the socket only, so nobody reaches the database before it is ready.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >&2
	if [[ $POSTGRES_DB != postgres ]]; then
		psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname postgres \
			--set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;' >&2
	fi
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh) log "running $f"; . "$f" ;;
		*.sql) log "running $f"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" >&2 ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" >&2 ;;
		*) [[ -e $f ]] && log "ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop >&2
	log "init done; ready for start up"
}

# PG_VERSION is written last by initdb: a half-made directory is not mistaken for a cluster.
if [[ ! -s $PGDATA/PG_VERSION ]]; then
	first_start
else
	log "PostgreSQL database directory appears to contain a database; skipping initialization"
fi

# The postmaster treats SIGTERM as a "smart" shutdown that waits for every client (pgAdmin keeps
# a connection open) and would be SIGKILLed at the stop timeout, forcing recovery at the next
# start. So this shell stays PID 1 and turns SIGTERM and SIGINT into a fast shutdown (SIGINT).
postgres "${@:2}" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
trap 'kill -QUIT "$pid" 2>/dev/null || true' QUIT
trap 'kill -HUP "$pid" 2>/dev/null || true' HUP
status=0
while :; do
	wait "$pid" && status=0 || status=$?
	# wait returns >128 when a trapped signal interrupts it; the postmaster may still run.
	kill -0 "$pid" 2>/dev/null || break
done
exit "$status"
