#!/usr/bin/env bash
# Starts the local stack: a single-node KRaft Kafka 3.9.1 broker and a redis-server, both on
# loopback, data/logs/pids under .stack/. Waits until Kafka answers a metadata request and Redis
# answers PING. Running it while the stack is up is harmless.
#   --record FILE   append the names of the services this call started (used by with-stack.sh)
source "$(dirname "${BASH_SOURCE[0]}")/kafka.sh"
cd "$ROOT"

record=""
if [[ "${1:-}" == "--record" ]]; then record="$2"; fi

[[ -f "$KAFKA_LIBS/kafka_2.13-3.9.1.jar" ]] || { log "Kafka jars missing: run 'make setup' first"; exit 1; }
command -v redis-server >/dev/null || { log "redis-server missing: run 'make setup' first"; exit 1; }

start_kafka() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  local props="$KAFKA_DIR/server.properties"
  kafka_properties "$KAFKA_DIR/data" "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" >"$props"
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    kafka_format "$props" "$KAFKA_DIR/logs" >>"$KAFKA_STDOUT"
  fi
  log "starting Kafka on $KAFKA_HOST:$KAFKA_PORT"
  # setsid: the broker outlives this shell and is not hit by the terminal's Ctrl-C.
  setsid "$ROOT/deploy/local/kafka.sh" exec "$props" "$KAFKA_DIR/logs" \
    >>"$KAFKA_STDOUT" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  [[ -z "$record" ]] || echo kafka >>"$record"
}

start_redis() {
  mkdir -p "$REDIS_DIR"
  log "starting Redis on $REDIS_HOST:$REDIS_PORT"
  redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync everysec --daemonize yes \
    --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --save "" >/dev/null
  [[ -z "$record" ]] || echo redis >>"$record"
}

if kafka_running; then log "Kafka already running (pid $(cat "$KAFKA_PID"))"; else start_kafka; fi
if redis_running; then log "Redis already running (pid $(cat "$REDIS_PID"))"; else start_redis; fi

if ! "$PY" "$ROOT/deploy/local/wait_ready.py" --timeout "$STACK_TIMEOUT"; then
  log "stack did not become ready within ${STACK_TIMEOUT}s; last lines of the logs:"
  tail -n 40 "$KAFKA_LOG" "$KAFKA_STDOUT" "$REDIS_LOG" 2>/dev/null >&2 || true
  exit 1
fi
log "stack ready: KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP REDIS_URL=$REDIS_URL"
