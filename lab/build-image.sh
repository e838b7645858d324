#!/usr/bin/env bash
# Build the local container images for the teamware.qmail Molecule lab.
#
#   1. base image  (LAB_IMAGE, default localhost/teamware-qmail-lab:bookworm)
#      debootstrap --variant=minbase of Debian $LAB_SUITE from the mirror apt
#      uses on this machine, plus the packages in LAB_PACKAGES below, imported
#      with `podman import`.  CMD is `svscan /service` (daemontools; no systemd).
#   2. qmail image (LAB_QMAIL_IMAGE, default <LAB_IMAGE>-qmail), only when
#      TEAMWARE_QMAIL_ARCHIVE names a tar.gz of an installed /var/qmail: adds
#      the users/groups from TEAMWARE_QMAIL_USERS (passwd and group lines,
#      same uid/gid) and unpacks the archive at /.  This repo never builds
#      qmail itself.
#
# Idempotent: an image whose label org.teamware.lab.hash matches the inputs is
# kept.  The debootstrapped root fs is cached as a tarball (and the .debs are
# cached) under LAB_CACHE_DIR, so rebuilding the image after `podman rmi` is
# fast.  Run lab/setup-podman.sh first.
#
# Environment (all optional):
#   LAB_IMAGE              base image tag   (localhost/teamware-qmail-lab:bookworm)
#   LAB_QMAIL_IMAGE        qmail image tag  (${LAB_IMAGE}-qmail)
#   LAB_SUITE              Debian suite     (bookworm)
#   LAB_MIRROR             Debian mirror    (read from /etc/apt/sources.list{,.d/*})
#   LAB_SECURITY_MIRROR    security mirror  (read likewise; "none" to skip)
#   LAB_CACHE_DIR          cache directory  (/var/cache/teamware-qmail-lab)
#   LAB_FORCE=1            rebuild even if the image is up to date
#                          (LAB_FORCE=2 also ignores the cached root fs)
#   TEAMWARE_QMAIL_ARCHIVE tar.gz of an installed /var/qmail (enables image 2)
#   TEAMWARE_QMAIL_USERS   file with the qmail passwd + group lines
set -euo pipefail

LAB_IMAGE=${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}
LAB_QMAIL_IMAGE=${LAB_QMAIL_IMAGE:-${LAB_IMAGE}-qmail}
LAB_SUITE=${LAB_SUITE:-bookworm}
LAB_CACHE_DIR=${LAB_CACHE_DIR:-/var/cache/teamware-qmail-lab}
LAB_FORCE=${LAB_FORCE:-0}
HASH_LABEL=org.teamware.lab.hash

# Packages installed on top of minbase.  Changing this list changes the hash
# and so triggers a rebuild.
#   python3                 - Ansible / testinfra
#   daemontools             - svscan/supervise/svc (not daemontools-run: it
#                             wants an init; we run `svscan /service` as CMD)
#   ucspi-tcp               - tcpserver, tcprules, tcprulescheck
#   tcpd                    - tcpdmatch, hosts.allow/deny handling
#   openbsd-inetd           - inetd (service start disabled by policy-rc.d)
#   swaks                   - SMTP test client
#   sudo                    - an unprivileged admin who escalates, as on most hosts
#   openssh-server          - Ansible over SSH, as AWX and execution environments
#                             connect (not started by default; host keys are
#                             made per container, none are in the image)
#   iproute2 procps netbase ca-certificates less - the usual basics
LAB_PACKAGES=(python3 daemontools ucspi-tcp tcpd openbsd-inetd swaks
              sudo openssh-server
              iproute2 procps netbase ca-certificates less)

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
for cmd in podman debootstrap sha256sum flock tar; do
    command -v "$cmd" >/dev/null || die "$cmd not found (run lab/setup-podman.sh)"
done

SELF=$(readlink -f "${BASH_SOURCE[0]}")

# --- mirror detection --------------------------------------------------------
# Print "URI SUITE" for every enabled `deb` source apt uses (one-line *.list
# and deb822 *.sources formats).
apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
            awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk '
            function flush(   i, j, nu, ns, u, s) {
                if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/) {
                    nu = split(uris, u, " "); ns = split(suites, s, " ")
                    for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
                }
                types = uris = suites = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            /^[A-Za-z-]+:/ {
                key = tolower($1); sub(/:$/, "", key); val = $0
                sub(/^[^:]*:[[:space:]]*/, "", val); field = key
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = tolower(val)
                next
            }
            /^[[:space:]]/ {   # continuation line
                val = $0; sub(/^[[:space:]]+/, "", val)
                if (field == "uris") uris = uris " " val
                else if (field == "suites") suites = suites " " val
                else if (field == "types") types = types " " val
            }
            END { flush() }' "$f"
    done
}

# first URI serving suite $1
mirror_for() {
    apt_sources | awk -v s="$1" '$2 == s { sub(/\/+$/, "", $1); print $1; exit }'
}

# --- hashing -----------------------------------------------------------------
# The base image depends on the part of this script above "2. qmail image" (package list,
# chroot setup) and on the suite; the mirror is deliberately not part of it.
base_hash() {
    { sed "/^# --- 2. qmail image/,\$d" "$SELF" | sha256sum; printf '%s\n' "$LAB_SUITE" "${LAB_PACKAGES[@]}"; } |
        sha256sum | cut -c1-16
}

image_label() {   # image label -> value ("" if no image / no label)
    podman image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2>/dev/null || true
}

image_id() {
    podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true
}

# remove a superseded image id, unless something still uses it
drop_old_image() {
    local old=$1 new
    new=$(image_id "$2")
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
        if podman rmi "$old" >/dev/null 2>&1; then
            log "removed superseded image ${old:0:12}"
        else
            log "kept superseded image ${old:0:12} (in use)"
        fi
    fi
}

mkdir -p "$LAB_CACHE_DIR/debs/partial"
exec 9>"$LAB_CACHE_DIR/lock"
flock 9   # one build at a time

# --- chroot helpers ----------------------------------------------------------
ROOTFS=""
MOUNTS=()
cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then
        rm -rf --one-file-system "$ROOTFS"
    fi
}
trap cleanup EXIT

in_chroot() {
    chroot "$ROOTFS" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@" </dev/null
}

build_rootfs() {   # $1 = output tarball
    local out=$1 mirror security keyring=()
    mirror=${LAB_MIRROR:-$(mirror_for "$LAB_SUITE")}
    [ -n "$mirror" ] || die "no apt source for suite $LAB_SUITE found; set LAB_MIRROR"
    security=${LAB_SECURITY_MIRROR:-$(mirror_for "$LAB_SUITE-security")}
    [ "$security" != none ] || security=""
    [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
        keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)

    ROOTFS=$(mktemp -d "$LAB_CACHE_DIR/rootfs.XXXXXX")
    chmod 0755 "$ROOTFS"
    log "debootstrap --variant=minbase $LAB_SUITE from $mirror"
    debootstrap --variant=minbase "${keyring[@]}" \
        --cache-dir="$LAB_CACHE_DIR/debs" \
        "$LAB_SUITE" "$ROOTFS" "$mirror" </dev/null >"$LAB_CACHE_DIR/debootstrap.log" 2>&1 ||
        { tail -n 30 "$LAB_CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $LAB_CACHE_DIR/debootstrap.log)"; }

    # No service may be started while packages are installed (no init here).
    # Kept in the image so roles installing packages don't try either.
    printf '#!/bin/sh\n# teamware.qmail lab: never start services from maintainer scripts\nexit 101\n' \
        >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"

    # Slim like the usual container images: no docs (copyrights kept), man
    # pages or translations.  Kept in the image for later installs too.
    cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/teamware-lab-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF

    {
        echo "deb $mirror $LAB_SUITE main"
        echo "deb $mirror $LAB_SUITE-updates main"
        [ -z "$security" ] || echo "deb $security $LAB_SUITE-security main"
    } >"$ROOTFS/etc/apt/sources.list"

    mount -t proc proc "$ROOTFS/proc" && MOUNTS+=("$ROOTFS/proc")
    mount --bind "$LAB_CACHE_DIR/debs" "$ROOTFS/var/cache/apt/archives" &&
        MOUNTS+=("$ROOTFS/var/cache/apt/archives")
    # debootstrap --cache-dir keeps no lock/partial; apt needs them
    mkdir -p "$ROOTFS/var/cache/apt/archives/partial"

    log "installing: ${LAB_PACKAGES[*]}"
    {
        in_chroot apt-get update &&
        in_chroot apt-get -y -o Dpkg::Options::=--force-confold dist-upgrade &&
        in_chroot apt-get -y --no-install-recommends \
            -o Dpkg::Options::=--force-confold install "${LAB_PACKAGES[@]}"
    } >"$LAB_CACHE_DIR/apt.log" 2>&1 ||
        { tail -n 30 "$LAB_CACHE_DIR/apt.log" >&2; die "apt-get in chroot failed (log: $LAB_CACHE_DIR/apt.log)"; }

    umount "$ROOTFS/var/cache/apt/archives"
    umount "$ROOTFS/proc"
    MOUNTS=()

    # daemontools service dir; /etc/service is where Debian's daemontools-run
    # would put it, so point it at the same place.
    mkdir -p "$ROOTFS/service"
    [ -e "$ROOTFS/etc/service" ] || ln -s /service "$ROOTFS/etc/service"

    # shrink: files of the base packages that the dpkg excludes above would
    # have skipped, .debs debootstrap left behind, and apt's lists and caches
    # (re-creatable with apt-get update)
    find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
    find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/lintian/*
    rm -f "$ROOTFS"/var/cache/apt/archives/*.deb
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
        "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old \
        "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache
    : >"$ROOTFS/var/log/dpkg.log"
    # no SSH host keys in the image: every container that runs sshd makes its own
    rm -f "$ROOTFS"/etc/ssh/ssh_host_*
    # podman manages these in every container
    : >"$ROOTFS/etc/resolv.conf"
    : >"$ROOTFS/etc/hostname"
    # a machine-id is per host; leave it empty
    [ ! -e "$ROOTFS/etc/machine-id" ] || : >"$ROOTFS/etc/machine-id"

    log "packing root fs to $out"
    tar --numeric-owner --xattrs -C "$ROOTFS" -cf "$out.tmp" .
    mv "$out.tmp" "$out"
    rm -rf --one-file-system "$ROOTFS"
    ROOTFS=""
}

# --- 1. base image -----------------------------------------------------------
build_base() {
    local hash tarball old started
    hash=$(base_hash)
    tarball="$LAB_CACHE_DIR/rootfs-$LAB_SUITE-$hash.tar"

    if [ "$LAB_FORCE" = 0 ] && [ "$(image_label "$LAB_IMAGE" "$HASH_LABEL")" = "$hash" ]; then
        log "$LAB_IMAGE is up to date ($HASH_LABEL=$hash)"
        return 0
    fi
    started=$SECONDS
    if [ "$LAB_FORCE" = 2 ] || [ ! -s "$tarball" ]; then
        build_rootfs "$tarball"
        # keep only the current root fs tarball for this suite
        find "$LAB_CACHE_DIR" -maxdepth 1 -name "rootfs-$LAB_SUITE-*.tar" \
            ! -name "rootfs-$LAB_SUITE-$hash.tar" -delete
    else
        log "using cached root fs $tarball"
    fi

    old=$(image_id "$LAB_IMAGE")
    log "importing $LAB_IMAGE"
    podman import --quiet \
        --change 'CMD ["/usr/bin/svscan", "/service"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'WORKDIR /' \
        --change "LABEL $HASH_LABEL=$hash" \
        --change "LABEL org.teamware.lab.suite=$LAB_SUITE" \
        --message "teamware.qmail lab base ($LAB_SUITE, $hash)" \
        "$tarball" "$LAB_IMAGE" </dev/null >/dev/null
    drop_old_image "$old" "$LAB_IMAGE"
    log "built $LAB_IMAGE in $((SECONDS - started))s"
}

# --- 2. qmail image ----------------------------------------------------------
build_qmail() {
    local archive=${TEAMWARE_QMAIL_ARCHIVE:-} users=${TEAMWARE_QMAIL_USERS:-}
    local hash ctx old started
    if [ -z "$archive" ]; then
        log "################################################################"
        log "## TEAMWARE_QMAIL_ARCHIVE is not set: SKIPPING the qmail image"
        log "## ($LAB_QMAIL_IMAGE). Set it to a tar.gz of an installed"
        log "## /var/qmail and TEAMWARE_QMAIL_USERS to its passwd/group lines."
        log "################################################################"
        return 0
    fi
    [ -r "$archive" ] || die "TEAMWARE_QMAIL_ARCHIVE=$archive is not readable"
    [ -n "$users" ] || die "TEAMWARE_QMAIL_USERS must be set with TEAMWARE_QMAIL_ARCHIVE"
    [ -r "$users" ] || die "TEAMWARE_QMAIL_USERS=$users is not readable"

    hash=$({ image_id "$LAB_IMAGE"; sha256sum <"$SELF"; sha256sum <"$archive"; sha256sum <"$users"; } |
        sha256sum | cut -c1-16)
    if [ "$LAB_FORCE" = 0 ] && [ "$(image_label "$LAB_QMAIL_IMAGE" "$HASH_LABEL")" = "$hash" ]; then
        log "$LAB_QMAIL_IMAGE is up to date ($HASH_LABEL=$hash)"
        return 0
    fi
    started=$SECONDS
    ctx=$(mktemp -d "$LAB_CACHE_DIR/qmail-ctx.XXXXXX")
    # shellcheck disable=SC2064  # expand $ctx now
    trap "rm -rf '$ctx'; cleanup" EXIT
    cp "$archive" "$ctx/qmail.tar.gz"
    cp "$users" "$ctx/users.txt"

    cat >"$ctx/add-users.sh" <<'EOF'
#!/bin/sh
# Add the groups and users listed in $1 (lines from /etc/group: 4 fields,
# lines from /etc/passwd: 7 fields) with the same ids.
set -eu
f=$1
# groups first
awk -F: 'NF == 4 && $1 !~ /^#/' "$f" | while IFS=: read -r name _ gid _; do
    cur=$(getent group "$name" | cut -d: -f3 || true)
    sys=""; [ "$gid" -ge 1000 ] || sys=-r   # system range: no UID_MIN warning
    if [ -z "$cur" ]; then
        groupadd $sys -g "$gid" "$name"
    elif [ "$cur" != "$gid" ]; then
        echo "group $name exists with gid $cur, wanted $gid" >&2; exit 1
    fi
done
awk -F: 'NF == 7 && $1 !~ /^#/' "$f" | while IFS=: read -r name _ uid gid gecos home shell; do
    cur=$(getent passwd "$name" | cut -d: -f3 || true)
    sys=""; [ "$uid" -ge 1000 ] || sys=-r
    if [ -z "$cur" ]; then
        useradd $sys -M -N -u "$uid" -g "$gid" -c "$gecos" -d "$home" -s "$shell" "$name"
    elif [ "$cur" != "$uid" ]; then
        echo "user $name exists with uid $cur, wanted $uid" >&2; exit 1
    fi
done
# supplementary group members
awk -F: 'NF == 4 && $1 !~ /^#/ && $4 != ""' "$f" | while IFS=: read -r name _ _ members; do
    for m in $(echo "$members" | tr ',' ' '); do
        usermod -a -G "$name" "$m"
    done
done
EOF

    cat >"$ctx/Containerfile" <<EOF
FROM $LAB_IMAGE
RUN --mount=type=bind,source=.,target=/lab-ctx,ro \\
    sh /lab-ctx/add-users.sh /lab-ctx/users.txt && \\
    tar --numeric-owner --no-overwrite-dir -xpzf /lab-ctx/qmail.tar.gz -C / && \\
    rm -f /var/log/lastlog /var/log/faillog
LABEL $HASH_LABEL=$hash
EOF
    old=$(image_id "$LAB_QMAIL_IMAGE")
    log "building $LAB_QMAIL_IMAGE from $archive"
    podman build --pull=never --network=none --layers=false \
        -t "$LAB_QMAIL_IMAGE" -f "$ctx/Containerfile" "$ctx" </dev/null >"$LAB_CACHE_DIR/qmail-build.log" 2>&1 ||
        { tail -n 30 "$LAB_CACHE_DIR/qmail-build.log" >&2; die "podman build failed (log: $LAB_CACHE_DIR/qmail-build.log)"; }
    rm -rf "$ctx"
    trap cleanup EXIT
    drop_old_image "$old" "$LAB_QMAIL_IMAGE"
    log "built $LAB_QMAIL_IMAGE in $((SECONDS - started))s"
}

build_base
build_qmail
podman image ls --filter "reference=${LAB_IMAGE%%:*}" </dev/null >&2
