"""Reconfiguration under load: site.yml applies five changes in turn while the
client streams 10 requests a second to the NAT VIP and 10 to the DR VIP (a new
connection each). Not one request may fail, and the table must be exactly the
model's after each step, and `--check --diff` run just before must have
predicted exactly the commands and diff of the real run. Then every host reboots and must come back identical
without Ansible. The tests run in file order.
"""
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import (SNAPSHOT, ansible_playbook, assert_ratio, host, reboot, requests,  # noqa: E402
                        snapshot, start_load, stop_load, summary, task_result)

SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"
NAT_VIP, DR_VIP = "198.51.100.100", "198.51.100.101"
NAT_RS = {"rs1": "203.0.113.11", "rs2": "203.0.113.12"}
DR_RS = {"rs3": "198.51.100.13", "rs4": "198.51.100.14"}


FOREIGN = "-A -t 198.51.100.2:8080 -s rr"  # another tool's service: never the role's


def model(nat, dr, scheduler=("wrr", "wrr"), persistence=None):
    """The data model: nat/dr map a host to its weight (None: no such service)."""
    services = []
    for name, vip, fwd, servers, sched in (("web-nat", NAT_VIP, "nat", nat, scheduler[0]),
                                           ("web-dr", DR_VIP, "dr", dr, scheduler[1])):
        if servers is None:
            continue
        svc = dict(name=name, address=vip, port=80, scheduler=sched, forwarding=fwd,
                   real_servers=[dict(host=h, weight=w) for h, w in servers.items()])
        if persistence:
            svc["persistence_timeout"] = persistence
        services.append(svc)
    return services


def table(nat, dr, scheduler=("wrr", "wrr"), persistence=None):
    """The `ipvsadm -S -n` lines that model must give (the foreign service stays)."""
    lines = [FOREIGN]
    for vip, flag, servers, addresses, sched in ((NAT_VIP, "-m", nat, NAT_RS, scheduler[0]),
                                                 (DR_VIP, "-g", dr, DR_RS, scheduler[1])):
        if servers is None:
            continue
        lines.append(f"-A -t {vip}:80 -s {sched}" + (f" -p {persistence}" if persistence else ""))
        lines += [f"-a -t {vip}:80 -r {addresses[h]}:80 {flag} -w {w}" for h, w in servers.items()]
    return sorted(lines)


STEPS = [
    ("add a real server", dict(nat={"rs1": 1, "rs2": 1}, dr={"rs3": 1, "rs4": 1})),
    ("change the weights", dict(nat={"rs1": 3, "rs2": 1}, dr={"rs3": 1, "rs4": 2})),
    ("drain and remove a real server", dict(nat={"rs1": 3}, dr={"rs3": 1})),
    ("change the scheduler", dict(nat={"rs1": 3}, dr={"rs3": 1}, scheduler=("lc", "wlc"))),
    ("switch persistence on", dict(nat={"rs1": 3}, dr={"rs3": 1}, scheduler=("lc", "wlc"), persistence=60)),
    ("remove a service", dict(nat={"rs1": 3}, dr=None, scheduler=("lc", "wlc"), persistence=60)),
]
FIGURES = []


def test_starting_point():
    director = host("director")
    director.check_output(FOREIGN.replace("-A", "ipvsadm -A", 1))
    saved = sorted(director.check_output("ipvsadm -S -n").splitlines())
    assert saved == table(nat={"rs1": 1}, dr={"rs3": 1})


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[step[0] for step in STEPS])
def test_reconfigure_under_load(step):
    name, change = STEPS[step]
    extra = json.dumps({"lvs_virtual_services": model(**change)})
    # What check mode predicts (directors only: real servers are given by address)...
    check = ansible_playbook(SITE, "-e", extra, "--check", "--diff", "--limit", "lvs_directors", as_json=True)
    assert check.returncode == 0
    predicted = task_result(check, "Converge the IPVS table", "director")
    # the services that stay in the model get a stream each
    streams = [(label, vip) for label, vip, key in (("NAT", NAT_VIP, "nat"), ("DR", DR_VIP, "dr"))
               if change[key] is not None]
    for label, vip in streams:
        start_load("stream", f"/tmp/{label}.jsonl", "--rate", "10", "--max", "400", url=f"http://{vip}/")
    time.sleep(2)
    began = time.monotonic()
    run = ansible_playbook(SITE, "-e", extra, "--diff", as_json=True)
    took = time.monotonic() - began
    time.sleep(2)
    results = [(label, stop_load(f"/tmp/{label}.jsonl")) for label, _vip in streams]
    figure = f"{name}: site.yml {took:.0f} s; " + "; ".join(f"{label} {summary(r)}" for label, r in results)
    FIGURES.append(figure)
    print(figure)
    assert run.returncode == 0
    for label, records in results:
        failed = [r for r in records if not r["ok"]]
        assert not failed, f"{label}: {len(failed)} of {len(records)} failed, first {failed[:3]}"
        assert len(records) >= 10 * took
    saved = sorted(host("director").check_output("ipvsadm -S -n").splitlines())
    assert saved == table(**change)
    # ... is exactly what the real run did
    done = task_result(run, "Converge the IPVS table", "director")
    print(f"{name}: check mode predicted {predicted['commands']}; the run made {done['commands']}")
    assert done["changed"] and predicted["changed"]
    assert predicted["commands"] == done["commands"] and predicted["diff"] == done["diff"]


HOSTS = ("director", "rs1", "rs2", "rs3", "rs4")  # the managed hosts


def test_what_left_the_model_left_the_hosts():
    """rs2 and rs4 left their services at step 3, and the DR service left at
    step 6: the VIPs, boot units and the DR real servers' ARP settings went with
    them, and rs2's replies no longer go via the director (its network has no
    gateway: no default route, as before the collection); the NAT VIP stays."""
    unit = f"/etc/systemd/system/lvs-vip-{DR_VIP}.service"
    director = host("director")
    addresses = director.check_output("ip -o addr show")
    assert f" {NAT_VIP}/32 " in addresses and f" {DR_VIP}/" not in addresses
    assert not director.file(unit).exists
    assert director.file("/var/lib/lvs-cluster/director-vips").content_string == f"{NAT_VIP}\n"
    for name in DR_RS:
        rs = host(name)
        assert f" {DR_VIP}/" not in rs.check_output("ip -o addr show"), name
        left = rs.run("ls /etc/systemd/system /etc/systemd/system/multi-user.target.wants "
                      "/etc/sysctl.d /var/lib/lvs-cluster 2>/dev/null").stdout
        assert "lvs-vip-" not in left and "lvs-realserver" not in left and "realserver_dr" not in left, f"{name}: {left}"
        for key in ("all.arp_ignore", "all.arp_announce", "lo.arp_ignore", "eth0.arp_announce"):
            assert rs.check_output(f"sysctl -n net.ipv4.conf.{key}") == "0", f"{name}: {key}"
    rs2 = host("rs2")
    assert rs2.check_output("ip route show default") == ""
    left = rs2.run("ls /etc/systemd/system /etc/systemd/system/multi-user.target.wants /var/lib/lvs-cluster").stdout
    assert "lvs-nat-routes" not in left and "realserver_nat" not in left, left
    assert "default via 203.0.113.2 " in host("rs1").check_output("ip route show default") + " "


def test_reboot_restores_everything_without_ansible():
    before = {name: snapshot(name) for name in HOSTS}
    took = reboot(HOSTS)
    after = {name: snapshot(name) for name in HOSTS}
    for name in HOSTS:
        assert after[name] == before[name], f"{name} after the reboot:\n{after[name]}\nbefore:\n{before[name]}"
    FIGURES.append(f"reboot of {len(HOSTS)} hosts: {took:.0f} s, every table, address, route and sysctl "
                   f"identical ({sum(len(s.splitlines()) for s in before.values())} lines compared)")
    print(FIGURES[-1])
    assert FOREIGN in before["director"]
    assert_ratio(requests(NAT_VIP, 10), {"rs1": 1}, tolerance=0)


def test_purge_all_takes_the_whole_table_and_only_when_asked():
    extra = json.dumps({"lvs_virtual_services": model(**STEPS[-1][1]), "director_purge": "all"})
    run = ansible_playbook(SITE, "-e", extra, "--limit", "lvs_directors", as_json=True)
    assert run.returncode == 0
    assert task_result(run, "Converge the IPVS table", "director")["commands"] == [
        FOREIGN.replace("-A", "-D", 1).replace(" -s rr", "")]
    saved = sorted(host("director").check_output("ipvsadm -S -n").splitlines())
    assert saved == [line for line in table(**STEPS[-1][1]) if line != FOREIGN]


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
# (what is wrong, role variables, text the error must contain: the field)
BAD_INPUTS = [
    ("port 0 on a service without persistence", {"lvs_virtual_services": [_web(port=0, persistence_timeout=None)]}, "port"),
    ("port 65536", {"lvs_virtual_services": [_web(port=65536)]}, "port"),
    ("malformed VIP", {"lvs_virtual_services": [_web(address="198.51.100.300")]}, "address"),
    ("VIP given as a host name", {"lvs_virtual_services": [_web(address="www.example.org")]}, "address"),
    ("IPv6 VIP with an IPv4 real server", {"lvs_virtual_services": [_web(address="2001:db8::100")]}, "address"),
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
    ("keepalived: authentication with VRRPv3", dict(KA, director_vrrp_auth_pass="secret"), "director_vrrp"),
    ("keepalived: VRRP priority 300", dict(KA, director_vrrp_priority=300), "priority"),
    ("keepalived: router id 0", dict(KA, director_vrrp_router_id=0), "router id"),
]


def bad_input_playbook(path):
    """One play per bad input (play vars outrank the inventory); a block/rescue
    records the role's refusal, or that it accepted the input (a defect)."""
    plays = [{"name": "Facts", "hosts": "director", "gather_facts": True, "gather_subset": ["min", "network"],
              "tasks": []}]
    for index, (name, role_vars, _field) in enumerate(BAD_INPUTS):
        plays.append({"name": f"case {index}: {name}", "hosts": "director", "gather_facts": False,
                      "vars": dict({"director_install_package": False}, **role_vars), "tasks": [{"block": [
                          {"name": "Run the director role", "ansible.builtin.include_role": {"name": "lvs.cluster.director"}},
                          {"name": "Accepted", "ansible.builtin.debug": {"msg": "ACCEPTED"}}],
                          "rescue": [{"name": "Refused", "ansible.builtin.debug": {
                              "msg": "{{ ansible_failed_result.msg | default(ansible_failed_result) }}"}}]}]})
    Path(path).write_text(json.dumps(plays))


def test_bad_inputs_are_refused_naming_the_field_and_change_nothing(tmp_path):
    hosts = ("director",)
    before = {name: snapshot(name) for name in hosts}
    playbook = tmp_path / "bad_inputs.yml"
    bad_input_playbook(playbook)
    run = ansible_playbook(playbook, as_json=True)
    assert run.returncode == 0
    outcomes = []
    for play in run.json["plays"][1:]:
        ran = {t["task"]["name"]: t["hosts"]["director"] for t in play["tasks"] if "director" in t["hosts"]}
        outcomes.append(("Refused" in ran, str(ran.get("Refused", ran.get("Accepted", {})).get("msg"))))
    assert len(outcomes) == len(BAD_INPUTS)
    wrong = []
    for (name, _vars, field), (refused, msg) in zip(BAD_INPUTS, outcomes):
        print(f"{name}: {'refused' if refused else 'ACCEPTED'}: {msg[:300]}")
        if not refused or field not in msg:
            wrong.append(f"{name}: expected a refusal naming {field!r}, got {msg[:300]!r}")
    after = {name: snapshot(name) for name in hosts}
    FIGURES.append(f"bad inputs: {len(BAD_INPUTS)} tried, {sum(r for r, _m in outcomes)} refused, "
                   f"state changed: {'no' if after == before else 'YES'}")
    print(FIGURES[-1])
    assert not wrong, "\n".join(wrong)
    assert after == before


M = "lvs_virtual_services"
# Bad models through site.yml: (what is wrong, the model, what the error must name)
BAD_MODELS = [
    ("port 0 without persistence", [_web(port=0, persistence_timeout=None)], f"{M}[0].port"),
    ("port 65536", [_web(port=65536)], f"{M}[0].port"),
    ("port not a number", [_web(port="eighty")], f"{M}[0].port"),
    ("malformed VIP", [_web(address="198.51.100.300")], f"{M}[0].address"),
    ("VIP given as a host name", [_web(address="www.example.org")], f"{M}[0].address"),
    ("IPv6 VIP with an IPv4 real server", [_web(address="2001:db8::100")], f"{M}[0].real_servers[0].address"),
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
# What a bad model must leave alone on every host: the reboot snapshot plus the
# collection's units and files.
STATE = SNAPSHOT + ("; echo '# units'; systemctl list-unit-files --no-legend 'lvs-*' 'ipvsadm*' 2>/dev/null;"
                    " echo '# files'; sha256sum /etc/sysctl.d/*lvs* /etc/systemd/system/lvs-* /etc/modules-load.d/lvs-*"
                    " /var/lib/lvs-cluster/* /etc/ipvsadm.rules 2>/dev/null | sort")


def test_bad_models_through_site_yml_change_no_host(tmp_path):
    hosts = ("director", "rs1", "rs2", "rs3", "rs4")
    before = {name: host(name).check_output(STATE) for name in hosts}
    wrong, refused, seconds = [], 0, []
    for index, (name, bad, field) in enumerate(BAD_MODELS):
        extra = tmp_path / f"model{index}.json"
        extra.write_text(json.dumps({M: bad}))
        began = time.monotonic()
        run = ansible_playbook(SITE, "-e", f"@{extra}", as_json=True)
        seconds.append(time.monotonic() - began)
        failures = [str(result.get("msg", "")) for play in run.json["plays"] for task in play["tasks"]
                    for result in task["hosts"].values() if result.get("failed")]
        changed = sum(stats["changed"] for stats in run.json["stats"].values())
        named = any(field in msg for msg in failures)
        refused += run.returncode != 0 and named and not changed
        print(f"{name}: rc {run.returncode}, changed {changed}: {(failures or ['-'])[0][:240]}")
        if run.returncode == 0 or not named or changed:
            wrong.append(f"{name}: expected a failure naming {field!r} and no change, got rc {run.returncode}, "
                         f"{changed} changed, {failures[:1]!r}")
    after = {name: host(name).check_output(STATE) for name in hosts}
    FIGURES.append(f"bad models through site.yml: {len(BAD_MODELS)} tried, {refused} refused naming the field, "
                   f"state of {len(hosts)} hosts changed: {'no' if after == before else 'YES'}, "
                   f"{sum(seconds) / len(seconds):.1f} s a run")
    print(FIGURES[-1])
    assert not wrong, "\n".join(wrong)
    assert after == before


def test_figures():
    print("\n".join(["reconfiguration under load:"] + FIGURES))
    assert len(FIGURES) == len(STEPS) + 3
