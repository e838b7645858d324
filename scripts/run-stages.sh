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
# budget (seconds) per stage, from .ci/stage-budget ("stage seconds" lines, # comments)
declare -A budget=()
if [ -f .ci/stage-budget ]; then
    while read -r stage_name stage_secs; do
        case "$stage_name" in ''|'#'*) continue ;; esac
        budget[$stage_name]=$stage_secs
    done < .ci/stage-budget
fi
over_budget() {  # over_budget STAGE SECONDS: prints the budget column
    local b="${budget[$1]:-}"
    if [ -z "$b" ]; then printf 'no budget'
    elif [ "$2" -gt "$b" ]; then printf 'budget %ss OVER' "$b"
    else printf 'budget %ss' "$b"; fi
}
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
    printf '  %-14s %6ss  %-20s %s\n' "${names[$i]}" "${secs[$i]}" "$(over_budget "${names[$i]}" "${secs[$i]}")" "${results[$i]}"
done
total_budget=0
for stage in "$@"; do total_budget=$((total_budget + ${budget[$stage]:-0})); done
printf '  %-14s %6ss  budget %ss (these stages)\n' total "$((SECONDS - total_start))" "$total_budget"
if [ "$failed" -ne 0 ]; then
    printf 'make test: %d of %d stages FAILED\n' "$failed" "${#names[@]}"
    exit 1
fi
printf 'make test: all %d stages ok\n' "${#names[@]}"
