# Shared settings for the local stack scripts. Sourced, not run.
# Every value can be overridden from the environment (or `make up KAFKA_PORT=29092`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-16379}"
STACK_TIMEOUT="${STACK_TIMEOUT:-90}"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

KAFKA_LIBS="$ROOT/deploy/kafka/libs"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_STDOUT="$KAFKA_DIR/logs/stdout.log"
REDIS_DIR="$STACK_DIR/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

log() { printf '[stack] %s\n' "$*" >&2; }

# True when the pid file names a live process whose command line contains $2.
# Guards against a stale pid file whose number was reused by an unrelated process.
pid_alive() {
  local pidfile="$1" needle="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$needle"
}

kafka_running() { pid_alive "$KAFKA_PID" "kafka.Kafka"; }
redis_running() { pid_alive "$REDIS_PID" "redis-server"; }

export KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-$KAFKA_HOST:$KAFKA_PORT}"
export REDIS_URL="${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT/0}"
export CG_STACK_DIR="$STACK_DIR"
# One broker: the product's topics get one replica (production defaults are 3 and 2).
export CG_REPLICATION_FACTOR="${CG_REPLICATION_FACTOR:-1}"
export CG_MIN_INSYNC_REPLICAS="${CG_MIN_INSYNC_REPLICAS:-1}"
