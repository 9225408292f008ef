#!/usr/bin/env bash
# Runs a command with the local stack up, then stops what this call started (and only that).
# The command's exit status is kept.   usage: with-stack.sh CMD [ARGS...]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$STACK_DIR"
started="$(mktemp "$STACK_DIR/started.XXXXXX")"
cleanup() { "$ROOT/deploy/local/down.sh" --only "$started" || true; rm -f "$started"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$ROOT/deploy/local/up.sh" --record "$started"
set +e
"$@"
rc=$?
set -e
exit $rc
