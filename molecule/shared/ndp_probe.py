"""Who answers IPv6 neighbour discovery for an address: ARP's arping, for IPv6.

python3 ndp_probe.py DEV ADDRESS [SECONDS]
Sends a neighbour solicitation for ADDRESS to its solicited-node multicast
group out of DEV, three times, and prints the link-layer address of every
advertisement for it that comes back within SECONDS (default 2), one per line.
Run in the client's network namespace (nsenter --net); standard library only.
"""
import fcntl
import ipaddress
import select
import socket
import struct
import sys
import time

NS, NA, SOURCE_LLADDR, TARGET_LLADDR = 135, 136, 1, 2


def solicitation(target, mac):
    # checksum 0: the kernel fills it in for ICMPv6 raw sockets
    return (struct.pack("!BBHI", NS, 0, 0, 0) + target.packed
            + struct.pack("!BB", SOURCE_LLADDR, 1) + mac)


def advertised_lladdr(data, target):
    """The target link-layer address of a neighbour advertisement for `target`, else None."""
    if len(data) < 24 or data[0] != NA or data[8:24] != target.packed:
        return None
    options = data[24:]
    while len(options) >= 8 and options[1]:
        kind, length = options[0], options[1] * 8
        if kind == TARGET_LLADDR:
            return options[2:8].hex(":")
        options = options[length:]
    return None


def main(dev, address, seconds=2.0):
    target = ipaddress.IPv6Address(address)
    index = socket.if_nametoindex(dev)
    group = ipaddress.IPv6Address(ipaddress.IPv6Address("ff02::1:ff00:0").packed[:13] + target.packed[13:])
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)  # RFC 4861: 255 or ignored
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    # SIOCGIFHWADDR: the device's MAC, from this network namespace (sysfs may be another's)
    mac = fcntl.ioctl(sock.fileno(), 0x8927, struct.pack("256s", dev.encode()))[18:24]
    repliers = set()
    start = time.monotonic()
    for rounds in range(1, 4):  # a solicitation, then a third of the time to listen
        sock.sendto(solicitation(target, mac), (str(group), 0, 0, index))
        until = start + seconds * rounds / 3
        while (left := until - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            found = advertised_lladdr(sock.recv(2048), target)
            if found:
                repliers.add(found)
    for lladdr in sorted(repliers):
        print(lladdr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:4]))
