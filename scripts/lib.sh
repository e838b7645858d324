# shellcheck shell=bash
# Shared helpers for the teamware.qmail developer/CI scripts. Source it; do not run it.
#
#   tw_resolve_pyver ARG   -> sets PYVER (3.11), PYTAG (py311)
#   tw_find_python         -> sets PYTHON_BIN (a base interpreter of $PYVER)
#   tw_hash FILE...        -> prints one sha256 over the given files' contents
#   tw_log MSG             -> timestamped message on stderr

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

# Toolchains we support: Python version -> ansible-core series (see requirements/).
TW_PYVERS="3.11 3.12"

tw_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tw_die() { tw_log "ERROR: $*"; exit 1; }

tw_resolve_pyver() {
    local arg="${1:-}"
    case "$arg" in
        3.11|311|py311|python3.11) PYVER=3.11 ;;
        3.12|312|py312|python3.12) PYVER=3.12 ;;
        *) tw_die "unsupported Python version '${arg}' (use one of: ${TW_PYVERS})" ;;
    esac
    PYTAG="py${PYVER//./}"
    VENV_DIR="${REPO_ROOT}/.venv-${PYTAG}"
    COLL_CACHE="${REPO_ROOT}/.cache/collections-${PYTAG}"
    export PYVER PYTAG VENV_DIR COLL_CACHE
}

# Find a base interpreter for $PYVER: pyenv install first, then PATH.
tw_find_python() {
    local cand
    PYTHON_BIN=""
    for cand in \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"${PYVER}".*/bin/python"${PYVER}" \
        "$(command -v "python${PYVER}" 2>/dev/null || true)" \
        /usr/bin/python"${PYVER}" /usr/local/bin/python"${PYVER}"; do
        if [ -z "$cand" ] || [ ! -x "$cand" ]; then
            continue
        fi
        # a pyenv shim may exist without the version installed; make sure it runs
        if "$cand" -c 'import sys, venv; sys.exit(0 if "%d.%d" % sys.version_info[:2] == "'"${PYVER}"'" else 1)' 2>/dev/null; then
            PYTHON_BIN="$cand"
            break
        fi
    done
    [ -n "$PYTHON_BIN" ] || tw_die "no Python ${PYVER} interpreter with venv support found (looked in ~/.pyenv/versions and PATH)"
    export PYTHON_BIN
}

tw_hash() {
    cat "$@" | sha256sum | cut -d' ' -f1
}

# Run a pip command, hiding the harmless "Location 'file:///opt/...' is ignored"
# noise this machine's extra local indexes produce. Exit status is the command's.
tw_pip() {
    "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; } >&2
}
