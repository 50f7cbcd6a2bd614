#!/bin/sh
# The front: a static page from the environment, and /cgi-bin/cache asking the cache service.
set -e
trap 'exit 0' TERM INT
mkdir -p /www/cgi-bin
cat > /www/index.html <<HTML
<h1>${SITE_NAME}</h1>
<p>${GREETING}</p>
<p>Ask the cache: <a href="/cgi-bin/cache">/cgi-bin/cache</a></p>
HTML
cat > /www/cgi-bin/cache <<CGI
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
wget -qO- "${CACHE_URL}" || echo "cache unreachable"
CGI
chmod +x /www/cgi-bin/cache
echo "web: serving ${SITE_NAME} on :80"
httpd -f -p 80 -h /www &
wait
