#!/usr/bin/env bash
# Prints whether each local stack process runs and answers.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rc=0
if kafka_running; then echo "kafka  running  pid $(cat "$KAFKA_PID")  $KAFKA_BOOTSTRAP"; else echo "kafka  stopped"; rc=1; fi
if redis_running; then echo "redis  running  pid $(cat "$REDIS_PID")  $REDIS_URL"; else echo "redis  stopped"; rc=1; fi
if [[ $rc == 0 && -x "$PY" ]]; then
  "$PY" "$ROOT/deploy/local/wait_ready.py" --timeout 5 && echo "stack  ready" || { echo "stack  not answering"; rc=1; }
fi
exit $rc
