"""VS/DR with real traffic: replies bypass the director, only it answers ARP."""
import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import (ansible_playbook, arp_repliers, assert_both_families, assert_ratio, assert_suites,  # noqa: E402
                        host, load_so_far, mac, ndp_repliers, requests, start_load, stop_load, summary, sysctl,
                        wait_stats, wait_until)

VIP = "198.51.100.100"
SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"


def test_a_fleet_mid_upgrade():
    # the director on trixie, one real server on each suite
    suites = assert_suites(Path(__file__).resolve().parents[1])
    assert suites["director"] == "trixie" and {suites["rs1"], suites["rs2"]} == {"bookworm", "trixie"}


def test_rr_equal():
    # rr over two servers: 20/20 of 40, tolerance +-1.
    counts = requests(VIP, 40)
    assert_ratio(counts, {"rs1": 1, "rs2": 1}, tolerance=1)


def test_replies_bypass_the_director():
    counters = wait_stats("director", f"TCP  {VIP}:80", 40)
    assert counters and counters["conns"] >= 40 and counters["inpkts"] > 0
    assert counters["outpkts"] == 0, "replies crossed the director"


# Before the ARP tests: a real server that answers ARP (the negative check) has
# then not yet had the chance to take over the client's entry for this VIP.
MARKED = "198.51.100.103"


def test_the_fwmark_service_takes_its_two_ports_marked_by_the_director():
    director = host("director")
    rule = f"ip daddr {MARKED} tcp dport {{ 80, 8080 }} meta mark set 0x00000007"
    assert rule in director.check_output("nft list table inet lvs_cluster")
    assert "-A -f 7 -s sh -b sh-port" in director.check_output("ipvsadm -S -n")
    assert director.file("/etc/systemd/system/multi-user.target.wants/lvs-fwmark.service").is_symlink
    for port in (80, 8080):
        # sh-port hashes the source port too: one client's connections reach both
        counts = requests(MARKED, 20, port=port)
        print(f"fwmark 7, port {port}: {dict(counts)}")
        assert set(counts) == {"rs1", "rs2"}
    # a port the service does not list is not marked: IPVS does not take it,
    # though the real servers answer there (prepare.yml) and carry the VIP
    unlisted = host("client").run(f"curl -sS -m 3 http://{MARKED}:8081/")
    assert unlisted.rc != 0, f"port 8081, which the service does not list, was answered: {unlisted.stdout}"


def test_client_resolves_the_vip_to_the_director():
    client = host("client")
    client.run(f"curl -sS -m 3 -o /dev/null http://{VIP}/")
    neigh = client.check_output(f"ip neigh show {VIP}")
    print(f"client: {neigh}; director eth0: {mac('director')}")
    assert f"lladdr {mac('director')}" in neigh


def test_only_the_director_answers_arp_for_the_vip():
    repliers = arp_repliers("client", VIP)
    print(f"ARP replies for {VIP} from {repliers}; director {mac('director')}, "
          f"rs1 {mac('rs1')}, rs2 {mac('rs2')}")
    assert repliers == {mac("director")}, f"ARP replies from {sorted(repliers)}, not the director's only"


def test_real_servers_carry_the_vip_on_lo_with_arp_sysctls():
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert f"inet {VIP}/32" in rs.check_output("ip -o -4 addr show dev lo")
        for iface in ("all", "eth0", "lo"):
            assert sysctl(name, f"net.ipv4.conf.{iface}.arp_ignore") == "1"
            assert sysctl(name, f"net.ipv4.conf.{iface}.arp_announce") == "2"
        conf = rs.file("/etc/sysctl.d/90-lvs-realserver-dr.conf").content_string
        assert "net.ipv4.conf.all.arp_ignore" in conf and "net.ipv4.conf.all.arp_announce" in conf
        assert rs.file(f"/etc/systemd/system/multi-user.target.wants/lvs-vip-{VIP}.service").exists


def test_director_dr_settings_and_persistence():
    director = host("director")
    assert f"-a -t {VIP}:80 -r 198.51.100.11:80 -g -w 1" in director.check_output("ipvsadm -S -n")
    assert sysctl("director", "net.ipv4.vs.conntrack") == "0"  # no NAT: no tracking
    assert sysctl("director", "net.ipv4.vs.expire_nodest_conn") == "1"
    saved = director.file("/etc/ipvsadm.rules").content_string
    assert sorted(saved.split("\n")) == sorted(director.check_output("ipvsadm -S -n").split("\n") + [""])
    assert director.service("ipvsadm").is_enabled


# The IPv6 half of the dual-stack service `web`.
VIP6 = "2001:db8:51::100"


def test_ipv6_rr_equal_and_replies_bypass_the_director():
    counts = requests(f"[{VIP6}]", 40)
    assert_ratio(counts, {"rs1": 1, "rs2": 1}, tolerance=1)
    counters = wait_stats("director", f"TCP  [{VIP6}]:80", 40)
    assert counters and counters["conns"] >= 40 and counters["inpkts"] > 0
    assert counters["outpkts"] == 0, "replies crossed the director"


def test_both_families_answer_in_one_run():
    assert_both_families(VIP, VIP6)


def test_only_the_director_answers_neighbour_discovery_for_the_ipv6_vip():
    client = host("client")
    client.run("ip -6 neigh flush dev eth0")
    client.run(f"curl -gsS -m 3 -o /dev/null 'http://[{VIP6}]/'")
    neigh = client.check_output(f"ip -6 neigh show {VIP6}")
    print(f"client: {neigh}; director eth0: {mac('director')}")
    assert f"lladdr {mac('director')}" in neigh
    assert ndp_repliers("client", VIP6) == {mac("director")}


def test_the_neighbour_probe_sees_a_real_server_that_answers():
    # The probe can fail: the VIP on rs1's NIC (as scripts that skip lo do)
    # makes rs1 answer too. Without this, the test above could pass blind.
    rs1 = host("rs1")
    rs1.check_output(f"ip -6 addr add {VIP6}/128 dev eth0 nodad preferred_lft 0")
    try:
        repliers = ndp_repliers("client", VIP6)
    finally:
        rs1.check_output(f"ip -6 addr del {VIP6}/128 dev eth0")
        host("client").run("ip -6 neigh flush dev eth0")  # rs1's advertisement may have updated it
    assert repliers == {mac("director"), mac("rs1")}


def test_real_servers_carry_the_ipv6_vip_on_lo():
    for name in ("rs1", "rs2"):
        rs = host(name)
        vip = rs.check_output(f"ip -o -6 addr show dev lo to {VIP6}/128")
        assert f"inet6 {VIP6}/128" in vip and "deprecated" in vip
        assert f"inet6 {VIP6}" not in rs.check_output("ip -o -6 addr show dev eth0")
        assert rs.file(f"/etc/systemd/system/multi-user.target.wants/lvs-vip-{VIP6.replace(':', '_')}.service").exists
    rules = host("director").check_output("ipvsadm -S -n")
    assert f"-a -t [{VIP6}]:80 -r [2001:db8:51::11]:80 -g -w 1" in rules


def test_a_respelt_vip_keeps_serving_and_changes_nothing():
    # The same model, the IPv6 VIP spelt another way (upper case, zeros written out), as
    # a model from another source may spell it: site.yml must see the same VIP, not one
    # that left (which removed it and its boot unit from the real servers that serve it).
    model = yaml.safe_load((Path(__file__).resolve().parents[1] / "molecule.yml").read_text())
    services = model["provisioner"]["inventory"]["group_vars"]["all"]["lvs_virtual_services"]
    respelt = "2001:DB8:51:0:0:0:0:0100"
    services = [dict(svc, address=respelt) if svc.get("address") == VIP6 else svc for svc in services]
    assert sum(svc.get("address") == respelt for svc in services) == 1
    start_load("stream", "/tmp/respelt.jsonl", "--rate", "10", "--max", "600", url=f"http://[{VIP6}]/")
    wait_until(lambda: len(load_so_far("/tmp/respelt.jsonl")) >= 5, 10, "the stream's first answers")
    run = ansible_playbook(SITE, "-e", json.dumps({"lvs_virtual_services": services}), as_json=True)
    time.sleep(1)
    records = stop_load("/tmp/respelt.jsonl")
    changed = {name: stats["changed"] for name, stats in run.json["stats"].items() if stats["changed"]}
    print(f"the VIP respelt {respelt}: site.yml rc {run.returncode}, changed {changed or 'nothing'}, "
          f"stream {summary(records)}")
    assert run.returncode == 0
    failed = [r for r in records if not r["ok"]]
    assert not failed, f"{len(failed)} of {len(records)} requests failed while the VIP was respelt: {failed[:3]}"
    assert not changed, f"the respelt VIP changed hosts: {changed} (tasks per host)"
    test_real_servers_carry_the_ipv6_vip_on_lo()
