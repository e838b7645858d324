#!/usr/bin/env bash
# ansible-lint --profile production over the collection's roles and playbooks, with
# the dependency collections of the given toolchain. Skips cleanly (exit 0) when
# there is nothing for it to lint yet.
#
# Usage: scripts/lint.sh 3.11|3.12 [ANSIBLE-LINT-ARGS...]
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-}"
shift
cd "$REPO_ROOT"

# Anything ansible-lint would look at beyond galaxy.yml/meta: a role with content,
# a playbook, a molecule scenario.
content="$(git ls-files --cached --others --exclude-standard -- \
    'roles/*/tasks/*' 'roles/*/handlers/*' 'roles/*/defaults/*' 'roles/*/vars/*' 'roles/*/meta/*' \
    'playbooks/*.yml' 'playbooks/*.yaml' 'extensions/molecule/*' 'molecule/*' 'roles/*/molecule/*' | head -n1)"
if [ -z "$content" ]; then
    tw_log "${PYTAG}: lint: no roles or playbooks yet; nothing for ansible-lint to check"
    exit 0
fi

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    "${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
fi
export PATH="${VENV_DIR}/bin:${PATH}"
# the collection itself (symlink) and its dependencies; never reach for Galaxy
export ANSIBLE_COLLECTIONS_PATH="${REPO_ROOT}/build/collections-root-${PYTAG}"
export ANSIBLE_LOCAL_TEMP="${REPO_ROOT}/build/tmp-${PYTAG}"
mkdir -p "$ANSIBLE_LOCAL_TEMP"
# plain output in logs (ansible-lint otherwise writes colours and OSC 8 hyperlinks)
if [ ! -t 1 ]; then export NO_COLOR=1; fi

tw_log "${PYTAG}: ansible-lint --profile production --offline $*"
ansible-lint --profile production --offline "$@"
