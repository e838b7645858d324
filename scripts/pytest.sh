#!/usr/bin/env bash
# Run pytest from a toolchain venv over the given test directories (default:
# tests/unit tests/simulator), with the collection importable as
# ansible_collections.teamware.qmail via build/collections-root-pyXY.
#
# Usage: scripts/pytest.sh 3.11|3.12 [DIR...] [-- PYTEST-ARGS...]
#
# Missing directories are skipped. When none of the directories holds a test
# file (test_*.py / *_test.py) it says so and exits 0; if test files exist but
# pytest collects nothing (exit 5), that is a failure.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-}"
shift

dirs=()
extra=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
    dirs+=("$1"); shift
done
[ ${#dirs[@]} -gt 0 ] || dirs=(tests/unit tests/simulator)

cd "$REPO_ROOT"
present=()
for d in "${dirs[@]}"; do
    if [ -d "$d" ]; then present+=("$d"); else tw_log "${PYTAG}: ${d} does not exist; skipped"; fi
done
nfiles=0
if [ ${#present[@]} -gt 0 ]; then
    nfiles="$(find "${present[@]}" -type f \( -name 'test_*.py' -o -name '*_test.py' \) -not -path '*/__pycache__/*' | wc -l)"
fi
if [ "$nfiles" -eq 0 ]; then
    tw_log "${PYTAG}: no unit tests yet (no test_*.py in: ${dirs[*]})"
    exit 0
fi

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    "${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
fi
croot="${REPO_ROOT}/build/collections-root-${PYTAG}"
[ -d "$croot/ansible_collections" ] || tw_die "missing ${croot}: run scripts/setup-venv.sh ${PYVER}"

pp="$croot"
[ -d "${REPO_ROOT}/simulator" ] && pp="${pp}:${REPO_ROOT}/simulator"
export PYTHONPATH="${pp}${PYTHONPATH:+:${PYTHONPATH}}"
export PATH="${VENV_DIR}/bin:${PATH}"
export PYTHONDONTWRITEBYTECODE=1

tw_log "${PYTAG}: pytest ${present[*]} (${nfiles} test files; ansible-core $("${VENV_DIR}/bin/python" -c 'import ansible.release as r; print(r.__version__)'))"
set +e
"${VENV_DIR}/bin/python" -m pytest -p no:cacheprovider "${present[@]}" ${extra[@]+"${extra[@]}"}
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    tw_log "${PYTAG}: FAIL: pytest collected no tests although ${nfiles} test files exist"
    exit 1
fi
[ "$rc" -eq 0 ] || tw_log "${PYTAG}: pytest exited ${rc}"
exit "$rc"
