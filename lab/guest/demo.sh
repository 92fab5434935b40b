#!/bin/sh
# `make demo`: bring up the `nat` scenario's cluster with the collection's
# site playbook (molecule create + converge), send a batch of requests through
# the VIP and show which real server answered each, then the live IPVS table.
set -eu
cd "$(dirname "$0")/../.."
# the lab's settings over the scenarios' base configuration (no prerun)
molecule() { command molecule -c .config/molecule/config.yml -c lab/guest/molecule.yml "$@"; }
scenario=${DEMO_SCENARIO:-nat}
vip=${DEMO_VIP:-198.51.100.100}
requests=${DEMO_REQUESTS:-12}
trap 'molecule destroy -s "$scenario" >/dev/null 2>&1 || true' EXIT
molecule create -s "$scenario"
molecule converge -s "$scenario"
echo
echo "=== $requests requests from the client to http://$vip/ (answered by):"
podman exec client sh -c "for i in \$(seq $requests); do printf 'request %2d -> ' \$i; curl -sS -m 3 http://$vip/ || echo FAILED; done"
echo
echo "=== the live table, read by lvs.cluster.ipvs_info (ansible-playbook lvs.cluster.table):"
sleep 2  # the kernel updates the counters every 2 s
inventory=$(find "$HOME"/.ansible/tmp -maxdepth 2 -path "*/molecule.*.$scenario/inventory" | head -n 1)
ANSIBLE_CONNECTION_PLUGINS="$PWD/molecule/shared/plugins/connection" ANSIBLE_FORCE_COLOR=0 \
    ANSIBLE_PYTHON_INTERPRETER=auto_silent \
    ansible-playbook -i "$inventory" playbooks/table.yml | sed -n '/"msg": \[/,/\]/p' | sed -e '1d;$d' -e 's/^ *"//' -e 's/",\{0,1\}$//'
