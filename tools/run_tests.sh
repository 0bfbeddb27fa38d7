#!/usr/bin/env bash
# The whole suite in two pytest processes side by side (`make test` runs this):
#
#   tools/run_tests.sh [PYTEST ARGS...]
#
# With no arguments, group A (what builds from the work tree or runs most of the
# real Pulumi CLI: most of tests/cli, tests/bench, the build, packaging, docs
# and generated-file tests, the Terraform provider's archive and three-ways
# tests) and group B (the rest: the fake, the client, the providers over gRPC,
# the harness programs, the reliability campaigns, the OpenTofu suite, and the
# real-CLI tests listed in SHARED) run at once,
# so that one's waits on subprocesses overlap the other's work on the two
# cores. They share nothing a test writes: every test works in its own
# temporary directories and on free ports, and only group A writes into the
# work tree (build/, dist/, *.egg-info). Group B's output is shown when both
# have finished; the run fails if either does. VPSBACKUP_TEST_JOBS=1 runs the
# two groups one after the other; with arguments, pytest runs them as given.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

if [ "$#" -gt 0 ]; then
  exec "$PYTHON" -m pytest "$@"
fi

# Real-CLI tests that only work in their own temporary projects, moved to
# group B to even the two out; every other file of tests/cli (a new one too)
# stays in group A.
SHARED=(test_accounts_cli.py test_cli_text.py test_engine_cli.py test_identity_cli.py
        test_query_errors_cli.py test_rotation_cli.py test_fleet_cli.py test_plugin_rpc_cli.py)
A=(tests/bench tests/test_build.py tests/test_docs.py tests/test_packaging.py
   tests/test_generated.py tests/terraform/test_three_ways.py)
[ -e tests/terraform/test_tofu_dist.py ] && A+=(tests/terraform/test_tofu_dist.py)
for path in tests/cli/test_*.py; do
  case " ${SHARED[*]} " in *" $(basename "$path") "*) ;; *) A+=("$path") ;; esac
done
B=(tests)
for path in "${A[@]}"; do B+=("--ignore=$path"); done

start=$(date +%s)
if [ "${VPSBACKUP_TEST_JOBS:-2}" = "1" ]; then
  "$PYTHON" -m pytest "${A[@]}"; a=$?
  "$PYTHON" -m pytest "${B[@]}"; b=$?
else
  log="$(mktemp "${TMPDIR:-/tmp}/vpsbackup-tests-b.XXXXXX")"
  trap 'rm -f "$log"' EXIT
  # A background job of a non-interactive shell starts with SIGINT ignored, and
  # Python (so the fake, the hosts and every child a test starts) keeps a
  # signal it finds ignored: the tests that send SIGINT would see it ignored.
  # So group B starts from a Python that sets SIGINT back to the default.
  "$PYTHON" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[1:]])' \
    "${B[@]}" >"$log" 2>&1 &
  pid=$!
  "$PYTHON" -m pytest "${A[@]}"; a=$?
  wait "$pid"; b=$?
  echo
  echo "==================== group B (run beside the above) ===================="
  cat "$log"
fi
echo
echo "tools/run_tests.sh: group A exit $a, group B exit $b, $(( $(date +%s) - start )) s in all"
[ "$a" -eq 0 ] && [ "$b" -eq 0 ]
