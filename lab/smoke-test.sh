#!/usr/bin/env bash
# shellcheck disable=SC2016  # sh -c snippets run in the containers; their $ expand there
# Smoke test of the lab images built by lab/build-image.sh.
#
# Creates a private podman network and two containers from LAB_IMAGE (run with
# --init, so catatonit is PID 1 and `svscan /service` its child) and checks:
# podman exec, python3, svscan/supervise, the ucspi-tcp/tcpd/inetd tools, and
# container-to-container TCP by name and by IP (a tcpserver "SMTP" service
# under supervise in one, swaks and python in the other).  If LAB_QMAIL_IMAGE
# exists it also starts qmail in a third container and delivers one message
# to it over SMTP from the first.  Everything it created is removed at exit.
# Traffic goes only to the containers' own addresses.
#
# Environment (all optional):
#   LAB_IMAGE          base image       (localhost/teamware-qmail-lab:bookworm)
#   LAB_QMAIL_IMAGE    qmail image      (${LAB_IMAGE}-qmail; tested if present)
#   LAB_TESTINFRA=1    also run a tiny pytest-testinfra test via podman://NAME,
#                      with pytest-testinfra from a venv at LAB_TESTINFRA_VENV
#                      (default /tmp/teamware-lab-testinfra; created if missing)
#   LAB_KEEP=1         keep the containers and network (for debugging)
set -euo pipefail

LAB_IMAGE=${LAB_IMAGE:-localhost/teamware-qmail-lab:bookworm}
LAB_QMAIL_IMAGE=${LAB_QMAIL_IMAGE:-${LAB_IMAGE}-qmail}
LAB_TESTINFRA_VENV=${LAB_TESTINFRA_VENV:-/tmp/teamware-lab-testinfra}
SUFFIX=$$
NET=teamware-lab-smoke-$SUFFIX
A=tw-smoke-a-$SUFFIX
B=tw-smoke-b-$SUFFIX
Q=tw-smoke-q-$SUFFIX

passed=0
failed=0
log() { printf '[smoke-test] %s\n' "$*" >&2; }
ok() { passed=$((passed + 1)); log "ok: $*"; }
bad() { failed=$((failed + 1)); log "FAIL: $*"; }
check() {   # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

created_net=0
created=()
TMPD=""
cleanup() {
    if [ "${LAB_KEEP:-0}" = 1 ]; then
        log "LAB_KEEP=1: left containers ${created[*]:-} and network $NET"
    else
        [ "${#created[@]}" -eq 0 ] || podman rm -f -t 0 "${created[@]}" >/dev/null 2>&1 || true
        [ "$created_net" = 0 ] || podman network rm "$NET" >/dev/null 2>&1 || true
    fi
    [ -z "$TMPD" ] || rm -rf "$TMPD"
}
trap cleanup EXIT

podman image exists "$LAB_IMAGE" || { log "image $LAB_IMAGE missing: run lab/build-image.sh"; exit 1; }

podman network create "$NET" >/dev/null </dev/null
created_net=1

run_container() {   # NAME IMAGE
    podman run -d --init --name "$1" --hostname "$1" --network "$NET" "$2" >/dev/null </dev/null
    created+=("$1")
}
ip_of() {
    podman inspect --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1" 2>/dev/null
}
ex() { podman exec "$@" </dev/null; }

# poll: wait up to $1 seconds for COMMAND to succeed
wait_for() {
    local t=$1 i; shift
    for ((i = 0; i < t * 2; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

run_container "$A" "$LAB_IMAGE"
run_container "$B" "$LAB_IMAGE"

check "podman exec works" ex "$A" true
check "python3 runs" ex "$A" python3 -c 'import json, sys; assert sys.version_info >= (3, 9)'
# PID 1 is podman's init (catatonit), svscan is its direct child
check "svscan /service runs under PID 1" ex "$A" sh -c \
    'ps -o args= --ppid 1 | grep -qx "/usr/bin/svscan /service"'
for tool in tcprules tcprulescheck tcpdmatch inetd tcpserver tcpclient \
            svscan supervise svc svstat swaks ip ps less; do
    check "tool $tool present" ex "$A" sh -c "command -v $tool"
done
check "tcprules compiles and tcprulescheck reads a rules cdb" ex "$A" sh -c '
    printf "10.:allow\n:deny\n" | tcprules /tmp/r.cdb /tmp/r.tmp &&
    TCPREMOTEIP=10.1.2.3 tcprulescheck /tmp/r.cdb | grep -q "allow connection" &&
    TCPREMOTEIP=192.0.2.1 tcprulescheck /tmp/r.cdb | grep -q "deny connection"'
check "tcpdmatch evaluates hosts.allow/deny" ex "$A" sh -c \
    'tcpdmatch in.smtpd 192.0.2.1 | grep -q "access: *granted"'
check "policy-rc.d blocks service starts" ex "$A" sh -c \
    '/usr/sbin/policy-rc.d; [ $? -eq 101 ]'

# A tiny SMTP-ish responder under supervise in B.
ex "$B" sh -c 'mkdir -p /service/.fake-smtp && cat >/service/.fake-smtp/run <<"EOF"
#!/bin/sh
exec 2>&1
exec tcpserver -HRl0 0 25 sh -c '"'"'printf "220 lab ESMTP\r\n"; while read -r l; do case "$l" in [Qq][Uu][Ii][Tt]*) printf "221 bye\r\n"; exit 0;; *) printf "250 ok\r\n";; esac; done'"'"'
EOF
chmod 755 /service/.fake-smtp/run && mv /service/.fake-smtp /service/fake-smtp'
if wait_for 15 ex "$B" sh -c 'svstat /service/fake-smtp | grep -q ": up" && ss -ltn | grep -q ":25 "'; then
    ok "svscan picked up a new service; tcpserver listens on :25"
else
    bad "tcpserver under supervise did not come up"
fi
B_IP=$(ip_of "$B")
log "$B has address $B_IP"
check "TCP by name: swaks $A -> $B:25" ex "$A" swaks --server "$B" --quit-after CONNECT
check "TCP by IP:   swaks $A -> $B_IP:25" ex "$A" swaks --server "$B_IP" --quit-after CONNECT
check "TCP by IP:   python3 $A -> $B_IP:25" ex "$A" python3 -c "
import socket
s = socket.create_connection(('$B_IP', 25), 5)
assert s.recv(64).startswith(b'220')"

t0=$SECONDS
podman stop "$B" >/dev/null </dev/null
if [ $((SECONDS - t0)) -lt 5 ]; then ok "podman stop (with --init) is fast"; else bad "podman stop took $((SECONDS - t0))s"; fi

# --- optional: qmail image ---------------------------------------------------
if podman image exists "$LAB_QMAIL_IMAGE"; then
    run_container "$Q" "$LAB_QMAIL_IMAGE"
    check "qmail image: ids match the archive's owners" ex "$Q" sh -c '
        [ "$(stat -c %U:%G /var/qmail/bin/qmail-queue)" = qmailq:qmail ] &&
        [ "$(stat -c %a /var/qmail/bin/qmail-queue)" = 4711 ] &&
        [ "$(stat -c %U /var/qmail/alias)" = alias ] &&
        [ -p /var/qmail/queue/lock/trigger ]'
    ex "$Q" sh -c '
        set -e
        d=$(hostname).lab.test
        cd /var/qmail/control
        echo "$d" >me; echo "$d" >locals; echo "$d" >rcpthosts
        chmod 644 me locals rcpthosts
        mkdir -p /var/qmail/alias/Maildir/new /var/qmail/alias/Maildir/cur /var/qmail/alias/Maildir/tmp
        chown -R alias:qmail /var/qmail/alias/Maildir
        echo ./Maildir/ >/var/qmail/alias/.qmail-postmaster
        mkdir -p /service/.qmail-send /service/.qmail-smtpd
        printf "#!/bin/sh\nexec 2>&1\nexec env - PATH=/var/qmail/bin:/usr/bin:/bin qmail-start ./Maildir/\n" >/service/.qmail-send/run
        printf "#!/bin/sh\nexec 2>&1\nexec tcpserver -HRl0 -u %s -g %s 0 25 /var/qmail/bin/qmail-smtpd\n" \
            "$(id -u qmaild)" "$(id -g qmaild)" >/service/.qmail-smtpd/run
        chmod 755 /service/.qmail-send/run /service/.qmail-smtpd/run
        mv /service/.qmail-send /service/qmail-send
        mv /service/.qmail-smtpd /service/qmail-smtpd'
    if wait_for 15 ex "$Q" sh -c 'ss -ltn | grep -q ":25 " && ps -C qmail-send >/dev/null'; then
        ok "qmail-send and qmail-smtpd run under svscan"
    else
        bad "qmail services did not come up"
    fi
    Q_IP=$(ip_of "$Q")
    check "qmail: swaks $A -> $Q_IP delivers to postmaster@$Q.lab.test" ex "$A" swaks \
        --server "$Q_IP" --helo "$A.lab.test" --from "smoke@$A.lab.test" \
        --to "postmaster@$Q.lab.test" --body "teamware lab smoke test"
    if wait_for 15 ex "$Q" sh -c 'grep -rqs "teamware lab smoke test" /var/qmail/alias/Maildir/new'; then
        ok "qmail delivered the message to ~alias/Maildir/new"
    else
        bad "message not delivered"
    fi
    check "qmail-smtpd rejects relaying (553)" ex "$A" sh -c \
        "swaks --server $Q_IP --from x@$A.lab.test --to x@elsewhere.example --quit-after RCPT 2>&1 | grep -q '<\\*\\* *553'"
else
    log "################################################################"
    log "## qmail image $LAB_QMAIL_IMAGE not present: qmail checks SKIPPED"
    log "################################################################"
fi

# --- optional: testinfra ------------------------------------------------------
if [ "${LAB_TESTINFRA:-0}" = 1 ]; then
    if [ ! -x "$LAB_TESTINFRA_VENV/bin/pytest" ]; then
        log "creating venv $LAB_TESTINFRA_VENV with pytest-testinfra"
        python3 -m venv "$LAB_TESTINFRA_VENV"
        "$LAB_TESTINFRA_VENV/bin/pip" install -q pytest-testinfra </dev/null
    fi
    TMPD=$(mktemp -d)
    cat >"$TMPD/test_lab_smoke.py" <<'EOF'
def test_python(host):
    assert host.run("python3 -c 'print(6 * 7)'").stdout.strip() == "42"


def test_tools(host):
    for cmd in ("tcprules", "tcprulescheck", "tcpdmatch", "inetd", "svscan", "swaks"):
        assert host.exists(cmd), cmd


def test_svscan(host):
    assert host.process.filter(comm="svscan")
    assert host.file("/etc/service").linked_to == "/service"
    assert host.package("daemontools").is_installed
EOF
    if (cd "$TMPD" && "$LAB_TESTINFRA_VENV/bin/pytest" -q -p no:cacheprovider \
            --hosts="podman://$A" test_lab_smoke.py </dev/null >&2); then
        ok "testinfra via podman://$A"
    else
        bad "testinfra via podman://$A"
    fi
fi

echo "smoke-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
