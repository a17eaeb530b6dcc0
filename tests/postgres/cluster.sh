#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks: its own data directory in a temp
# directory, listening on a free port on 127.0.0.1 only (and a Unix socket inside the directory).
#
#   cluster.sh start [DIR]    initdb + start; prints DIR (created with mktemp when not given).
#                             DIR/port holds the port; DIR/superuser.pw the superuser's password;
#                             DIR/ca.pem the CA of the server's TLS certificate (for 127.0.0.1 and
#                             localhost; TLS is optional for clients).
#   cluster.sh stop DIR       stops the server (fast) and removes DIR
#   cluster.sh halt DIR       stops the server but keeps DIR (to test a server going away)
#   cluster.sh resume DIR     starts a halted cluster again on the same port
#   cluster.sh psql DIR ...   psql as the superuser over the socket
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user Debian's
# package creates (or `nobody`). Binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin.
# Tuned for throwaway data: fsync and full-page writes are off.
set -euo pipefail

find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  local best=""
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && best="$d"; done
  if [[ -z "$best" ]]; then
    echo "cluster.sh: no PostgreSQL server binaries (initdb) found; run scripts/install-deps.sh" >&2
    exit 1
  fi
  echo "$best"
}
BIN=$(find_bin)

RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then
  if id postgres >/dev/null 2>&1; then OWNER=postgres; else OWNER=nobody; fi
  RUN_AS=(runuser -u "$OWNER" --)
else
  OWNER=$(id -un)
fi

as_owner() { (cd / && "${RUN_AS[@]}" "$@"); }

port_free() {  # nothing accepts connections on 127.0.0.1:$1
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_start() {
  local dir=$1 port
  port=$(cat "$dir/port")
  if ! as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null; then
    tail -n 20 "$dir/server.log" >&2 || true
    return 1
  fi
}

cmd=${1:-}
case "$cmd" in
  start)
    dir=${2:-$(mktemp -d /tmp/sfb-pg.XXXXXX)}
    mkdir -p "$dir"
    chmod 0755 "$dir"
    chown "$OWNER" "$dir"
    echo "sfb-superuser-$RANDOM$RANDOM" >"$dir/superuser.pw"
    chmod 0644 "$dir/superuser.pw"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/superuser.pw" -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    cat >>"$dir/data/postgresql.conf" <<CONF
fsync = off
full_page_writes = off
synchronous_commit = off
shared_buffers = 128MB
max_connections = 60
log_min_messages = warning
log_connections = off
CONF
    # TLS: a throwaway CA and a server certificate for 127.0.0.1 and localhost.
    (
      cd "$dir"
      openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=statefun-bootstrap test CA" \
        -keyout ca.key -out ca.pem
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
        -extfile server.ext -out server.crt
      chmod 0600 server.key
      chown "$OWNER" server.key server.crt
      rm -f ca.key server.csr server.ext ca.srl
    ) >"$dir/tls.log" 2>&1 || { cat "$dir/tls.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
CONF
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
      port_free "$port" || continue
      echo "$port" >"$dir/port"
      if server_start "$dir"; then
        echo "$dir"
        exit 0
      fi
    done
    echo "cluster.sh: could not start PostgreSQL (see $dir/server.log)" >&2
    exit 1
    ;;
  stop)
    dir=${2:?usage: cluster.sh stop DIR}
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  halt)
    dir=${2:?usage: cluster.sh halt DIR}
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    ;;
  resume)
    dir=${2:?usage: cluster.sh resume DIR}
    server_start "$dir"
    ;;
  psql)
    dir=${2:?usage: cluster.sh psql DIR [psql arguments]}
    shift 2
    exec "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres "$@"
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
