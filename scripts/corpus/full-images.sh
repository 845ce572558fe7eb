# full-images.sh — image definitions of the 'full' corpus set; sourced by build-corpus.sh (which
# provides image_begin/layer_apt/layer_files/image_config/image_end, add_user and base_extras).
#
# Shapes (each image is built on its own, so shared files land in layers with different digests):
#   * base layers: "min" (a debian:bookworm-slim-like userland) or "ca" (min + ca-certificates +
#     tzdata in the same layer). Images on the same base and apt state share the base digest.
#   * the same application on both bases: nginx:1.22 / nginx:1.22-ca (libssl3 is in nginx's layer on
#     "min" but in the base layer on "ca").
#   * security-update pairs: X-r0 is resolved against the bookworm point release only, X against
#     point release + bookworm-security/-updates (differs in a few packages, incl. some in the base).
#   * app updates: flask-app:1 -> flask-app:2 keeps base and python layers, changes the dependency
#     layer (adds python3-requests) and the app layer.
#   * different layer splits of the same packages: python3 alone vs python3 + libs in one layer.

BASE_MIN=(base-files base-passwd bash bsdutils coreutils dash debconf debianutils diffutils findutils grep
  gzip hostname libc-bin login mawk ncurses-base ncurses-bin passwd perl-base sed sysvinit-utils tar zlib1g)

base_layer() { # min|ca
  LAYER_HOOK=base_extras
  case "$1" in
    min) layer_apt "${BASE_MIN[@]}" ;;
    ca) layer_apt "${BASE_MIN[@]}" ca-certificates tzdata ;;
    *) die "unknown base '$1'" ;;
  esac
}

# ---- config/app files (what a Dockerfile would COPY)
cfg_nginx() {
  local s="$1"
  mkdir -p "$s/etc/nginx/conf.d" "$s/usr/share/nginx/html" "$s/var/log/nginx" "$s/var/lib/nginx"
  cat > "$s/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen 80 default_server;
    server_name _;
    root /usr/share/nginx/html;
    index index.html;
    location /healthz { return 200 "ok\n"; }
}
EOF
  cat > "$s/usr/share/nginx/html/index.html" <<'EOF'
<!doctype html><html><head><title>edge</title></head><body><h1>nginx at the edge</h1></body></html>
EOF
  ln -sfn /dev/stdout "$s/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$s/var/log/nginx/error.log"
}
cfg_redis() {
  local s="$1"
  add_user "$s" redis 100 /var/lib/redis
  mkdir -p "$s/etc/redis"
  cat > "$s/etc/redis/redis.conf" <<'EOF'
bind 0.0.0.0
protected-mode no
port 6379
dir /var/lib/redis
appendonly yes
maxmemory 256mb
maxmemory-policy allkeys-lru
EOF
}
cfg_memcached() { add_user "$1" memcache 100 /nonexistent; }
cfg_postgres() {
  local s="$1"
  add_user "$s" postgres 100 /var/lib/postgresql
  mkdir -p "$s/usr/local/bin" "$s/var/run/postgresql"; chown 100:100 "$s/var/run/postgresql" 2>/dev/null || true
  cat > "$s/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" --auth=trust --encoding=UTF8
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
fi
exec /usr/lib/postgresql/15/bin/postgres -D "$PGDATA" "$@"
EOF
  chmod 0755 "$s/usr/local/bin/docker-entrypoint.sh"
}
cfg_mariadb() {
  local s="$1"
  add_user "$s" mysql 100 /var/lib/mysql
  mkdir -p "$s/etc/mysql/conf.d" "$s/run/mysqld"; chown 100:100 "$s/run/mysqld" 2>/dev/null || true
  cat > "$s/etc/mysql/conf.d/edge.cnf" <<'EOF'
[mysqld]
bind-address = 0.0.0.0
skip-name-resolve
innodb_buffer_pool_size = 128M
max_connections = 64
EOF
}
app_flask_v1() {
  local s="$1"
  mkdir -p "$s/app"
  cat > "$s/app/app.py" <<'EOF'
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
EOF
}
app_flask_v2() {
  local s="$1"
  app_flask_v1 "$s"
  cat > "$s/app/app.py" <<'EOF'
import os

import requests
from flask import Flask, jsonify

app = Flask(__name__)
UPSTREAM = os.environ.get("UPSTREAM", "http://127.0.0.1:8080/healthz")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok", version=2)


@app.get("/upstream")
def upstream():
    r = requests.get(UPSTREAM, timeout=2)
    return jsonify(status=r.status_code)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
EOF
}
app_requests() {
  local s="$1"
  mkdir -p "$s/app"
  cat > "$s/app/probe.py" <<'EOF'
import sys
import time

import requests

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/healthz"
while True:
    try:
        print(url, requests.get(url, timeout=2).status_code, flush=True)
    except requests.RequestException as e:
        print(url, "error", e, flush=True)
    time.sleep(10)
EOF
}
cfg_java() {
  local s="$1"
  mkdir -p "$s/opt/app/config"
  cat > "$s/opt/app/config/application.properties" <<'EOF'
server.port=8080
management.endpoints.web.exposure.include=health,info
logging.level.root=INFO
EOF
  cat > "$s/opt/app/jvm.options" <<'EOF'
-XX:+UseSerialGC
-XX:MaxRAMPercentage=75
-Xss512k
EOF
}
app_node() {
  local s="$1"
  add_user "$s" node 1000 /home/node
  mkdir -p "$s/app"
  cat > "$s/app/server.js" <<'EOF'
'use strict';
const http = require('http');
const port = process.env.PORT || 3000;
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ path: req.url, node: process.version }));
}).listen(port, () => console.log(`listening on ${port}`));
EOF
  cat > "$s/app/package.json" <<'EOF'
{ "name": "edge-app", "version": "1.0.0", "private": true, "main": "server.js" }
EOF
}
app_php() {
  local s="$1"
  mkdir -p "$s/var/www/html"
  cat > "$s/var/www/html/index.php" <<'EOF'
<?php
header('Content-Type: application/json');
echo json_encode(['php' => PHP_VERSION, 'time' => date(DATE_ATOM)]);
EOF
}
cfg_php_fpm_nginx() {
  local s="$1"
  app_php "$s"
  mkdir -p "$s/etc/nginx/conf.d" "$s/usr/local/bin"
  cat > "$s/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen 80 default_server;
    root /var/www/html;
    index index.php;
    location ~ \.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
}
EOF
  cat > "$s/usr/local/bin/start.sh" <<'EOF'
#!/bin/sh
set -e
mkdir -p /run/php
/usr/sbin/php-fpm8.2 --daemonize
exec /usr/sbin/nginx -g 'daemon off;'
EOF
  chmod 0755 "$s/usr/local/bin/start.sh"
}
cfg_haproxy() {
  local s="$1"
  add_user "$s" haproxy 100 /var/lib/haproxy
  mkdir -p "$s/etc/haproxy"
  cat > "$s/etc/haproxy/haproxy.cfg" <<'EOF'
global
    maxconn 2048
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend edge
    bind :8080
    default_backend apps
backend apps
    balance roundrobin
    server app1 127.0.0.1:8000 check
    server app2 127.0.0.1:8001 check
EOF
}

build_full() {
  local PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  # nginx on two bases, plus its point-release (pre-security-update) build
  local spec name tag variant base
  for spec in "nginx 1.22 current min" "nginx 1.22-ca current ca" "nginx 1.22-r0 r0 min"; do
    read -r name tag variant base <<<"$spec"
    want "$name:$tag" || continue
    image_begin "$name" "$tag" "$variant"
    base_layer "$base"
    layer_apt nginx
    layer_files "COPY default.conf index.html" cfg_nginx
    image_config --config.env "$PATH_ENV" --config.exposedports 80/tcp --config.stopsignal SIGQUIT \
      --config.entrypoint /usr/sbin/nginx --config.cmd -g --config.cmd 'daemon off;'
    image_end
  done

  for tag in 7.0 7.0-r0; do
    want "redis:$tag" || continue
    image_begin redis "$tag" "$([ "$tag" = 7.0 ] && echo current || echo r0)"
    base_layer min
    layer_apt redis-server
    layer_files "RUN useradd redis && COPY redis.conf" cfg_redis
    image_config --config.env "$PATH_ENV" --config.exposedports 6379/tcp --config.user redis \
      --config.volume /var/lib/redis --config.entrypoint /usr/bin/redis-server --config.cmd /etc/redis/redis.conf
    image_end
  done

  if want memcached:1.6; then
    image_begin memcached 1.6
    base_layer min
    layer_apt memcached
    layer_files "RUN useradd memcache" cfg_memcached
    image_config --config.env "$PATH_ENV" --config.exposedports 11211/tcp --config.user memcache \
      --config.entrypoint /usr/bin/memcached --config.cmd -m --config.cmd 64
    image_end
  fi

  if want postgres:15; then
    image_begin postgres 15
    base_layer min
    layer_apt postgresql-15
    layer_files "RUN useradd postgres && COPY docker-entrypoint.sh" cfg_postgres
    image_config --config.env "$PATH_ENV:/usr/lib/postgresql/15/bin" --config.env PGDATA=/var/lib/postgresql/data \
      --config.exposedports 5432/tcp --config.user postgres --config.volume /var/lib/postgresql/data \
      --config.entrypoint /usr/local/bin/docker-entrypoint.sh
    image_end
  fi

  if want mariadb:10.11; then
    image_begin mariadb 10.11
    base_layer min
    layer_apt mariadb-server
    layer_files "RUN useradd mysql && COPY edge.cnf" cfg_mariadb
    image_config --config.env "$PATH_ENV" --config.exposedports 3306/tcp --config.user mysql \
      --config.volume /var/lib/mysql --config.entrypoint /usr/sbin/mariadbd
    image_end
  fi

  for tag in 3.11 3.11-r0; do
    want "python:$tag" || continue
    image_begin python "$tag" "$([ "$tag" = 3.11 ] && echo current || echo r0)"
    base_layer ca
    layer_apt python3
    image_config --config.env "$PATH_ENV" --config.env LANG=C.UTF-8 --config.cmd /usr/bin/python3
    image_end
  done

  local v
  for v in 1 2; do
    want "flask-app:$v" || continue
    image_begin flask-app "$v"
    base_layer min
    layer_apt python3
    if [ "$v" = 1 ]; then layer_apt python3-flask; else layer_apt python3-flask python3-requests; fi
    layer_files "COPY app.py /app/" "app_flask_v$v"
    image_config --config.env "$PATH_ENV" --config.env LANG=C.UTF-8 --config.workingdir /app \
      --config.exposedports 8000/tcp --config.entrypoint /usr/bin/python3 --config.cmd /app/app.py
    image_end
  done

  if want requests-app:1; then
    image_begin requests-app 1
    base_layer ca
    layer_apt python3 python3-requests
    layer_files "COPY probe.py /app/" app_requests
    image_config --config.env "$PATH_ENV" --config.workingdir /app \
      --config.entrypoint /usr/bin/python3 --config.cmd /app/probe.py
    image_end
  fi

  if want java:17; then
    image_begin java 17
    base_layer ca
    layer_apt openjdk-17-jre-headless
    layer_files "COPY config /opt/app/" cfg_java
    image_config --config.env "$PATH_ENV:/usr/lib/jvm/java-17-openjdk-amd64/bin" \
      --config.env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 --config.workingdir /opt/app \
      --config.entrypoint /usr/lib/jvm/java-17-openjdk-amd64/bin/java --config.cmd -version
    image_end
  fi

  if want node:18; then
    image_begin node 18
    base_layer min
    layer_apt nodejs
    image_config --config.env "$PATH_ENV" --config.cmd /usr/bin/node
    image_end
  fi

  if want node-app:1; then
    image_begin node-app 1
    base_layer ca
    layer_apt nodejs
    layer_files "RUN useradd node && COPY server.js package.json /app/" app_node
    image_config --config.env "$PATH_ENV" --config.env NODE_ENV=production --config.user node \
      --config.workingdir /app --config.exposedports 3000/tcp \
      --config.entrypoint /usr/bin/node --config.cmd /app/server.js
    image_end
  fi

  if want php:8.2; then
    image_begin php 8.2
    base_layer min
    layer_apt php8.2-cli
    layer_files "COPY index.php" app_php
    image_config --config.env "$PATH_ENV" --config.workingdir /var/www/html \
      --config.entrypoint /usr/bin/php8.2 --config.cmd -S --config.cmd 0.0.0.0:8080
    image_end
  fi

  if want php-fpm-nginx:8.2; then
    image_begin php-fpm-nginx 8.2
    base_layer ca
    layer_apt nginx
    layer_apt php8.2-fpm
    layer_files "COPY default.conf start.sh index.php" cfg_php_fpm_nginx
    image_config --config.env "$PATH_ENV" --config.exposedports 80/tcp --config.entrypoint /usr/local/bin/start.sh
    image_end
  fi

  if want haproxy:2.6; then
    image_begin haproxy 2.6
    base_layer min
    layer_apt haproxy
    layer_files "RUN useradd haproxy && COPY haproxy.cfg" cfg_haproxy
    image_config --config.env "$PATH_ENV" --config.exposedports 8080/tcp --config.stopsignal SIGUSR1 \
      --config.entrypoint /usr/sbin/haproxy --config.cmd -db --config.cmd -f --config.cmd /etc/haproxy/haproxy.cfg
    image_end
  fi

  if want curl:7.88; then
    image_begin curl 7.88
    base_layer ca
    layer_apt curl
    image_config --config.env "$PATH_ENV" --config.entrypoint /usr/bin/curl --config.cmd --version
    image_end
  fi
}
