#!/bin/sh
# Unloads IPVS and the tunnel modules the collection loads, so that the next
# scenario's hosts start as fresh hosts do: nothing of them loaded (the
# scenario hosts share the VM's kernel). A destroyed scenario's network
# namespaces are freed in the background: retry while they still hold a module.
pattern='^(ip_vs|ipip$|ip6_tunnel$|ip_gre$|ip6_gre$|fou6?$|dummy$)'
for _ in $(seq 40); do
    mods=$(awk -v p="$pattern" '$1 ~ p {print $1}' /proc/modules)
    [ -z "$mods" ] && exit 0
    # shellcheck disable=SC2086 # one word per module
    modprobe -r -a $mods 2>/dev/null
    sleep 0.5
done
echo "unload-ipvs: still loaded after 20 s: $(printf '%s' "$mods" | tr '\n' ' ')" >&2
exit 1
