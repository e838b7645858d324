#!/usr/bin/env bash
# Prepare this (Debian 12, root) machine to run the teamware.qmail container lab
# with podman.  Idempotent: installs only what is missing, touches
# /etc/containers/containers.conf only when a required key is missing, and
# finishes by checking that `podman info` works.
#
# Works non-interactively (CI=true, no stdin).
#
# Environment:
#   LAB_CONTAINERS_CONF  config file to manage (default /etc/containers/containers.conf)
#   LAB_SKIP_APT=1       do not install packages (only configure and verify)
set -euo pipefail

CONF=${LAB_CONTAINERS_CONF:-/etc/containers/containers.conf}

log() { printf '[setup-podman] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

export DEBIAN_FRONTEND=noninteractive

# Packages the lab needs.
#   podman/runc/conmon     - container engine; runc because crun fails here
#   netavark/aardvark-dns  - podman networks with container-name DNS
#   iptables               - netavark programs NAT/forward rules with it
#   slirp4netns/passt      - rootless / user-mode networking helpers
#   catatonit              - the init used by `podman run --init`
#   uidmap                 - newuidmap/newgidmap (rootless use)
#   debootstrap            - build-image.sh builds the root fs with it
PACKAGES=(podman runc conmon netavark aardvark-dns iptables slirp4netns passt
          catatonit uidmap debootstrap)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${LAB_SKIP_APT:-0}" = 1 ]; then
        die "missing packages (LAB_SKIP_APT=1): ${missing[*]}"
    fi
    log "installing: ${missing[*]}"
    # Another apt/dpkg run may hold the lock (parallel jobs): wait for it.
    apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null
    # --no-install-recommends keeps buildah/fuse-overlayfs/dbus out; podman's
    # "crun | runc" dependency is satisfied by runc.
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null
else
    log "all packages already installed"
fi

# --- /etc/containers/containers.conf ----------------------------------------
# Required settings:
#   [containers] default_ulimits = []
#   [engine]     runtime = "runc"
#
# If the file is absent we write our own.  If it exists, every other setting is
# kept: a missing key is added to its table (the table is appended when
# missing), and a key set to another value is rewritten (the lab cannot work
# otherwise); the original is saved once as $CONF.lab-orig.

# ensure_key TABLE KEY VALUE
ensure_key() {
    local table=$1 key=$2 value=$3 tmp current
    current=$(awk -v t="[$table]" -v k="$key" '
        /^[[:space:]]*\[/ { s=$0; gsub(/[[:space:]]/, "", s); intable = (s == t); next }
        intable {
            line=$0; sub(/^[[:space:]]+/, "", line)
            if (line ~ "^" k "[[:space:]]*=") {
                sub("^" k "[[:space:]]*=[[:space:]]*", "", line); sub(/[[:space:]]*(#.*)?$/, "", line)
                print line; found=1; exit
            }
        }
        END { if (!found) print "<unset>" }' "$CONF")
    # compare ignoring blanks (runtime="runc" == runtime = "runc", [ ] == [])
    if [ "${current//[[:space:]]/}" = "${value//[[:space:]]/}" ]; then
        return 0
    fi
    [ -e "$CONF.lab-orig" ] || cp -p "$CONF" "$CONF.lab-orig"
    tmp=$(mktemp "${CONF}.XXXXXX")
    if [ "$current" != "<unset>" ]; then
        # replace the value in place (first occurrence inside the table)
        awk -v t="[$table]" -v k="$key" -v kv="$key = $value" '
            /^[[:space:]]*\[/ { s=$0; gsub(/[[:space:]]/, "", s); intable = (s == t); print; next }
            intable && !done {
                line=$0; sub(/^[[:space:]]+/, "", line)
                if (line ~ "^" k "[[:space:]]*=") { print kv; done=1; next }
            }
            { print }
        ' "$CONF" >"$tmp"
        log "changed [$table] $key from $current to $value in $CONF"
    elif grep -Eq "^[[:space:]]*\[[[:space:]]*${table}[[:space:]]*\][[:space:]]*$" "$CONF"; then
        # insert right after the table header
        awk -v t="[$table]" -v kv="$key = $value" '
            { print }
            /^[[:space:]]*\[/ { s=$0; gsub(/[[:space:]]/, "", s); if (s == t && !done) { print kv; done=1 } }
        ' "$CONF" >"$tmp"
        log "set [$table] $key = $value in $CONF"
    else
        { cat "$CONF"; printf '\n[%s]\n%s = %s\n' "$table" "$key" "$value"; } >"$tmp"
        log "added [$table] $key = $value to $CONF"
    fi
    chmod 0644 "$tmp"
    mv "$tmp" "$CONF"
}

mkdir -p "$(dirname "$CONF")"
if [ ! -e "$CONF" ]; then
    log "writing $CONF"
    cat >"$CONF" <<'EOF'
# Written by teamware.qmail lab/setup-podman.sh
[containers]
# The default RLIMIT_NOFILE/NPROC values cannot be applied on these machines.
default_ulimits = []

[engine]
# crun fails on these machines; use runc.
runtime = "runc"
EOF
    chmod 0644 "$CONF"
else
    ensure_key containers default_ulimits '[]'
    ensure_key engine runtime '"runc"'
fi

# --- verify ------------------------------------------------------------------
if ! out=$(podman info 2>&1 </dev/null); then
    printf '%s\n' "$out" >&2
    die "podman info failed"
fi
runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' </dev/null)
netbackend=$(podman info --format '{{.Host.NetworkBackend}}' </dev/null 2>/dev/null || echo unknown)
log "podman $(podman version --format '{{.Client.Version}}' </dev/null) ok: runtime=$runtime network=$netbackend"
[ "$runtime" = runc ] || log "WARNING: OCI runtime is $runtime, not runc"
