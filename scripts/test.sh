#!/usr/bin/env bash
# Quick start, command 2: set up .venv, then run the whole test suite on 2 worker processes:
# first the fast tests, then the ones marked slow (end-to-end training runs, each over ~20 s).
# The fault-injection suite (marker faults: kills and full disks, several minutes) is not part
# of it: .ci/run runs it after this script.
# Extra arguments go to both pytest runs (e.g. -k render). Exit status: 0 only if both pass
# (a run that selects no test counts as passed), else the first failing run's pytest status.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Two workers by default (KOREAN_GAN_TEST_WORKERS to change): TensorFlow already spreads each
# test over the cores, and every worker holds a TensorFlow of its own (2-3 GB of memory).
workers=${KOREAN_GAN_TEST_WORKERS:-2}

run_part() {
  local name=$1 marker=$2 start=$SECONDS status=0
  shift 2
  .venv/bin/python -m pytest -q -n "$workers" --dist loadgroup -m "$marker" "$@" || status=$?
  # 5: no test matched (e.g. -k picked only fast tests): nothing failed.
  if [ "$status" -eq 5 ]; then
    echo "test.sh: no $name tests selected"
    status=0
  fi
  echo "test.sh: $name tests took $((SECONDS - start)) s (exit status $status)"
  return "$status"
}

fast=0
slow=0
run_part fast "not slow and not faults" "$@" || fast=$?
if [ "$fast" -eq 2 ]; then
  exit 2  # interrupted (Ctrl-C): do not go on with the slow tests
fi
run_part slow "slow and not faults" "$@" || slow=$?
if [ "$fast" -ne 0 ]; then
  exit "$fast"
fi
exit "$slow"
