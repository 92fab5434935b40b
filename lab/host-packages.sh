#!/usr/bin/env bash
# The host packages the checks and the lab build need, installed with apt when
# missing and checked against their version ranges. `make test` and the lab
# targets run it first (README's commands need nothing installed by hand);
# quick when everything is there already.
#   bash lab/host-packages.sh [extra "name low high" specs...]
set -euo pipefail

# name, minimum version (inclusive), ceiling (exclusive)
specs=(
    # the static checks: ansible-test sanity runs shellcheck (and only warns
    # when it is missing); the README install test clones with git
    "shellcheck 0.8 1"
    # the unit tests judge the VIP boot units with systemd-analyze verify
    "systemd 247 300"
    "git 1:2.30 1:3"
    # the images
    "mmdebstrap 1.3 2"
    "e2fsprogs 1.46 2"
    # the lab's own User-Mode Linux kernel (lab/kernels.py)
    "make 4.3 5"
    "gcc 4:12 4:20"
    "flex 2.6 3"
    "bison 2:3.5 2:4"
    "bc 1.07 2"
    "libelf-dev 0.180 1"
    "kmod 28 40"
    "xz-utils 5.2 6"
    # the unit tests' judges of what the collection renders: keepalived
    # --config-test and nft, run in a network namespace of their own (unshare,
    # and ip for the interfaces keepalived's VRRP needs there)
    "keepalived 1:2.2.7 1:3"
    "nftables 1.0.6 2"
    "iproute2 6.1 7"
    "util-linux 2.38 3"
    "$@"
)

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for spec in "${specs[@]}"; do
    name=${spec%% *}
    installed "$name" || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "lab: missing host packages: ${missing[*]} (install them as root with apt-get)" >&2
        exit 1
    fi
    echo "lab: installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for spec in "${specs[@]}"; do
    read -r name low high <<<"$spec"
    have=$(dpkg-query -W -f '${Version}' "$name")
    if ! dpkg --compare-versions "$have" ge "$low" || ! dpkg --compare-versions "$have" lt "$high"; then
        echo "lab: host package $name $have is outside [$low, $high)" >&2
        exit 1
    fi
done
