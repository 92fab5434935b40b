#!/bin/sh
# Runs in the lab VM at every boot, before the job (called by lab-init from the
# shared working tree, so changing it needs no image rebuild).

# The lab's own kernel brings its module tree (IPVS, tunnels, netfilter as
# modules, as on Debian) in the run folder. Nothing of IPVS is loaded here:
# a scenario host starts as a fresh host does, and what loads ip_vs is the
# collection (or the kernel, on demand). Podman's networks load netfilter.
# Replaced at every boot: a tree an earlier build of the same release left in
# the image (its build boots write to it) does not fit this kernel.
kver=$(uname -r)
if [ -d "/lab/modules/$kver" ]; then
    rm -rf "/lib/modules/$kver"
    cp -r "/lab/modules/$kver" "/lib/modules/$kver"
fi

# Netfilter through nftables (iptables-nft, netavark's default) where the
# kernel has nftables NAT; bookworm's UML kernel has none: iptables-legacy.
if ! iptables-nft -t nat -n -L >/dev/null 2>&1; then
    for m in iptable_nat iptable_filter iptable_mangle ip6table_nat ip6table_filter; do
        modprobe -q "$m" 2>/dev/null || echo "lab setup: kernel module $m not available" >&2
    done
    update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy
    update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-legacy
fi

# The working tree is the collection lvs.cluster: link it where Ansible looks,
# so Molecule's prerun (a 60 s collection build and install under UML) is off.
mkdir -p /usr/share/ansible/collections/ansible_collections/lvs
ln -sfn /src /usr/share/ansible/collections/ansible_collections/lvs/cluster
