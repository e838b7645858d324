#!/usr/bin/env bash
# Build the teamware.qmail execution environment (EE) with ansible-builder 3 from the lab's local base image,
# without network access during the image build. Prints the image name on stdout (the rest goes to stderr).
#
#   lab/ee-build.sh            build, unless an image of the same inputs exists (then: nothing to do)
#   EE_FORCE=1 lab/ee-build.sh build again
#
# The image is docs/ee/execution-environment.yml (the definition sites build) made buildable here by
# lab/ee/lab_definition.py: base image LAB_IMAGE (localhost/teamware-qmail-lab:bookworm, never pulled),
# collections from tarballs (community.general and ansible.posix packed from the toolchain's copy of the
# `ansible` PyPI package, .cache/collections-py311, which `make venv-3.11` extracts; teamware.qmail from
# `ansible-galaxy collection build`), and every Python package from wheels downloaded on this machine
# beforehand (pinned by requirements/py311.txt and lab/ee/constraints.txt; cached in .cache/ee/wheels-<hash>).
# `podman build --pull=never --network=none`: the build reaches no registry and no package index.
#
# Cache: the image is tagged localhost/teamware-qmail-ee:<hash of its inputs> (this script, lab/ee/*, the
# definition, the base image's id, the wheels, the collections' MANIFEST.json, ansible-builder's version), and
# also :latest. An image with the current hash is kept; older ones are removed.
#
# Variables: LAB_IMAGE, EE_IMAGE_REPO (localhost/teamware-qmail-ee), EE_FORCE=1, EE_BUILDER_VERSION (3.2.0).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
REPO="$(pwd)"

LAB_IMAGE="${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}"
EE_IMAGE_REPO="${EE_IMAGE_REPO:-localhost/teamware-qmail-ee}"
EE_BUILDER_VERSION="${EE_BUILDER_VERSION:-3.2.0}"
SITE_DEF="docs/ee/execution-environment.yml"
CACHE="${REPO}/.cache/ee"
WORK="${REPO}/build/ee/lab"
COLLECTIONS="${REPO}/.cache/collections-py311/ansible_collections"
TOOLCHAIN="${REPO}/.venv-py311"

log() { printf '[ee-build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# pip, without the harmless "Location 'file:///opt/...' is ignored" lines of this machine's pip.conf
quiet_pip() { "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; } >&2; return "${PIPESTATUS[0]}"; }

command -v podman >/dev/null || die "podman not found (lab/setup-podman.sh)"
podman image exists "$LAB_IMAGE" || die "no base image ${LAB_IMAGE} (lab/build-image.sh)"
[ -x "${TOOLCHAIN}/bin/ansible-galaxy" ] || die "no toolchain ${TOOLCHAIN} (make venv-3.11)"
[ -d "${COLLECTIONS}/community/general" ] || die "no ${COLLECTIONS} (make venv-3.11)"

# ---- ansible-builder, in a virtualenv of its own -------------------------------------------------------
builder_venv="${CACHE}/builder-venv"
if [ "$(cat "${builder_venv}/.tw-version" 2>/dev/null || true)" != "$EE_BUILDER_VERSION" ]; then
    log "installing ansible-builder ${EE_BUILDER_VERSION} into ${builder_venv}"
    rm -rf "$builder_venv"
    "$(readlink -f "${TOOLCHAIN}/bin/python")" -m venv "$builder_venv"
    quiet_pip "${builder_venv}/bin/python" -m pip install --quiet "ansible-builder==${EE_BUILDER_VERSION}"
    echo "$EE_BUILDER_VERSION" >"${builder_venv}/.tw-version"
fi
py="${builder_venv}/bin/python"

# ---- the inputs: collection tarballs and wheels ----------------------------------------------------------
rm -rf "$WORK"
mkdir -p "${WORK}/collections" "${WORK}/wheels"
log "ansible-galaxy collection build (teamware.qmail)"
"${TOOLCHAIN}/bin/ansible-galaxy" collection build --force --output-path "${WORK}/collections" . >/dev/null
while read -r name; do
    [ -n "$name" ] || continue
    dir="${COLLECTIONS}/${name%%.*}/${name#*.}"
    [ -f "${dir}/MANIFEST.json" ] || die "${name} is not in ${COLLECTIONS} (requirements/collections.txt)"
    log "packed ${name}: $("$py" lab/ee/lab_definition.py pack "$dir" "${WORK}/collections")"
done < <("$py" lab/ee/lab_definition.py collections "$SITE_DEF")

"$py" lab/ee/lab_definition.py requirements "$SITE_DEF" >"${WORK}/requirements.txt"
wheel_key="$(cat "${WORK}/requirements.txt" requirements/py311.txt lab/ee/constraints.txt | sha256sum | cut -c1-16)"
wheels="${CACHE}/wheels-${wheel_key}"
if [ ! -d "$wheels" ]; then
    log "downloading the image's Python packages as wheels into ${wheels}"
    rm -rf "${wheels}.tmp"
    quiet_pip "${TOOLCHAIN}/bin/python" -m pip wheel --quiet -w "${wheels}.tmp" \
        -c requirements/py311.txt -c lab/ee/constraints.txt -r "${WORK}/requirements.txt"
    find "$CACHE" -maxdepth 1 -name 'wheels-*' ! -name "wheels-${wheel_key}*" -exec rm -rf {} +
    mv "${wheels}.tmp" "$wheels"
fi
cp -l "$wheels"/*.whl "${WORK}/wheels/" 2>/dev/null || cp "$wheels"/*.whl "${WORK}/wheels/"

# ---- the hash of everything the image is made of ----------------------------------------------------------
builder_version="$("${builder_venv}/bin/ansible-builder" --version)"
hash="$(
    {
        sha256sum lab/ee-build.sh lab/ee/* "$SITE_DEF"
        podman image inspect --format '{{.Id}}' "$LAB_IMAGE"
        (cd "$WORK" && sha256sum wheels/*.whl)
        for tarball in "${WORK}"/collections/*.tar.gz; do
            printf '%s ' "$(basename "$tarball")"
            tar -xzOf "$tarball" MANIFEST.json | sha256sum
        done
        echo "ansible-builder ${builder_version}"
    } | sha256sum | cut -c1-16
)"
image="${EE_IMAGE_REPO}:${hash}"
if [ "${EE_FORCE:-0}" != 1 ] && podman image exists "$image"; then
    log "${image} is up to date (nothing to build)"
    echo "$image"
    exit 0
fi

# ---- build -------------------------------------------------------------------------------------------------
"$py" lab/ee/lab_definition.py definition "$SITE_DEF" "${WORK}/execution-environment.yml" "$LAB_IMAGE" "$image"
log "ansible-builder ${builder_version} build from ${LAB_IMAGE} (log: ${WORK}/build.log)"
started=$SECONDS
if ! "${builder_venv}/bin/ansible-builder" build -v 3 --container-runtime podman \
        -f "${WORK}/execution-environment.yml" -c "${WORK}/context" \
        --extra-build-cli-args "--pull=never --network=none --layers=false" >"${WORK}/build.log" 2>&1; then
    tail -n 40 "${WORK}/build.log" >&2
    die "ansible-builder build failed (log: ${WORK}/build.log)"
fi
podman tag "$image" "${EE_IMAGE_REPO}:latest"
# keep one image: drop the tags of earlier inputs
podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=${EE_IMAGE_REPO}" |
    while read -r old; do
        case "$old" in "$image" | "${EE_IMAGE_REPO}:latest") ;; *) podman rmi "$old" >/dev/null 2>&1 || true ;; esac
    done
log "built ${image} in $((SECONDS - started))s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1000000}'))"
echo "$image"
