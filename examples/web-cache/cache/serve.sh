#!/bin/sh
# The cache: counts its hits in the named volume (so the count survives `down` without -v)
# and answers each HTTP request on $CACHE_PORT with it.
trap 'exit 0' TERM INT
[ -f /data/hits ] || echo 0 > /data/hits
echo "cache: listening on :${CACHE_PORT}"
touch /tmp/ready
while true; do
  hits=$(( $(cat /data/hits) + 1 ))
  printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ncache hit number %s\n' "$hits" \
    | nc -l -p "${CACHE_PORT}" > /dev/null &
  wait $!
  echo "$hits" > /data/hits  # counted once served (a stop while waiting exits in the trap)
done
