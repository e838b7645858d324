#!/usr/bin/env bash
# The sanity stage for one toolchain:
#   1. every ansible-test sanity test on the toolchain's own Python:
#        ansible-test sanity --local --python X.Y $SANITY_ARGS
#   2. (SANITY_COMPAT=1, the default) "compile" and "import" on every Python that
#      this ansible-core supports for modules (3.8-3.13 for 2.19, 3.9-3.14 for 2.21)
#      and that is installed here (pyenv), so module code that must run on older
#      managed hosts is checked too. Versions not installed are reported as skipped.
#
# Usage: scripts/sanity.sh 3.11|3.12 [EXTRA ANSIBLE-TEST ARGS...]
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-}"
shift

"${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
export SKIP_SETUP=1

rc=0
# shellcheck disable=SC2086  # SANITY_ARGS is a word list on purpose
"${REPO_ROOT}/scripts/ansible-test.sh" "$PYVER" sanity --local --python "$PYVER" ${SANITY_ARGS:-} "$@" || rc=1

if [ "${SANITY_COMPAT:-1}" = 1 ]; then
    # A directory holding python3.N for each installed interpreter ansible-test supports.
    # pyenv's shims must not be seen: a shim for a version not selected by `pyenv global`
    # exists but fails, which ansible-test would report as a test failure.
    bindir="${REPO_ROOT}/build/pythons-${PYTAG}"
    rm -rf "$bindir"; mkdir -p "$bindir"
    versions="$("${VENV_DIR}/bin/python" -c 'from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS as v; print(" ".join(v))')"
    found=()
    for v in $versions; do
        PYVER_SAVE="$PYVER"; PYVER="$v"
        if (tw_find_python >/dev/null 2>&1); then
            tw_find_python
            ln -s "$PYTHON_BIN" "$bindir/python$v"
            found+=("$v")
        fi
        PYVER="$PYVER_SAVE"
    done
    clean_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/\.pyenv/shims$' | paste -sd: -)"
    tw_log "${PYTAG}: compile/import on Pythons ${found[*]} (supported: ${versions})"
    PATH="${bindir}:${clean_path}" "${REPO_ROOT}/scripts/ansible-test.sh" "$PYVER" \
        sanity --local --test compile --test import "$@" || rc=1
fi
exit "$rc"
