#!/usr/bin/env bash
# Integration stage. Runs tests/integration/run.sh when it exists (with the
# toolchain venv first on PATH); otherwise pytest over tests/integration when it
# holds test files (under every toolchain); otherwise says there is nothing yet.
#
# Usage: scripts/integration.sh [3.11|3.12 ...]    (default: 3.11 3.12)
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
pyvers=("$@")
[ ${#pyvers[@]} -gt 0 ] || read -r -a pyvers <<< "$TW_PYVERS"

if [ -f tests/integration/run.sh ]; then
    tw_resolve_pyver "${pyvers[-1]}"
    if [ "${SKIP_SETUP:-0}" != 1 ]; then
        "${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
    fi
    export PATH="${VENV_DIR}/bin:${PATH}"
    export ANSIBLE_COLLECTIONS_PATH="${REPO_ROOT}/build/collections-root-${PYTAG}"
    export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH}${PYTHONPATH:+:${PYTHONPATH}}"
    tw_log "${PYTAG}: tests/integration/run.sh"
    exec bash tests/integration/run.sh
fi

if [ -z "$(find tests/integration -type f \( -name 'test_*.py' -o -name '*_test.py' \) 2>/dev/null | head -n1)" ]; then
    tw_log "integration: no integration tests yet"
    exit 0
fi
rc=0
for v in "${pyvers[@]}"; do
    "${REPO_ROOT}/scripts/pytest.sh" "$v" tests/integration || rc=1
done
exit "$rc"
