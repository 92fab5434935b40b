# -*- coding: utf-8 -*-
# Copyright: Contributors to the lvs.cluster project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: keepalived_services
short_description: Turn the lvs_virtual_services data model into keepalived virtual servers
version_added: 0.2.0
author: lvs.cluster contributors (!UNKNOWN)
description:
  - What the C(lvs.cluster.director) role's keepalived engine renders into C(keepalived.conf).
  - Resolves the model like P(lvs.cluster.director_services#filter), then adds the keys only keepalived
    uses, each checked, an error naming the field (C(lvs_virtual_services[0].real_servers[1].health_check.path)).
  - C(health_check) is merged key by key - the O(defaults), then the service's, then the real
    server's. Its C(type) is V(http) (C(HTTP_GET)), V(https) (C(SSL_GET)), V(tcp) (C(TCP_CHECK), the default
    for TCP services), V(misc) (C(MISC_CHECK), running C(script)) or V(none) (the default for UDP and SCTP
    services); further keys C(port), C(path), C(status_code), C(digest), C(virtualhost), C(timeout),
    C(delay_loop), C(connect_timeout), C(retry), C(delay_before_retry), C(warmup).
  - A service may also set C(sorry_server) (C(address) or C(host), C(port), C(forwarding)), C(quorum),
    C(hysteresis) and C(inhibit_on_failure) (a real server may override the last).
  - Services with C(state=absent) are left out, so keepalived removes them on reload.
extends_documentation_fragment:
  - lvs.cluster.model
positional: hostvars, defaults
options:
  hostvars:
    description: The C(hostvars) of the play, to resolve C(host) entries.
    type: dict
    required: true
  defaults:
    description: The health check settings every real server starts from (the role's C(director_health_check)).
    type: dict
'''

EXAMPLES = r'''
- name: The virtual servers keepalived.conf is rendered from
  ansible.builtin.debug:
    msg: "{{ lvs_virtual_services | lvs.cluster.keepalived_services(hostvars, {'delay_loop': 2}) }}"
'''

RETURN = r'''
_value:
  description:
    - The services with C(method) (V(NAT), V(DR), V(TUN)), C(family) and resolved persistence, each real
      server with C(method) (tunnel options appended), C(inhibit_on_failure) and C(check) (keepalived's
      checker keyword and its options, or null for no checker).
  type: list
  elements: dict
'''

from ansible_collections.lvs.cluster.plugins.plugin_utils.keepalived import keepalived_services


class FilterModule(object):
    def filters(self):
        return {'keepalived_services': keepalived_services}
