#!/usr/bin/env bash
# Stops the local stack processes this project started (by the pids under .stack/), nothing else.
# Data stays; `make clean-stack` deletes it when asked.
#   --only FILE   stop only the services named in FILE (written by up.sh --record)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

services=(kafka redis)
if [[ "${1:-}" == "--only" ]]; then
  mapfile -t services <"$2"
fi

stop() {
  local name="$1" pidfile="$2" needle="$3" pid
  if ! pid_alive "$pidfile" "$needle"; then
    log "$name not running"; rm -f "$pidfile"; return 0
  fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.5
  done
  log "$name did not stop in 30s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

for s in "${services[@]}"; do
  case "$s" in
    kafka) stop Kafka "$KAFKA_PID" kafka.Kafka ;;
    redis) stop Redis "$REDIS_PID" redis-server ;;
    "") ;;
    *) log "unknown service '$s'" ;;
  esac
done
