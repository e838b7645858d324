#!/usr/bin/env bash
# Run several `make` targets one after another, time each, keep going after a
# failure, print a summary table, and exit non-zero if any stage failed.
#
# Usage: scripts/run-stages.sh TARGET...      (used by `make test`)
set -uo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1

names=(); results=(); secs=()
failed=0
total_start=$SECONDS
for stage in "$@"; do
    printf '\n===== stage %s: start %s =====\n' "$stage" "$(date +%H:%M:%S)"
    start=$SECONDS
    "${MAKE:-make}" --no-print-directory "$stage"
    rc=$?
    dur=$((SECONDS - start))
    names+=("$stage"); secs+=("$dur")
    if [ "$rc" -eq 0 ]; then
        results+=(ok)
    else
        results+=("FAILED (exit $rc)"); failed=$((failed + 1))
    fi
    printf '===== stage %s: %s in %ds =====\n' "$stage" "${results[-1]}" "$dur"
done

printf '\n===== make test summary =====\n'
for i in "${!names[@]}"; do
    printf '  %-12s %6ss  %s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"
done
printf '  %-12s %6ss\n' total "$((SECONDS - total_start))"
if [ "$failed" -ne 0 ]; then
    printf 'make test: %d of %d stages FAILED\n' "$failed" "${#names[@]}"
    exit 1
fi
printf 'make test: all %d stages ok\n' "${#names[@]}"
