#!/bin/sh
# Real IPVS traffic in the lab VM without containers (a few seconds on any
# kernel): the VM is a NAT director, two network namespaces are real
# servers, a third is the client. Prints which real server answered each
# request; fails unless round robin spread them over both.
#   sh lab/guest/ipvs-traffic.sh [REQUESTS]
set -eu
requests=${1:-6}
vip=10.99.0.1
ip link set lo up
sysctl -qw net.ipv4.ip_forward=1
ns() { ip netns exec "$@"; }
link() {  # namespace, veth name, address in the namespace, address here
    ip netns add "$1"
    ip link add "$2" type veth peer name eth0 netns "$1"
    ip addr add "$4/24" dev "$2"
    ip link set "$2" up
    ns "$1" ip link set lo up
    ns "$1" ip addr add "$3/24" dev eth0
    ns "$1" ip link set eth0 up
    ns "$1" ip route add default via "$4"
}
link client vclient 10.99.0.2 "$vip"
link rs1 vrs1 10.99.1.2 10.99.1.1
link rs2 vrs2 10.99.2.2 10.99.2.1
set --  # the servers' PIDs
for rs in rs1 rs2; do
    mkdir -p "/tmp/$rs" && echo "$rs" > "/tmp/$rs/index.html"
    ns "$rs" python3 -m http.server -d "/tmp/$rs" -b 0.0.0.0 80 >/dev/null 2>&1 &
    set -- "$@" $!
done
ipvsadm -A -t "$vip:80" -s rr
ipvsadm -a -t "$vip:80" -r 10.99.1.2:80 -m
ipvsadm -a -t "$vip:80" -r 10.99.2.2:80 -m
for rs in 10.99.1.2 10.99.2.2; do  # until both servers listen
    i=0; until ns client curl -sf -o /dev/null "http://$rs/" 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.2; done
done
answers=""
for i in $(seq "$requests"); do
    a=$(ns client curl -sS -m 5 "http://$vip/" || echo FAILED)
    echo "request $i -> $a"
    answers="$answers $a"
done
ipvsadm -L -n --stats
kill "$@" 2>/dev/null || true
case "$answers" in *FAILED*) echo "ipvs traffic: a request failed"; exit 1;; esac
case "$answers" in *rs1*) ;; *) echo "ipvs traffic: rs1 never answered"; exit 1;; esac
case "$answers" in *rs2*) ;; *) echo "ipvs traffic: rs2 never answered"; exit 1;; esac
echo "ipvs traffic: $requests requests through $vip, both real servers answered"
