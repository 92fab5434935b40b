# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """How a virtual service is identified (kept in step with ipvs_args.py)."""

    # Options common to every way of naming a service.
    DOCUMENTATION = r'''
options:
  protocol:
    description:
      - Transport protocol of an address-based virtual service.
      - Defaults to V(tcp) when an address is given. Mutually exclusive with O(fwmark).
    type: str
    choices: [tcp, udp, sctp]
  fwmark:
    description:
      - Firewall mark (1 to 4294967295) identifying a fwmark-based virtual service,
        as set by C(iptables -j MARK) or C(nft meta mark set).
      - Mutually exclusive with the protocol, address and port options.
    type: int
  family:
    description:
      - Address family. Required to tell IPv4 from IPv6 fwmark services (default V(ipv4)).
      - For address-based services it is derived from the address and, if given, must match it.
    type: str
    choices: [ipv4, ipv6]
'''

    # ipvs_service: the service address is simply "address"/"port".
    ADDRESS = r'''
options:
  address:
    description:
      - Virtual IP address (IPv4 or IPv6, brackets around IPv6 allowed) of the service.
      - Required unless O(fwmark) is set. Hostnames are refused.
    type: str
  port:
    description:
      - Virtual port, 0 to 65535. Port V(0) is only accepted for persistent services
        (all ports of the address), like ipvsadm does.
      - Required unless O(fwmark) is set.
    type: int
'''

    # ipvs_dest: "address"/"port" name the real server, so the service uses these.
    VIRTUAL = r'''
options:
  virtual_address:
    description:
      - Virtual IP address of the existing virtual service.
      - Required unless O(fwmark) is set.
    type: str
    aliases: [vip]
  virtual_port:
    description:
      - Virtual port of the existing virtual service.
      - Required unless O(fwmark) is set.
    type: int
    aliases: [vport]
'''
