#!/usr/bin/env bash
# Installs everything the project needs, from nothing; safe to run again (each step checks first).
#   - a project venv (.venv) with the package and its dev extras
#   - Kafka 3.9.1 jars from Maven Central (deploy/kafka/libs)
#   - redis-server from Debian when it is not on PATH
#   - openssl from Debian when it is not on PATH (test certificates)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

pick_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      command -v "$candidate"; return 0
    fi
  done
  log "need Python >= 3.11 on PATH"; return 1
}

as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi; }

# 1. venv + deps, pinned with hashes by deploy/requirements-dev.lock (make lock). The stamp
# holds a hash of pyproject.toml and the lock, so a changed dependency list reinstalls.
stamp="$VENV/.installed"
want="$(cat pyproject.toml deploy/requirements-dev.lock | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$PY" ]]; then
  log "creating venv in $VENV"
  "$(pick_python)" -m venv "$VENV"
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing python dependencies"
  "$PY" -m pip install -q --upgrade pip setuptools wheel
  "$PY" -m pip install -q --require-hashes -r deploy/requirements-dev.lock
  "$PY" -m pip install -q --no-deps -e .
  echo "$want" >"$stamp"
fi

# 2. Kafka jars from Maven Central (cached in ~/.m2, so a second clone is fast).
if [[ ! -f "$KAFKA_LIBS/kafka_2.13-3.9.1.jar" || ! -f "$KAFKA_LIBS/slf4j-reload4j-1.7.36.jar" ]]; then
  command -v java >/dev/null || { log "java is required for the local Kafka broker"; exit 1; }
  command -v mvn >/dev/null || { log "maven is required to fetch the Kafka jars"; exit 1; }
  log "fetching Kafka 3.9.1 jars from Maven Central"
  (cd deploy/kafka && mvn -q -B dependency:copy-dependencies)
fi

# 3. redis-server (and redis-cli, which the Redis Cluster test uses) from Debian.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "installing redis-server and redis-tools from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools \
    >/dev/null
  # Debian's package starts a system-wide redis on 6379; we run our own, so leave theirs alone.
fi

# 4. openssl: the tests make a CA and certificates for their TLS listeners.
if ! command -v openssl >/dev/null 2>&1; then
  log "installing openssl from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
log "setup complete"
