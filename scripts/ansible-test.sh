#!/usr/bin/env bash
# Run ansible-test from a toolchain venv against a physical copy of this collection.
#
# Usage: scripts/ansible-test.sh 3.11|3.12 ANSIBLE-TEST-ARGS...
#   e.g. scripts/ansible-test.sh 3.12 sanity --local --python 3.12 -v
#        scripts/ansible-test.sh 3.11 sanity --local --python 3.11 --test validate-modules plugins/modules/foo.py
#
# ansible-test needs the collection at .../ansible_collections/teamware/qmail/ as a
# real directory (a symlink is not enough), so the files git knows about (tracked
# plus untracked-but-not-ignored: the same set `git ls-files --cached --others
# --exclude-standard` lists) are mirrored into
#     build/pyXY/ansible_collections/teamware/qmail/
# which gets its own (empty) git repo, so that ansible-test lists exactly those files
# with git instead of walking up to this repo. The dependency collections extracted
# by setup-venv.sh are symlinked beside it. Results: build/pyXY/ansible_collections/
# teamware/qmail/tests/output/.
#   SKIP_SETUP=1  do not run setup-venv.sh first (it is a ~1 s no-op when up to date)
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-}"
shift

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    "${REPO_ROOT}/scripts/setup-venv.sh" "$PYVER"
fi
[ -x "${VENV_DIR}/bin/ansible-test" ] || tw_die "${VENV_DIR}/bin/ansible-test missing: run scripts/setup-venv.sh ${PYVER}"

git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    || tw_die "${REPO_ROOT} is not a git work tree; ansible-test.sh copies the files git lists"

build_root="${REPO_ROOT}/build/${PYTAG}"
coll_root="${build_root}/ansible_collections"
copy="${coll_root}/teamware/qmail"
mkdir -p "$copy"

# 1. mirror the collection's files
git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard -- . \
    ':(exclude)build' ':(exclude).cache' ':(exclude).venv-*' \
    | "${VENV_DIR}/bin/python" "${REPO_ROOT}/scripts/sync_tree.py" "$REPO_ROOT" "$copy"

# 2. a git repo of its own (no commit needed: ansible-test lists cached + untracked files)
if [ ! -d "$copy/.git" ]; then
    git -C "$copy" init -q
fi
printf '%s\n' '/tests/output/' '__pycache__/' '*.pyc' > "$copy/.git/info/exclude"

# 3. dependency collections next to it
for nsdir in "$coll_root"/*/; do
    ns="$(basename "$nsdir")"
    for cdir in "$nsdir"*/; do
        [ -L "${cdir%/}" ] && rm -f "${cdir%/}"
    done
    [ "$ns" = teamware ] || rmdir "$nsdir" 2>/dev/null || true
done
for nsdir in "${COLL_CACHE}"/ansible_collections/*/; do
    ns="$(basename "$nsdir")"
    [ "$ns" = teamware ] && continue
    mkdir -p "$coll_root/$ns"
    for cdir in "$nsdir"*/; do
        ln -sfn "${cdir%/}" "$coll_root/$ns/$(basename "$cdir")"
    done
done

# 4. run ansible-test from the copy, with the venv first on PATH
export PATH="${VENV_DIR}/bin:${PATH}"
export ANSIBLE_COLLECTIONS_PATH="${build_root}"
unset ANSIBLE_TEST_CONTENT_ROOT
cd "$copy"
tw_log "${PYTAG}: ansible-test $* (in ${copy#"${REPO_ROOT}"/})"
set +e
ansible-test "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    tw_log "${PYTAG}: ansible-test exited ${rc}; results in ${copy#"${REPO_ROOT}"/}/tests/output/"
fi
exit "$rc"
