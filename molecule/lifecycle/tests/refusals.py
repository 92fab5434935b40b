"""Bad input refused naming the field, before anything changes: the director
role given bad role variables (one play each), and site.yml given bad models
(one run each). The lifecycle verifier runs these on the cluster of its
version 4 and compares every host's whole state before and after.
"""
import json
from pathlib import Path

NAT_VIP, DR_VIP = "198.51.100.100", "198.51.100.101"


def _web(**change):
    svc = dict(name="web-nat", address=NAT_VIP, port=80, scheduler="lc", forwarding="nat",
               persistence_timeout=60, real_servers=[dict(host="rs1", weight=3)])
    svc.update(change)
    return svc


def _rs(**change):
    return _web(real_servers=[dict(dict(host="rs1", weight=3), **change)])


def _dr(**change):
    rs = dict(dict(host="rs3"), **change)
    return [_web(), dict(name="web-dr", address=DR_VIP, port=80, forwarding="dr", real_servers=[rs])]


KA = {"director_engine": "keepalived"}
KA_WEB = dict(KA, lvs_virtual_services=[_web()])
# (what is wrong, role variables, text the error must contain: the field)
BAD_INPUTS = [
    ("port 0 on a service without persistence", {"lvs_virtual_services": [_web(port=0, persistence_timeout=None)]}, "port"),
    ("port 65536", {"lvs_virtual_services": [_web(port=65536)]}, "port"),
    ("malformed VIP", {"lvs_virtual_services": [_web(address="198.51.100.300")]}, "address"),
    ("VIP given as a host name", {"lvs_virtual_services": [_web(address="www.example.org")]}, "address"),
    ("IPv6 VIP with an IPv4 real server", {"lvs_virtual_services": [_web(address="2001:db8::100")]}, "host"),
    ("unknown scheduler", {"lvs_virtual_services": [_web(scheduler="fastest")]}, "scheduler"),
    ("sh-port on rr", {"lvs_virtual_services": [_web(scheduler="rr", scheduler_flags=["sh-port"])]}, "scheduler_flags"),
    ("unknown scheduler flag", {"lvs_virtual_services": [_web(scheduler_flags=["flag-9"])]}, "scheduler_flags"),
    ("port mapping with DR", {"lvs_virtual_services": _dr(port=8080)}, "port"),
    ("fwmark together with a port", {"lvs_virtual_services": [_web(fwmark=7, address=None)]}, "fwmark"),
    ("fwmark 0", {"lvs_virtual_services": [_web(fwmark=0, address=None, port=None)]}, "fwmark"),
    ("unknown address family", {"lvs_virtual_services": [_web(fwmark=7, family="ipv5", address=None, port=None)]},
     "family"),
    ("unknown protocol", {"lvs_virtual_services": [_web(protocol="icmp")]}, "protocol"),
    ("one-packet scheduling on TCP", {"lvs_virtual_services": [_web(one_packet=True)]}, "one_packet"),
    ("persistence timeout 0", {"lvs_virtual_services": [_web(persistence_timeout=0)]}, "persistence_timeout"),
    ("persistence netmask /33", {"lvs_virtual_services": [_web(persistence_netmask="33")]}, "persistence_netmask"),
    ("negative weight", {"lvs_virtual_services": [_rs(weight=-1)]}, "weight"),
    ("weight 70000", {"lvs_virtual_services": [_rs(weight=70000)]}, "weight"),
    ("thresholds inverted", {"lvs_virtual_services": [_rs(u_threshold=10, l_threshold=20)]}, "threshold"),
    ("negative upper threshold", {"lvs_virtual_services": [_rs(u_threshold=-1)]}, "u_threshold"),
    ("GUE tunnel without a port", {"lvs_virtual_services": _dr(forwarding="tun", tun_type="gue")}, "tun_port"),
    ("unknown forwarding method", {"lvs_virtual_services": [_rs(forwarding="bridge")]}, "forwarding"),
    ("real server no host or address matches", {"lvs_virtual_services": [_rs(host="rs9")]}, "rs9"),
    ("malformed real server address", {"lvs_virtual_services": [_web(real_servers=[{"address": "203.0.113.300"}])]},
     "address"),
    ("real server with host and address", {"lvs_virtual_services": [_rs(address="203.0.113.11")]}, "host and address"),
    ("misspelt key", {"lvs_virtual_services": [_rs(weigth=2)]}, "weigth"),
    ("duplicate services", {"lvs_virtual_services": [_web(), _web(name="again")]}, "duplicates"),
    ("model not a list", {"lvs_virtual_services": "web"}, "lvs_virtual_services"),
    ("unknown VIP interface", {"director_vip_interface": "nosuch0"}, "director_vip_interface"),
    ("unknown purge", {"director_purge": "some"}, "director_purge"),
    ("negative drain timeout", {"director_drain_timeout": -1}, "drain_timeout"),
    ("unknown engine", {"director_engine": "pacemaker"}, "director_engine"),
    ("keepalived: unknown health check", dict(KA, lvs_virtual_services=[_web(health_check={"type": "icmp"})]),
     "health_check.type"),
    ("keepalived: health check path not absolute", dict(KA, lvs_virtual_services=[
        _web(health_check={"type": "http", "path": "health"})]), "health_check.path"),
    ("keepalived: sorry server by name", dict(KA, lvs_virtual_services=[
        _web(sorry_server={"address": "sorry.example.org"})]), "sorry_server"),
    ("keepalived: quorum 0", dict(KA, lvs_virtual_services=[_web(quorum=0)]), "quorum"),
    # a model keepalived takes (the scenario's has a fwmark service whose real servers state no port to
    # check, refused first with the keepalived engine): the VRRP setting is what is wrong
    ("keepalived: authentication with VRRPv3", dict(KA_WEB, director_vrrp_auth_pass="secret"), "director_vrrp"),
    ("keepalived: VRRP priority 300", dict(KA_WEB, director_vrrp_priority=300), "priority"),
    ("keepalived: router id 0", dict(KA_WEB, director_vrrp_router_id=0), "director_vrrp_router_id"),
]


M = "lvs_virtual_services"
# Bad models through site.yml: (what is wrong, the model, what the error must name)
BAD_MODELS = [
    ("port 0 without persistence", [_web(port=0, persistence_timeout=None)], f"{M}[0].port"),
    ("port 65536", [_web(port=65536)], f"{M}[0].port"),
    ("port not a number", [_web(port="eighty")], f"{M}[0].port"),
    ("malformed VIP", [_web(address="198.51.100.300")], f"{M}[0].address"),
    ("VIP given as a host name", [_web(address="www.example.org")], f"{M}[0].address"),
    ("IPv6 VIP with a real server that has no IPv6 address", [_web(address="2001:db8::100")],
     f"{M}[0].real_servers[0].host"),
    ("unknown scheduler", [_web(scheduler="fastest")], f"{M}[0].scheduler"),
    ("sh-port on rr", [_web(scheduler="rr", scheduler_flags=["sh-port"])], f"{M}[0].scheduler_flags"),
    ("fwmark 0", [_web(fwmark=0, address=None, port=None)], f"{M}[0].fwmark"),
    ("unknown address family", [_web(fwmark=7, family="ipv5", address=None, port=None)], f"{M}[0].family"),
    ("one-packet scheduling on TCP", [_web(one_packet=True)], f"{M}[0].one_packet"),
    ("persistent not a boolean", [_web(persistent="maybe")], f"{M}[0].persistent"),
    ("persistence netmask /33", [_web(persistence_netmask="33")], f"{M}[0].persistence_netmask"),
    ("port mapping with DR", _dr(port=8080), f"{M}[1].real_servers[0].port"),
    ("GUE tunnel without a port", _dr(forwarding="tun", tun_type="gue"), f"{M}[1].real_servers[0].tun_port"),
    ("weight 70000", [_rs(weight=70000)], f"{M}[0].real_servers[0].weight"),
    ("weight not a number", [_rs(weight="heavy")], f"{M}[0].real_servers[0].weight"),
    ("thresholds inverted", [_rs(u_threshold=10, l_threshold=20)], f"{M}[0].real_servers[0].l_threshold"),
    ("unknown forwarding method", [_rs(forwarding="bridge")], f"{M}[0].real_servers[0].forwarding"),
    ("no such inventory host", [_rs(host="rs9")], f"{M}[0].real_servers[0].host"),
    ("host and address", [_rs(address="203.0.113.11")], f"{M}[0].real_servers[0]: give exactly one"),
    ("misspelt key", [_rs(weigth=2)], f"{M}[0].real_servers[0]: unknown key(s) weigth"),
    ("a real server twice", [_web(real_servers=[dict(host="rs1"), dict(address="203.0.113.11")])],
     f"{M}[0].real_servers[1]"),
    ("the same service twice", [_web(), _web(name="again")], f"{M}[1]"),
    ("not a list", "web", f"{M}: must be a list"),
]


def _mark(**change):
    svc = dict(name="web-mark", fwmark=9, vips=["198.51.100.103"], forwarding="dr", real_servers=[dict(host="rs2")])
    svc.update(change)
    return svc


def _nested(depth):
    value = [dict(host="rs1")]
    for _level in range(depth):
        value = [value]
    return value


_V6 = dict(forwarding="nat", persistence_timeout=None, real_servers=[dict(address="2001:db8:11::11")])
# Hostile input through site.yml (issue 29's review): what a model generated from a catalogue or pasted
# from a ticket may hold, and role variables given as extra vars. (what, extra vars, what the error names)
HOSTILE = [
    ("a zone id carrying a unit line in a VIP",
     {M: [_web(address="2001:db8::100%eth0\nExecStartPre=/bin/touch /tmp/pwned")]}, f"{M}[0].address"),
    ("an IPv4-mapped IPv6 address for an IPv4 service", {M: [_web(address="::ffff:198.51.100.100")]},
     f"{M}[0].address"),
    ("a service name carrying a virtual_server", {M: [_web(name="web\n}\nvirtual_server 10.9.9.9 80 {")]},
     f"{M}[0].name"),
    ("a fwmark VIP carrying an include, without ports", {M: [_mark(vips=["198.51.100.103\ninclude /tmp/x"])]},
     f"{M}[0].vips[0]"),
    ("fwmark vips as one string", {M: [_mark(vips="198.51.100.103")]}, f"{M}[0].vips"),
    ("an nft match that rewrites addresses", {M: [_mark(match="ip daddr 198.51.100.103 ip saddr set 10.0.0.1")]},
     f"{M}[0].match"),
    ("an nft match with a verdict map", {M: [_mark(match="tcp dport vmap { 80 : accept }")]}, f"{M}[0].match"),
    ("an nft match that skips conntrack", {M: [_mark(match="ip daddr 198.51.100.103 notrack")]}, f"{M}[0].match"),
    ("a health check path carrying notify_master",
     {M: [_web(health_check={"type": "http", "path": "/\nnotify_master /bin/sh"})]}, f"{M}[0].health_check.path"),
    ("a sorry server with a zone id", {M: [_web(sorry_server={"address": "fe80::1%eth0"})]},
     f"{M}[0].sorry_server.address"),
    ("a quorum with a trailing space", {M: [_web(quorum="1 ")]}, f"{M}[0].quorum"),
    ("a port with a trailing space", {M: [_web(port="80 ")]}, f"{M}[0].port"),
    ("a control character in the scheduler", {M: [_web(scheduler="wrr\u0000")]}, f"{M}[0].scheduler"),
    ("a name of 5,000 characters", {M: [_web(name="w" * 5000)]}, f"{M}[0].name"),
    ("real servers nested 50 deep", {M: [_web(real_servers=_nested(50))]}, "nested deeper than"),
    ("one IPv6 service under two spellings",
     {M: [_web(address="2001:db8::100", **_V6), _web(name="again", address="2001:DB8:0::0100", **_V6)]}, f"{M}[1]"),
    ("a sysctl key that climbs out of /proc/sys", {"director_sysctls": {"../../../etc/passwd": 1}},
     "director_sysctls[../../../etc/passwd]"),
    ("a sysctl key with an empty part", {"director_sysctls": {"net..ipv4.ip_forward": 1}}, "director_sysctls["),
    ("a sysctl value carrying a line", {"director_sysctls": {"net.core.somaxconn": "4096\nkernel.panic = 1"}},
     "director_sysctls[net.core.somaxconn]"),
    ("a VRRP password carrying a block", {"director_vrrp_auth_pass": "x\n}\nvrrp_script"}, "director_vrrp_auth_pass"),
    ("an interface name carrying a unit line", {"director_vip_interface": "eth0\nExecStart=/bin/sh"},
     "director_vip_interface"),
    ("a sysctl file outside sysctl.d", {"director_sysctl_file": "/etc/sysctl.d/../../shadow"}, "director_sysctl_file"),
    ("a package list as one string", {"director_packages": "ipvsadm,keepalived"}, "director_packages"),
    ("a number with a trailing space", {"director_drain_timeout": "30 "}, "director_drain_timeout"),
    ("NAT routes as one string", {"realserver_nat_routes": "default"}, "realserver_nat_routes"),
    ("a host address with a zone id", {"lvs_address": "203.0.113.11%eth0"}, "lvs_address"),
]


def bad_input_playbook(path, given):
    """One play per bad input, over the role variables `given` (play vars outrank
    the inventory); a block/rescue records the role's refusal, or that it
    accepted the input (a defect)."""
    plays = [{"name": "Facts", "hosts": "director", "gather_facts": True, "gather_subset": ["min", "network"],
              "tasks": []}]
    for index, (name, role_vars, _field) in enumerate(BAD_INPUTS):
        plays.append({"name": f"case {index}: {name}", "hosts": "director", "gather_facts": False,
                      "vars": {**given, "director_install_package": False, **role_vars}, "tasks": [{"block": [
                          {"name": "Run the director role", "ansible.builtin.include_role": {"name": "lvs.cluster.director"}},
                          {"name": "Accepted", "ansible.builtin.debug": {"msg": "ACCEPTED"}}],
                          "rescue": [{"name": "Refused", "ansible.builtin.debug": {
                              "msg": "{{ ansible_failed_result.msg | default(ansible_failed_result) }}"}}]}]})
    Path(path).write_text(json.dumps(plays))


def refused_inputs(run):
    """(name, refused, message) per bad role input, from the JSON run of bad_input_playbook."""
    outcomes = []
    for play, (name, _vars, field) in zip(run.json["plays"][1:], BAD_INPUTS):
        ran = {t["task"]["name"]: t["hosts"]["director"] for t in play["tasks"] if "director" in t["hosts"]}
        msg = str(ran.get("Refused", ran.get("Accepted", {})).get("msg"))
        outcomes.append((name, "Refused" in ran and field in msg, msg))
    assert len(outcomes) == len(BAD_INPUTS), f"{len(outcomes)} of {len(BAD_INPUTS)} plays ran"
    return outcomes


def refused_model(run, field):
    """(refused naming the field and changing nothing, first failure message) of one site.yml run."""
    failures = [str(result.get("msg", "")) for play in run.json["plays"] for task in play["tasks"]
                for result in task["hosts"].values() if result.get("failed")]
    changed = sum(stats["changed"] for stats in run.json["stats"].values())
    named = any(field in msg for msg in failures)
    return run.returncode != 0 and named and not changed, (failures or ["-"])[0]
