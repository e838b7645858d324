#!/usr/bin/env bash
# Create/refresh one toolchain: .venv-pyXY, its dependency collections and the
# ansible-test get-pip stand-in. Idempotent: each step is skipped while its stamp
# (a hash of the inputs) matches. Works unattended (CI=true, no stdin).
#
# Usage: scripts/setup-venv.sh 3.11|3.12        (also accepts 311, py311, ...)
#   FORCE=1 scripts/setup-venv.sh 3.11           redo every step
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"
tw_resolve_pyver "${1:-}"

export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
cd "$REPO_ROOT"

req_file="requirements/${PYTAG}.txt"
ansible_file="requirements/ansible-${PYTAG}.txt"
coll_file="requirements/collections.txt"
for f in "$req_file" "$ansible_file" "$coll_file"; do
    [ -f "$f" ] || tw_die "missing $f"
done

# ---- 1. the virtualenv -------------------------------------------------------
venv_stamp="${VENV_DIR}/.tw-stamp"
venv_hash="$(tw_hash "$req_file" scripts/setup-venv.sh)"
if [ "${FORCE:-0}" != 1 ] && [ -x "${VENV_DIR}/bin/python" ] && [ -f "$venv_stamp" ] \
   && [ "$(cat "$venv_stamp")" = "$venv_hash" ] && "${VENV_DIR}/bin/python" -c 'pass' 2>/dev/null; then
    tw_log "${PYTAG}: venv up to date (${VENV_DIR})"
else
    tw_find_python
    # Requirements changed (or first run): start from an empty venv so that packages
    # dropped from the lock file do not linger.
    tw_log "${PYTAG}: creating ${VENV_DIR} with ${PYTHON_BIN}"
    rm -rf "$VENV_DIR"
    "$PYTHON_BIN" -m venv "$VENV_DIR"
    tw_log "${PYTAG}: installing ${req_file}"
    tw_pip "${VENV_DIR}/bin/python" -m pip install --quiet --no-input -r "$req_file"
    "${VENV_DIR}/bin/python" -m pip check >/dev/null || tw_log "${PYTAG}: WARNING: pip check reports conflicts"
    echo "$venv_hash" > "$venv_stamp"
fi
"${VENV_DIR}/bin/python" -c 'import ansible, ansible_test, cdblib, pytest' \
    || tw_die "${PYTAG}: venv is missing core packages; rerun with FORCE=1"

# ---- 2. dependency collections out of the "ansible" package -----------------
coll_stamp="${COLL_CACHE}/.tw-stamp"
coll_hash="$(tw_hash "$ansible_file" "$coll_file" scripts/extract_collections.py)"
if [ "${FORCE:-0}" != 1 ] && [ -f "$coll_stamp" ] && [ "$(cat "$coll_stamp")" = "$coll_hash" ]; then
    tw_log "${PYTAG}: collections up to date ($(tr '\n' ' ' < "${COLL_CACHE}/collections.txt"))"
else
    dl="${REPO_ROOT}/.cache/download-${PYTAG}"
    rm -rf "$dl"; mkdir -p "$dl"
    tw_log "${PYTAG}: downloading $(grep -v '^#' "$ansible_file" | tr -d ' ')"
    tw_pip "${VENV_DIR}/bin/python" -m pip download --quiet --no-input --no-deps -d "$dl" -r "$ansible_file"
    archives=("$dl"/ansible-*)
    archive="${archives[0]}"
    [ -f "$archive" ] || tw_die "pip download produced no ansible archive"
    "${VENV_DIR}/bin/python" scripts/extract_collections.py "$archive" "$COLL_CACHE" "$coll_file"
    rm -rf "$dl"
    echo "$coll_hash" > "$coll_stamp"
fi

# ---- 3. get-pip stand-in for ansible-test's sanity venvs --------------------
tw_pip "${VENV_DIR}/bin/python" scripts/install_get_pip.py

# ---- 4. collection root for pytest (symlinks, cheap: always rebuilt) --------
croot="${REPO_ROOT}/build/collections-root-${PYTAG}/ansible_collections"
rm -rf "$croot"
mkdir -p "$croot/teamware"
ln -s "$REPO_ROOT" "$croot/teamware/qmail"
for nsdir in "${COLL_CACHE}"/ansible_collections/*/; do
    ns="$(basename "$nsdir")"
    mkdir -p "$croot/$ns"
    for cdir in "$nsdir"*/; do
        ln -s "${cdir%/}" "$croot/$ns/$(basename "$cdir")"
    done
done
tw_log "${PYTAG}: ready: ansible-core $("${VENV_DIR}/bin/python" -c 'import ansible.release as r; print(r.__version__)'), collections root build/collections-root-${PYTAG}"
