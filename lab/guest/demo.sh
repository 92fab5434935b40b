#!/bin/sh
# `make demo`: bring up the `nat` scenario's cluster with the collection's
# site playbook (molecule create + converge), send a batch of requests through
# the VIP and show which real server answered each, then the live IPVS table.
set -eu
cd "$(dirname "$0")/../.."
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
echo "=== the director's IPVS table (counters lag up to 2 s):"
sleep 2
podman exec director ipvsadm -L -n --stats
