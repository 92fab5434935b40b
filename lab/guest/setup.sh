#!/bin/sh
# Runs in the lab VM at every boot, before the job (called by lab-init from the
# shared working tree, so changing it needs no image rebuild).

# The lab's own kernel has everything built in and brings its module tree
# (modules.builtin only) in the run folder: modprobe of a built-in is a no-op.
kver=$(uname -r)
if [ -d "/lab/modules/$kver" ] && [ ! -e "/lib/modules/$kver" ]; then
    cp -r "/lab/modules/$kver" "/lib/modules/$kver"
fi

# Every kernel module the scenarios use, loaded up front: containers share the
# VM's kernel but cannot load modules themselves.
for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr \
         ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh \
         ip_vs_ftp ip_vs_pe_sip ipip ip6_tunnel dummy veth bridge \
         overlay nf_conntrack nf_nat xt_MASQUERADE xt_comment xt_mark xt_addrtype \
         tun; do
    modprobe -q "$m" 2>/dev/null || echo "lab setup: kernel module $m not available" >&2
done

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
