#!/usr/bin/env bash
# Molecule stage. Runs, in this order of preference:
#   molecule/run.sh                      (a project-provided driver script)
#   molecule test --all                  when molecule/*/molecule.yml exist
#   molecule test --all in extensions/   when extensions/molecule/*/molecule.yml exist
# otherwise says there are no scenarios yet and exits 0.
#
# Usage: scripts/molecule.sh [3.11|3.12]      (toolchain; default 3.12)
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-3.12}"
shift || true
cd "$REPO_ROOT"

workdir=""
if [ -f molecule/run.sh ]; then
    workdir=script
elif compgen -G 'molecule/*/molecule.yml' >/dev/null; then
    workdir="$REPO_ROOT"
elif compgen -G 'extensions/molecule/*/molecule.yml' >/dev/null; then
    workdir="$REPO_ROOT/extensions"
else
    tw_log "molecule: no molecule scenarios yet"
    exit 0
fi

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    "${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
fi
export PATH="${VENV_DIR}/bin:${PATH}"
export ANSIBLE_COLLECTIONS_PATH="${REPO_ROOT}/build/collections-root-${PYTAG}"
export PY_COLORS="${PY_COLORS:-0}" ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"

if [ "$workdir" = script ]; then
    tw_log "${PYTAG}: molecule/run.sh $*"
    exec bash molecule/run.sh "$@"
fi
command -v podman >/dev/null 2>&1 \
    || tw_die "molecule scenarios need podman: run lab/setup-podman.sh (or apt-get install podman)"
cd "$workdir"
tw_log "${PYTAG}: molecule test --all $* (in ${workdir})"
exec molecule test --all "$@"
