#!/usr/bin/env bash
# Run the Molecule scenarios of teamware.qmail in the podman lab.
#
#   lab/run-scenarios.sh                 every scenario under molecule/
#   lab/run-scenarios.sh NAME...         only those
#
# 1. lab/setup-podman.sh (podman, runc, netavark; changes nothing when done before),
# 2. lab/build-image.sh: the base image, and the qmail image when an installed qmail is available:
#    TEAMWARE_QMAIL_ARCHIVE / TEAMWARE_QMAIL_USERS, by default /opt/qmail-dist/qmail-installed.tar.gz and
#    /opt/qmail-dist/qmail-users.txt when both exist (the repository never builds qmail),
# 3. `molecule test -s NAME` for each scenario (over the shared base .config/molecule/config.yml), LAB_JOBS at a
#    time, each logged to LAB_LOG_DIR/NAME.log. A scenario whose platforms use the qmail image is SKIPPED
#    (loudly, and counted) when that image is not there. The last line reads
#    "scenarios: N passed, N failed, N skipped"; the exit status is 1 when one failed (or there was nothing to
#    run), else 0.
#
# Works unattended (CI=true, no stdin). Variables:
#   LAB_JOBS              scenarios run at the same time (default 2)
#   LAB_SCENARIO_TIMEOUT  seconds before a scenario counts as failed (default 1200)
#   LAB_LOG_DIR           where the logs go (default build/molecule-logs)
#   LAB_SKIP_SETUP=1      do not run setup-podman.sh / build-image.sh
#   LAB_NO_QMAIL=1        behave as if there were no qmail image (tests the skip path)
#   LAB_IMAGE, LAB_QMAIL_IMAGE   image names (defaults of lab/build-image.sh)
#   LAB_VENV              the virtualenv with molecule (default: molecule in PATH, else .venv-py311)
set -uo pipefail
exec </dev/null
cd "$(dirname "$0")/.." || exit 1
REPO="$(pwd)"

export CI="${CI:-true}" PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1
export LAB_IMAGE="${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}"
export LAB_QMAIL_IMAGE="${LAB_QMAIL_IMAGE:-${LAB_IMAGE}-qmail}"
JOBS="${LAB_JOBS:-2}"
TIMEOUT="${LAB_SCENARIO_TIMEOUT:-1200}"
LOG_DIR="${LAB_LOG_DIR:-${REPO}/build/molecule-logs}"

say() { printf '[run-scenarios %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
banner() {
    printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
    for line in "$@"; do printf '!!! %s\n' "$line"; done
    printf '%s\n\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
}

# ---- the toolchain: molecule with the podman driver, the collection and its dependencies
if [ -n "${LAB_VENV:-}" ]; then
    export PATH="${LAB_VENV}/bin:${PATH}"
elif ! command -v molecule >/dev/null 2>&1; then
    export PATH="${REPO}/.venv-py311/bin:${PATH}"
fi
if ! command -v molecule >/dev/null 2>&1; then
    say "ERROR: molecule not found (make venv creates .venv-py311 and .venv-py312)"
    exit 1
fi
collections_root="${ANSIBLE_COLLECTIONS_PATH:-}"
if [ -z "$collections_root" ]; then
    pytag="$(python3 -c 'import sys; print("py%d%d" % sys.version_info[:2])')"
    for candidate in "${REPO}/build/collections-root-${pytag}" "${REPO}/build/collections-root"; do
        if [ -d "${candidate}/ansible_collections/teamware/qmail" ]; then
            collections_root="$candidate"
            break
        fi
    done
fi
if [ -z "$collections_root" ] || [ ! -d "${collections_root%%:*}/ansible_collections" ]; then
    say "ERROR: no collection root with teamware.qmail (build/collections-root-*); run make venv"
    exit 1
fi
# A private copy of the root (symlinks), so that a `make venv` running meanwhile, which rebuilds
# build/collections-root-*, cannot pull the collections away under a running scenario.
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
for dir in "${collections_root%%:*}"/ansible_collections/*/*/; do
    ns="$(basename "$(dirname "$dir")")"
    mkdir -p "${work_dir}/collections/ansible_collections/${ns}"
    ln -s "$(readlink -f "$dir")" "${work_dir}/collections/ansible_collections/${ns}/$(basename "$dir")"
done
export ANSIBLE_COLLECTIONS_PATH="${work_dir}/collections"
say "molecule: $(command -v molecule); collections: ${collections_root}"

# ---- podman and the images
if [ "${LAB_SKIP_SETUP:-0}" != 1 ]; then
    bash lab/setup-podman.sh || { say "ERROR: lab/setup-podman.sh failed"; exit 1; }
    if [ "${LAB_NO_QMAIL:-0}" = 1 ]; then
        unset TEAMWARE_QMAIL_ARCHIVE TEAMWARE_QMAIL_USERS
    elif [ -z "${TEAMWARE_QMAIL_ARCHIVE:-}" ] && [ -f /opt/qmail-dist/qmail-installed.tar.gz ] \
         && [ -f /opt/qmail-dist/qmail-users.txt ]; then
        export TEAMWARE_QMAIL_ARCHIVE=/opt/qmail-dist/qmail-installed.tar.gz
        export TEAMWARE_QMAIL_USERS="${TEAMWARE_QMAIL_USERS:-/opt/qmail-dist/qmail-users.txt}"
        say "using the installed qmail in /opt/qmail-dist (TEAMWARE_QMAIL_ARCHIVE was not set)"
    fi
    bash lab/build-image.sh || { say "ERROR: lab/build-image.sh failed"; exit 1; }
fi
have_qmail_image=0
no_qmail_reason="NO QMAIL IMAGE (${LAB_QMAIL_IMAGE})"
if [ "${LAB_NO_QMAIL:-0}" = 1 ]; then
    no_qmail_reason="LAB_NO_QMAIL=1 (run as if there were no qmail image)"
elif podman image exists "$LAB_QMAIL_IMAGE" 2>/dev/null; then
    have_qmail_image=1
fi

# ---- which scenarios
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=()
    for file in molecule/*/molecule.yml; do
        scenarios+=("$(basename "$(dirname "$file")")")
    done
fi
for name in "${scenarios[@]}"; do
    if [ ! -f "molecule/${name}/molecule.yml" ]; then
        say "ERROR: no scenario ${name} (molecule/${name}/molecule.yml)"
        exit 1
    fi
done

# a platform with `image: qmail` (molecule/resources/create.yml maps it to LAB_QMAIL_IMAGE)
needs_qmail() { grep -Eq '^ +image: qmail *$' "molecule/$1/molecule.yml"; }

to_run=()
skipped=()
for name in "${scenarios[@]}"; do
    if needs_qmail "$name" && [ "$have_qmail_image" != 1 ]; then
        skipped+=("$name")
    else
        to_run+=("$name")
    fi
done
if [ ${#skipped[@]} -gt 0 ]; then
    banner "${#skipped[@]} SCENARIO(S) SKIPPED: ${no_qmail_reason}" \
           "skipped: ${skipped[*]}" \
           "They need a real qmail, which the repository never builds. Point TEAMWARE_QMAIL_ARCHIVE at a tar.gz" \
           "of an installed /var/qmail and TEAMWARE_QMAIL_USERS at its passwd/group lines (lab/README.md)."
fi

# ---- run
mkdir -p "$LOG_DIR"
status_dir="${work_dir}/status"
mkdir -p "$status_dir"

cleanup_scenario() {  # containers and network of a scenario, whatever molecule left
    local ids
    ids="$(podman ps -aq --filter "label=teamware-lab=twq-$1" 2>/dev/null)"
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086  # a list of ids
        podman rm -f -t 2 $ids >/dev/null 2>&1
    fi
    podman network rm -f "twq-$1" >/dev/null 2>&1 || true
}

run_one() {
    local name="$1" start rc
    start=$SECONDS
    timeout --kill-after=30 "$TIMEOUT" molecule --base-config "${REPO}/.config/molecule/config.yml" test -s "$name" \
        >"${LOG_DIR}/${name}.log" 2>&1
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "TIMEOUT after ${TIMEOUT}s" >>"${LOG_DIR}/${name}.log"
    fi
    cleanup_scenario "$name"
    echo "$rc $((SECONDS - start))" >"${status_dir}/${name}"
}

report_one() {
    local name="$1" rc secs
    read -r rc secs <"${status_dir}/${name}"
    if [ "$rc" -eq 0 ]; then
        say "$(printf '%-24s passed  %4ss' "$name" "$secs")"
    else
        say "$(printf '%-24s FAILED  %4ss  (exit %s, log %s)' "$name" "$secs" "$rc" "${LOG_DIR}/${name}.log")"
        echo "----- last lines of ${name}.log -----"
        grep -v '^\s*$' "${LOG_DIR}/${name}.log" | tail -n 60
        echo "----- end of ${name}.log -----"
    fi
}

total_start=$SECONDS
say "running ${#to_run[@]} scenario(s), ${JOBS} at a time; logs in ${LOG_DIR}"
declare -A reported=()
pending=("${to_run[@]}")
report_finished() {
    local name
    for name in "${to_run[@]}"; do
        if [ -f "${status_dir}/${name}" ] && [ -z "${reported[$name]:-}" ]; then
            report_one "$name"
            reported[$name]=1
        fi
    done
}
for name in "${pending[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
        report_finished
    done
    say "start ${name}"
    run_one "$name" &
done
wait
report_finished

passed=0
failed=0
printf '\n%-24s %-8s %6s\n' scenario result seconds
for name in "${scenarios[@]}"; do
    if [ -f "${status_dir}/${name}" ]; then
        read -r rc secs <"${status_dir}/${name}"
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1)); result=passed
        else
            failed=$((failed + 1)); result=FAILED
        fi
        printf '%-24s %-8s %6s\n' "$name" "$result" "$secs"
    else
        printf '%-24s %-8s %6s\n' "$name" SKIPPED -
    fi
done
printf '%-24s %-8s %6s\n' total "" "$((SECONDS - total_start))"
if [ ${#skipped[@]} -gt 0 ]; then
    banner "${#skipped[@]} SCENARIO(S) SKIPPED: ${no_qmail_reason}: ${skipped[*]}"
fi
echo "scenarios: ${passed} passed, ${failed} failed, ${#skipped[@]} skipped"
if [ "$failed" -gt 0 ] || [ ${#scenarios[@]} -eq 0 ]; then
    exit 1
fi
exit 0
