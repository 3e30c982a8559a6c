# A throwaway PostgreSQL cluster for the tests (sourced by scripts/test --postgres and .ci/run).
# pg_start: installs PostgreSQL from Debian's packages when missing (as root), creates a cluster in
# a temporary directory as a non-root user, listens on 127.0.0.1 on a free port and exports
# EFA_TEST_DATABASE_URL; pg_stop stops it and removes the directory.

pg_bindir() {
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return 0
  fi
  return 1
}

pg_start() {
  if ! PG_BIN=$(pg_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "PostgreSQL not found: installing it from Debian's packages" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
      PG_BIN=$(pg_bindir) || return 1
    else
      echo "PostgreSQL is not installed (apt-get install postgresql, or set EFA_TEST_DATABASE_URL)" >&2
      return 1
    fi
  fi
  PG_DIR=$(mktemp -d /tmp/efa-pg.XXXXXX)
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the cluster belongs to nobody.
    chown nobody "$PG_DIR"
    PG_AS="runuser -u nobody --"
  else
    PG_AS=""
  fi
  $PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U efa --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
    $PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U efa --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # Durability off: a test cluster is thrown away; max_connections for parallel test workers.
  $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/data/server.log" -w -s \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR/data -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start || { cat "$PG_DIR/data/server.log" >&2; return 1; }
  export EFA_TEST_DATABASE_URL="postgresql+psycopg://efa@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (throwaway cluster in $PG_DIR)" >&2
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -s stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
