#!/usr/bin/env bash
# The teamware.qmail demo (`make demo`): a qmail host and Teamware Office in podman containers, configured by
# site.yml for one integration method, then a test message to a Teamware Office user and one to a local user,
# and where they landed.
#
#   METHOD=smtp_smtproutes lab/demo.sh      set up and run the demo; the lab stays up to look around
#   lab/demo.sh --down                      the same, then remove the lab
#   lab/demo.sh down                        only remove the lab
#
# METHOD is one of inventory/lab/group_vars/method_*.yml: torecvm_alias_domain, torecvm_alias_user,
# torecvm_virtualdomains, torecvm_users, smtp_smtproutes (default), smtp_alias_domain, smtp_alias_user,
# smtp_users, smtp_forward. Teamware Office (the MIME connector SIMULATOR, simulator/) runs on the qmail host
# for the torecvm methods (and with DEMO_SAME_HOST=1), else on a host of its own.
#
# On a fresh Debian 12 machine (as root) it installs podman (lab/setup-podman.sh), builds the images
# (lab/build-image.sh) and, when needed, the Python toolchain (scripts/setup-venv.sh 3.11). qmail comes from
# outside the repository: TEAMWARE_QMAIL_ARCHIVE / TEAMWARE_QMAIL_USERS (default /opt/qmail-dist/...). Without
# it the demo configures what it can (Teamware Office, the relay front end with a probe in place of
# qmail-smtpd), shows the routing table and the diff it would apply to qmail, and says what it skipped.
#
# Containers twlab-qmail, twlab-teamware, twlab-client (may relay), twlab-stranger (may not) on the podman
# network twlab (10.213.200.0/24). Works unattended (CI=true, no stdin). Variables: METHOD, DEMO_SAME_HOST=1,
# DEMO_KEEP=0 (= --down), LAB_SKIP_SETUP=1, LAB_NO_QMAIL=1 (act as if there were no qmail), LAB_IMAGE,
# LAB_QMAIL_IMAGE.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
REPO="$(pwd)"

NET=twlab
SUBNET=10.213.200
LABEL=teamware-lab=twlab
STATE_DIR="${REPO}/build/demo"
METHOD="${METHOD:-smtp_smtproutes}"
KEEP="${DEMO_KEEP:-1}"
export LAB_IMAGE="${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}"
export LAB_QMAIL_IMAGE="${LAB_QMAIL_IMAGE:-${LAB_IMAGE}-qmail}"

step() { printf '\n\033[1m===== %s =====\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }
loud() {
    printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
    for line in "$@"; do printf '!!! %s\n' "$line"; done
    printf '%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
}

remove_lab() {
    local ids
    ids="$(podman ps -aq --filter "label=${LABEL}" 2>/dev/null || true)"
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086  # a list of ids
        podman rm -f -t 2 $ids >/dev/null
    fi
    if podman network exists "$NET" 2>/dev/null; then
        podman network rm -f "$NET" >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
    down) remove_lab; say "demo lab removed"; exit 0 ;;
    --down) KEEP=0 ;;
    --keep|"") ;;
    *) die "usage: [METHOD=...] lab/demo.sh [--keep|--down] | lab/demo.sh down" ;;
esac

method_file="inventory/lab/group_vars/method_${METHOD}.yml"
if [ ! -f "$method_file" ]; then
    known="$(find inventory/lab/group_vars -name 'method_*.yml' -printf '%f\n' | sed 's/^method_//; s/\.yml$//' | sort | tr '\n' ' ')"
    die "METHOD=${METHOD} is not one of: ${known}(smtp_alias and torecvm_alias come as _domain and _user)"
fi
method_var() { sed -n "s/^$1: *\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$method_file"; }
teamware_rcpt="$(method_var lab_teamware_rcpt | sed 's/{user}/anna/')"
same_host=0
case "$METHOD" in torecvm_*) same_host=1 ;; esac
if [ "${DEMO_SAME_HOST:-0}" = 1 ]; then same_host=1; fi

# ---- 1. podman, the images, the toolchain ---------------------------------------------------------------
if [ "${LAB_SKIP_SETUP:-0}" != 1 ]; then
    step "podman and the lab images"
    bash lab/setup-podman.sh
    if [ -z "${TEAMWARE_QMAIL_ARCHIVE:-}" ] && [ -f /opt/qmail-dist/qmail-installed.tar.gz ] \
       && [ -f /opt/qmail-dist/qmail-users.txt ]; then
        export TEAMWARE_QMAIL_ARCHIVE=/opt/qmail-dist/qmail-installed.tar.gz
        export TEAMWARE_QMAIL_USERS="${TEAMWARE_QMAIL_USERS:-/opt/qmail-dist/qmail-users.txt}"
    fi
    if [ "${LAB_NO_QMAIL:-0}" = 1 ]; then unset TEAMWARE_QMAIL_ARCHIVE TEAMWARE_QMAIL_USERS; fi
    bash lab/build-image.sh
fi
if [ ! -x "${REPO}/.venv-py311/bin/ansible-playbook" ]; then
    step "the Python toolchain (.venv-py311)"
    scripts/setup-venv.sh 3.11
fi
export PATH="${REPO}/.venv-py311/bin:${PATH}"
# A private collection root, so that a concurrent `make venv` (which rebuilds build/collections-root-*) cannot
# pull it away: the collection itself and its dependencies, by symlink.
croot="$(mktemp -d)"
trap 'rm -rf "$croot"' EXIT
mkdir -p "${croot}/ansible_collections/teamware"
ln -s "$REPO" "${croot}/ansible_collections/teamware/qmail"
for dir in "${REPO}"/.cache/collections-py311/ansible_collections/*/*/; do
    ns="$(basename "$(dirname "$dir")")"
    [ "$ns" = teamware ] && continue
    mkdir -p "${croot}/ansible_collections/${ns}"
    ln -s "${dir%/}" "${croot}/ansible_collections/${ns}/$(basename "$dir")"
done
export ANSIBLE_COLLECTIONS_PATH="$croot" ANSIBLE_CONNECTION_PLUGINS="${REPO}/molecule/resources/plugins/connection"
export ANSIBLE_PIPELINING=1 ANSIBLE_DISPLAY_SKIPPED_HOSTS=0 ANSIBLE_RETRY_FILES_ENABLED=0
if [ "${CI:-}" = true ]; then export ANSIBLE_NOCOLOR=1; fi

have_qmail=0
if [ "${LAB_NO_QMAIL:-0}" != 1 ] && podman image exists "$LAB_QMAIL_IMAGE"; then have_qmail=1; fi
if [ "$have_qmail" != 1 ]; then
    loud "NO QMAIL IMAGE (${LAB_QMAIL_IMAGE}): the demo runs WITHOUT qmail." \
         "It configures Teamware Office and the relay front end (a probe stands in for qmail-smtpd)," \
         "shows the routing table and the diff for qmail, and skips every delivery through qmail." \
         "Give it an installed qmail: TEAMWARE_QMAIL_ARCHIVE and TEAMWARE_QMAIL_USERS (lab/README.md)."
fi

# ---- 2. the containers ----------------------------------------------------------------------------------
where="on its own host (tw.server.company.com:25)"
if [ "$same_host" = 1 ]; then
    case "$METHOD" in torecvm_*) where="on the qmail host (qmail pipes into torecvm)" ;; *) where="on the qmail host (127.0.0.1:2025)" ;; esac
fi
step "the lab: method ${METHOD}, Teamware Office ${where}"
remove_lab
# (podman says "failed to connect to syslog" on machines without a syslog socket: harmless)
podman network create --subnet "${SUBNET}.0/24" "$NET" >/dev/null 2> >(grep -v 'failed to connect to syslog' >&2)
start_container() {  # NAME IP IMAGE [podman run options...]
    local name="$1" ip="$2" image="$3"
    shift 3
    podman run --detach --init --label "$LABEL" --name "$name" --network "$NET" --ip "$ip" "$@" \
        "$image" /usr/bin/svscan /service >/dev/null
    say "  ${name}  ${ip}"
}
start_container twlab-qmail "${SUBNET}.10" "$([ "$have_qmail" = 1 ] && echo "$LAB_QMAIL_IMAGE" || echo "$LAB_IMAGE")" \
    --hostname "$([ "$have_qmail" = 1 ] && echo mail.company.com || echo relay.company.com)"
teamware_host=twlab-qmail
if [ "$same_host" != 1 ]; then
    start_container twlab-teamware "${SUBNET}.20" "$LAB_IMAGE" --hostname tw.server.company.com \
        --network-alias tw.server.company.com
    teamware_host=twlab-teamware
fi
start_container twlab-client "${SUBNET}.30" "$LAB_IMAGE" --hostname client.company.com
start_container twlab-stranger "${SUBNET}.40" "$LAB_IMAGE" --hostname stranger.example.net

# The method's group and the topology, added to inventory/lab/hosts.yml.
mkdir -p "$STATE_DIR"
inventory="${STATE_DIR}/method.yml"
topology="$([ "$same_host" = 1 ] && echo lab_teamware_same_host || echo lab_teamware_own_host)"
cat >"$inventory" <<EOF
# Written by lab/demo.sh: METHOD=${METHOD}; use with -i inventory/lab/hosts.yml -i ${inventory}
all:
  children:
    teamware_servers:
      hosts:
        ${teamware_host}:
    method_${METHOD}:
      hosts:
        twlab-qmail:
        ${teamware_host}:
    ${topology}:
      hosts:
        twlab-qmail:
        ${teamware_host}:
    lab:
      hosts:
        ${teamware_host}:
      vars:
        lab_probe: $([ "$have_qmail" = 1 ] && echo false || echo true)
EOF
playbook() { ansible-playbook -i inventory/lab/hosts.yml -i "$inventory" "$@"; }
for name in twlab-qmail "$teamware_host"; do
    for _ in $(seq 1 40); do podman exec "$name" pgrep -x svscan >/dev/null 2>&1 && break; sleep 0.25; done
done

# ---- 3. what the hosts have before teamware.qmail ----------------------------------------------------------
step "prepare: Teamware Office (simulator) installed in /to, users john and sysadm, control/me"
playbook molecule/resources/prepare.yml

# ---- 4. teamware.qmail ------------------------------------------------------------------------------------
if [ "$have_qmail" = 1 ]; then
    step "site.yml: qmail routing, relay front end, MIME connector (ansible-playbook -i inventory/lab/hosts.yml -i ${inventory#"${REPO}"/} site.yml)"
    # site.yml ends with its deploy check: "Show where qmail delivers and check the expected routes" lists the
    # lab's teamware_expected_routes as qmail_route_info explains them, and asserts them.
    playbook site.yml
else
    step "without qmail: the relay front ends with a probe, and the MIME connector"
    playbook molecule/resources/converge_front_ends.yml
    step "without qmail: the routing table and the diff teamware.qmail would apply to qmail"
    playbook molecule/resources/demo_preview.yml --diff
fi

# ---- 5. a test message ------------------------------------------------------------------------------------
show_teamware() {
    podman exec "$teamware_host" sh -c 'teamware-office-simulator list --root /to --json' | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print("  Teamware Office got %s via %s: envelope recipient %s, Teamware address %s, sender <%s>, subject %r"
          % (m["id"], m["via"], ", ".join(m["recipients"]), ", ".join(m["teamware_addresses"]), m["sender"], m["subject"]))'
}
rcpt_reply() {  # CONTAINER: the reply of the lab's SMTP server (twlab-qmail) to RCPT TO a foreign domain
    podman exec "$1" swaks --server "${SUBNET}.10" --from x@example.org --to someone@example.net --quit-after RCPT 2>&1 \
        | awk '/-> RCPT TO/ { getline; sub(/^<[-*]+ +/, ""); print; exit }' || true
}
wait_teamware() {  # COUNT
    podman exec "$teamware_host" teamware-office-simulator wait --root /to --count "$1" --timeout 60 >/dev/null
}
if [ "$have_qmail" = 1 ]; then
    step "mail from twlab-client through qmail: to ${teamware_rcpt} (Teamware Office) and john@company.com (local)"
    podman exec twlab-client swaks --server "${SUBNET}.10" --from demo@example.org --to "$teamware_rcpt" \
        --header "Subject: teamware.qmail demo (${METHOD})" --silent 2 || die "qmail-smtpd refused the message"
    podman exec twlab-client swaks --server "${SUBNET}.10" --from demo@example.org --to john@company.com \
        --header "Subject: teamware.qmail demo for john" --silent 2 || die "qmail-smtpd refused the message"
    wait_teamware 1 || die "the message did not reach Teamware Office within 60 s (see podman exec twlab-qmail cat /service/qmail-send/log/main/current)"
    show_teamware
    for _ in $(seq 1 120); do
        if podman exec twlab-qmail sh -c 'ls /home/john/Maildir/new | grep -q .'; then break; fi
        sleep 0.5
    done
    podman exec twlab-qmail sh -c 'for f in /home/john/Maildir/new/*; do echo "  ~john/Maildir/new/$(basename "$f"):"; grep -E "^(Delivered-To|Return-Path|Subject):" "$f" | sed "s/^/    /"; done'
    say "  qmail-send's log:"
    podman exec twlab-qmail sh -c 'grep -E "starting delivery|delivery [0-9]+:" /service/qmail-send/log/main/current | cut -d" " -f2- | tail -n 6 | sed "s/^/    /"'
    step "relaying: the client may, the stranger may not"
    for who in twlab-client twlab-stranger; do
        say "  ${who}: RCPT TO:<someone@example.net> -> $(rcpt_reply "$who")"
    done
else
    if [ "$same_host" != 1 ]; then
        step "mail from twlab-client straight to Teamware Office (no qmail to go through)"
        podman exec twlab-client swaks --server "${SUBNET}.20" --from demo@example.org --to "$(method_var lab_teamware_envelope | sed 's/{user}/anna/')" \
            --header "Subject: teamware.qmail demo without qmail" --silent 2 || true
        wait_teamware 1 || true
        show_teamware
    fi
    step "relaying through the front end (probe in place of qmail-smtpd)"
    for who in twlab-client twlab-stranger; do
        say "  ${who}: RCPT TO:<someone@example.net> -> $(rcpt_reply "$who")"
    done
    loud "SKIPPED without qmail: delivery through qmail to Teamware Office and to ~john/Maildir," \
         "the aliases, and site.yml's qmail part (its qmail role checks that qmail is installed)."
fi

# ---- 6. keep or remove ------------------------------------------------------------------------------------
if [ "$KEEP" = 1 ]; then
    step "the lab stays up"
    say "  look around:   podman exec -it twlab-qmail bash      (also twlab-client, ${teamware_host})"
    say "  run again:     ANSIBLE_CONNECTION_PLUGINS=molecule/resources/plugins/connection ansible-playbook \\"
    say "                   -i inventory/lab/hosts.yml -i build/demo/method.yml site.yml"
    say "  remove it:     lab/demo.sh down"
else
    remove_lab
    say "demo lab removed"
fi
