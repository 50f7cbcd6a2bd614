#!/usr/bin/env bash
# Downloads pgAdmin 4 and gunicorn, with every dependency, as wheels into pgadmin/wheelhouse/,
# on the host. The pgadmin image installs from there, so its build needs no TLS from inside a
# container (on some networks only the host trusts the proxy that re-signs PyPI's certificate).
# Safe to run again: it does nothing when the wheels for this pgAdmin version are there.
set -euo pipefail
cd "$(dirname "$0")"

version=$(sed -n 's/^ARG PGADMIN_VERSION=//p' pgadmin/Dockerfile)
out=pgadmin/wheelhouse
stamp=$out/.complete-$version
if [[ -f $stamp ]]; then
	echo "wheels for pgAdmin $version: already in $out"
	exit 0
fi

# The wheels must match the image's interpreter: Debian 12's Python 3.11 on x86_64/arm64.
python=${PYTHON:-python3}
tag=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $tag != 3.11 ]]; then
	echo "fetch-wheels: $python is Python $tag but the image has 3.11; set PYTHON=python3.11," \
		"or leave $out empty and the build installs from the index" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
echo "fetching pgAdmin $version and its dependencies into $out (about 200 MB) …"
# pip wheel, not pip download: a few dependencies exist only as source and are built here once.
# --use-pep517 builds them in isolation, so Debian's old setuptools without `wheel` can't break it.
"$tmp/venv/bin/pip" wheel --quiet --disable-pip-version-check --use-pep517 \
	--wheel-dir "$tmp/wheels" "pgadmin4==$version" gunicorn
rm -f "$out"/*.whl "$out"/.complete-*
mv "$tmp"/wheels/*.whl "$out"/
touch "$stamp"
echo "wheels for pgAdmin $version: $(ls "$out"/*.whl | wc -l) in $out"
