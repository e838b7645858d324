#!/usr/bin/env bash
# `make ee`: build the execution environment (lab/ee-build.sh) and run site.yml from inside it against lab hosts
# over SSH, the way AWX runs a job: ansible-runner in the EE container, a private data directory with the
# project, the inventory and the machine credential's key (env/ssh_key, which ansible-runner hands to an
# ssh-agent), an unprivileged login user that becomes root with sudo.
#
#   1. the lab: podman network ee-net (10.213.15.0/24) with ee-qmail (.10, the qmail image), ee-teamware (.20,
#      Teamware Office's MIME connector simulator) and ee-client (.30, may relay); method smtp_smtproutes;
#   2. sshd in ee-qmail and ee-teamware with host keys made in each container (ssh-keygen -A; the image has
#      none), a user key made for this run only, authorized for the user "ops" (sudo without password);
#      known_hosts from the containers' host keys, checked strictly;
#   3. what the hosts have before teamware.qmail (molecule/resources/prepare.yml, from this machine);
#   4. ansible-runner run in the EE (podman run --network ee-net): site.yml over SSH, must succeed;
#   5. a message from ee-client through qmail to anna@tw.company.com must reach Teamware Office;
#   6. ansible-runner run again: every host must report changed=0.
# Containers, network, keys and the private data directory are removed at the end, also after a failure.
#
# Without podman or without the lab's qmail image it prints a SKIPPED banner and exits 0.
# Variables: LAB_IMAGE, LAB_QMAIL_IMAGE (lab/build-image.sh's defaults), EE_KEEP=1 (keep the lab and the
# private data directory, for a look around; remove with: podman rm -f ee-qmail ee-teamware ee-client &&
# podman network rm ee-net).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
REPO="$(pwd)"

export LAB_IMAGE="${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}"
export LAB_QMAIL_IMAGE="${LAB_QMAIL_IMAGE:-${LAB_IMAGE}-qmail}"
NET=ee-net
SUBNET=10.213.15
LABEL=teamware-lab=ee
LOGIN=ops
TEAMWARE_RCPT=anna@tw.company.com

say() { printf '[ee-test %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }
banner() {
    printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
    for line in "$@"; do printf '!!! %s\n' "$line"; done
    printf '%s\n\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
}
skip() {
    banner "EE TEST SKIPPED: $1" \
           "The execution environment was neither built nor run. It needs podman (lab/setup-podman.sh)" \
           "and the lab's images with qmail (lab/build-image.sh with TEAMWARE_QMAIL_ARCHIVE, lab/README.md)."
    exit 0
}

command -v podman >/dev/null 2>&1 || skip "podman is not installed"
podman image exists "$LAB_IMAGE" 2>/dev/null || skip "no lab base image ${LAB_IMAGE}"
podman image exists "$LAB_QMAIL_IMAGE" 2>/dev/null || skip "NO QMAIL IMAGE (${LAB_QMAIL_IMAGE})"

total_start=$SECONDS
timings=()
phase_start=$SECONDS
phase_done() { timings+=("$(printf '%-34s %4ss' "$1" "$((SECONDS - phase_start))")"); phase_start=$SECONDS; }

# ---- 1. the image ---------------------------------------------------------------------------------------------
say "execution environment: lab/ee-build.sh"
image="$(bash lab/ee-build.sh)"
say "image ${image}: $(podman run --rm --network=none "$image" sh -c \
    'ansible --version | head -n 1; echo ", ansible-runner $(ansible-runner --version)"' | tr -d '\n')"
phase_done "EE image (build or cache)"

# ---- 2. the lab -----------------------------------------------------------------------------------------------
tmp="$(mktemp -d /tmp/teamware-ee.XXXXXX)"
remove_lab() {
    local ids
    ids="$(podman ps -aq --filter "label=${LABEL}" 2>/dev/null || true)"
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086  # a list of ids
        podman rm -f -t 2 $ids >/dev/null 2>&1 || true
    fi
    podman network rm -f "$NET" >/dev/null 2>&1 || true
}
cleanup() {
    if [ "${EE_KEEP:-0}" = 1 ]; then
        say "EE_KEEP=1: the lab and ${tmp} stay"
        return
    fi
    remove_lab
    rm -rf "$tmp"
}
trap cleanup EXIT
remove_lab
podman network create --subnet "${SUBNET}.0/24" "$NET" >/dev/null 2> >(grep -v 'failed to connect to syslog' >&2)
start_container() {  # NAME IP IMAGE HOSTNAME [podman run options...]
    local name="$1" ip="$2" img="$3" host="$4"
    shift 4
    podman run --detach --init --label "$LABEL" --name "$name" --hostname "$host" --network "$NET" --ip "$ip" \
        "$@" "$img" /usr/bin/svscan /service >/dev/null
}
start_container ee-qmail "${SUBNET}.10" "$LAB_QMAIL_IMAGE" mail.company.com
start_container ee-teamware "${SUBNET}.20" "$LAB_IMAGE" tw.server.company.com --network-alias tw.server.company.com
start_container ee-client "${SUBNET}.30" "$LAB_IMAGE" client.company.com

# the private data directory ansible-runner reads, as AWX writes it for a job
pdd="${tmp}/runner"
mkdir -p "${pdd}/project" "${pdd}/inventory/group_vars" "${pdd}/env"
ssh-keygen -q -t ed25519 -N '' -C "teamware-ee-run-$$" -f "${tmp}/id_ed25519"
cp "${tmp}/id_ed25519" "${pdd}/env/ssh_key"

# sshd with the container's own host keys; the login user with this run's key and sudo
cat >"${tmp}/sshd-setup.sh" <<'EOF'
login=$1
key=$2
ssh-keygen -A
id "$login" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$login"
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$login" >/etc/sudoers.d/teamware-ee
chmod 0440 /etc/sudoers.d/teamware-ee
home=$(getent passwd "$login" | cut -d: -f6)
mkdir -p "$home/.ssh"
printf '%s\n' "$key" >"$home/.ssh/authorized_keys"
chown -R "$login:" "$home/.ssh"
chmod 0700 "$home/.ssh"
chmod 0600 "$home/.ssh/authorized_keys"
mkdir -p /run/sshd
/usr/sbin/sshd
EOF
for name in ee-qmail ee-teamware; do
    podman exec -i "$name" sh -eu -s "$LOGIN" "$(cat "${tmp}/id_ed25519.pub")" <"${tmp}/sshd-setup.sh" >/dev/null 2>&1 ||
        die "could not start sshd in ${name}"
done
: >"${pdd}/known_hosts"
for pair in ee-qmail:10 ee-teamware:20; do
    podman exec "${pair%%:*}" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' |
        awk -v host="${pair%%:*},${SUBNET}.${pair##*:}" '{ print host, $1, $2 }' >>"${pdd}/known_hosts"
done
say "lab up: ee-qmail ${SUBNET}.10, ee-teamware ${SUBNET}.20, ee-client ${SUBNET}.30; sshd with per-container host keys"
phase_done "lab containers, sshd, keys"

# ---- 3. the inventory; what the hosts have before teamware.qmail ----------------------------------------------
# The hosts by their container names, which podman's DNS (aardvark-dns) resolves on ee-net, also in the EE.
write_inventory() {  # FILE CONNECTION-VARS (YAML lines under all.vars, indented 4)
    cat >"$1" <<EOF
# Written by lab/ee-test.sh: the lab of the execution-environment test, method smtp_smtproutes.
all:
  vars:
$2
  children:
    lab:
      vars:
        lab_net: ${SUBNET}
        qmail_smtp_front_end: tcpserver
      children:
        qmail_hosts:
          hosts:
            ee-qmail:
        teamware_servers:
          hosts:
            ee-teamware:
        lab_clients:
          hosts:
            ee-client:
    method_smtp_smtproutes:
      hosts:
        ee-qmail:
    lab_teamware_own_host:
      hosts:
        ee-qmail:
        ee-teamware:
EOF
}
for file in all.yml lab_teamware_own_host.yml method_smtp_smtproutes.yml; do
    cp "inventory/lab/group_vars/${file}" "${pdd}/inventory/group_vars/"
done
write_inventory "${pdd}/inventory/hosts.yml" "    ansible_user: ${LOGIN}
    ansible_become: true
    ansible_ssh_common_args: -o UserKnownHostsFile=/runner/known_hosts -o StrictHostKeyChecking=yes"
mkdir -p "${tmp}/prepare"
ln -s "${pdd}/inventory/group_vars" "${tmp}/prepare/group_vars"
write_inventory "${tmp}/prepare/hosts.yml" "    ansible_connection: lab_podman"

say "prepare (from this machine, podman exec): Teamware Office simulator, local users, control/me"
ANSIBLE_CONNECTION_PLUGINS="${REPO}/molecule/resources/plugins/connection" ANSIBLE_PIPELINING=1 \
    ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DISPLAY_SKIPPED_HOSTS=0 \
    "${REPO}/.venv-py311/bin/ansible-playbook" -i "${tmp}/prepare/hosts.yml" molecule/resources/prepare.yml \
    >"${tmp}/prepare.log" 2>&1 || { tail -n 40 "${tmp}/prepare.log"; die "prepare failed"; }
phase_done "prepare (lab only, not in the EE)"

# ---- 4. site.yml from inside the EE, over SSH ----------------------------------------------------------------
cat >"${pdd}/project/site.yml" <<'EOF'
# The project's playbook, as a site's AWX project holds it (docs/execution-environment.md).
- name: Configure qmail and Teamware Office
  ansible.builtin.import_playbook: teamware.qmail.site
EOF
cat >"${pdd}/env/envvars" <<'EOF'
ANSIBLE_PIPELINING: "True"
ANSIBLE_NOCOLOR: "1"
ANSIBLE_RETRY_FILES_ENABLED: "False"
EOF
# The EE runs as uid 1000 (ansible-builder's default user), as AWX runs it.
chown -R 1000:0 "$pdd"
chmod 0600 "${pdd}/env/ssh_key"

# The EE shares ee-client's network namespace (and its resolv.conf) instead of joining ee-net itself: every container
# that joins or leaves a network makes podman reload aardvark-dns, and Debian 12's aardvark-dns 1.4.0 then answered
# nothing for about a minute (seen here: the runner's exit after run 1 left tcpserver's reverse lookup of ee-client
# waiting 61 s, so the SMTP greeting came after swaks' 30 s). Joined like this, ee-net's members stay as they are.
run_ee() {  # IDENT: ansible-runner in the EE; its output in ${tmp}/IDENT.log
    local rc=0
    podman run --rm --label "$LABEL" --name "ee-runner-$1" --network container:ee-client \
        --volume "${pdd}:/runner" "$image" \
        ansible-runner run /runner --playbook site.yml --ident "$1" >"${tmp}/$1.log" 2>&1 || rc=$?
    return "$rc"
}
recap() { awk '/PLAY RECAP/ { on = 1; next } on && /ok=/ { print }' "${tmp}/$1.log"; }

say "run 1: ansible-runner run /runner --playbook site.yml (in ${image}, over SSH as ${LOGIN} with sudo)"
run_ee run1 || { tail -n 60 "${tmp}/run1.log"; die "site.yml failed in the execution environment"; }
recap run1 | sed 's/^/    /'
phase_done "site.yml in the EE, first run"

# ---- 5. mail reaches Teamware Office --------------------------------------------------------------------------
# What tcpserver did with the last connections (multilog's timestamps: a connection logged long after "pid N from"
# waited for tcpserver's DNS or ident lookups), and how long ee-qmail's resolvers take for the names it looks up.
smtpd_diagnostics() {
    say "qmail-smtpd's log on ee-qmail (the last 20 lines):"
    podman exec ee-qmail sh -c 'tail -n 20 /var/qmail/supervise/qmail-smtpd/log/main/current | tai64nlocal' 2>&1 |
        sed 's/^/    /'
    say "ee-qmail's resolvers, answering the reverse lookups tcpserver makes:"
    podman exec -i ee-qmail /usr/bin/python3 - "${SUBNET}.30" "${SUBNET}.10" <<'PY' 2>&1 | sed 's/^/    /'
import random, socket, struct, sys, time
servers = [line.split()[1] for line in open("/etc/resolv.conf") if line.startswith("nameserver")]
for ip in sys.argv[1:]:
    name = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
    query = struct.pack(">HHHHHH", random.randint(0, 65535), 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 12, 1)
    for server in servers:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(5)
        start = time.time()
        try:
            sock.sendto(query, (server, 53))
            answer = "rcode %d" % (sock.recv(4096)[3] & 15)
        except OSError as exc:
            answer = repr(exc)
        print("%s PTR from %s: %s in %.2f s" % (ip, server, answer, time.time() - start))
PY
}

# tcpserver greets only after its lookups of the client's and its own name (DNS) and the client's ident; on a
# resolver that stalls, that is many seconds. Wait up to 120 s for the greeting, say how long it took, and show why
# when it was slow, before the message goes in.
say "mail: ee-client -> qmail (ee-qmail) -> Teamware Office (ee-teamware), to ${TEAMWARE_RCPT}"
greeted=""
banner_start=$SECONDS
while [ $((SECONDS - banner_start)) -lt 120 ]; do
    if podman exec ee-client swaks --server "${SUBNET}.10" --quit-after banner --timeout 30 --silent 2 >/dev/null 2>&1
    then greeted=yes; break; fi
    sleep 1
done
[ -n "$greeted" ] || { smtpd_diagnostics; die "qmail-smtpd on ee-qmail did not greet ee-client within 120 s"; }
if [ $((SECONDS - banner_start)) -gt 5 ]; then
    say "WARNING: qmail-smtpd greeted ee-client only after $((SECONDS - banner_start)) s"
    smtpd_diagnostics
fi
podman exec ee-client swaks --server "${SUBNET}.10" --from ee-test@example.org --to "$TEAMWARE_RCPT" \
    --header "Subject: teamware.qmail EE test $$" --silent 2 || { smtpd_diagnostics; die "qmail-smtpd refused the message"; }
podman exec ee-teamware teamware-office-simulator wait --root /to --count 1 --timeout 60 >/dev/null ||
    die "the message did not reach Teamware Office within 60 s"
got="$(podman exec ee-teamware teamware-office-simulator list --root /to --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["subject"], "|", ",".join(m["recipients"]))')"
printf '%s\n' "$got" | sed 's/^/    Teamware Office got: /'
printf '%s\n' "$got" | grep -qF "teamware.qmail EE test $$ | ${TEAMWARE_RCPT}" ||
    die "Teamware Office did not get the test message for ${TEAMWARE_RCPT}"
phase_done "mail to Teamware Office"

# ---- 6. a second run changes nothing ---------------------------------------------------------------------------
say "run 2: the same again; every host must report changed=0"
run_ee run2 || { tail -n 60 "${tmp}/run2.log"; die "the second run of site.yml failed"; }
recap run2 | sed 's/^/    /'
if [ "$(recap run2 | grep -c .)" -lt 2 ] || recap run2 | grep -v ' changed=0 ' | grep -q .; then
    grep -E '^(changed|TASK)' "${tmp}/run2.log" | grep -B1 '^changed' | head -n 20
    die "the second run changed something"
fi
phase_done "site.yml in the EE, second run"

printf '\n%s\n' "ee-test timings:"
printf '  %s\n' "${timings[@]}"
printf '  %-34s %4ss\n' total "$((SECONDS - total_start))"
say "ee-test: passed (EE ${image}: site.yml over SSH, mail delivered to Teamware Office, second run changed=0)"
