#!/usr/bin/env bash
# The host packages the lab build needs, installed with apt when missing and
# checked against their version ranges. Called by the Makefile's lab targets
# and by .ci/run; quick when everything is there already.
#   bash lab/host-packages.sh [extra "name low high" specs...]
set -euo pipefail

# name, minimum version (inclusive), ceiling (exclusive)
specs=(
    "mmdebstrap 1.3 2"
    "e2fsprogs 1.46 2"
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
