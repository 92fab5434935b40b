"""VS/NAT with real traffic: the client reaches the VIP, the director rewrites."""
import json
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import (ansible_playbook, assert_both_families, assert_ratio, assert_suites, host,  # noqa: E402
                        requests, sysctl, wait_stats)

VIP = "198.51.100.100"
DIRECTOR_PRIVATE = "203.0.113.2"


def test_a_fleet_mid_upgrade():
    # the director on trixie, one real server on each suite
    suites = assert_suites(Path(__file__).resolve().parents[1])
    assert suites["director"] == "trixie" and {suites["rs1"], suites["rs2"]} == {"bookworm", "trixie"}


def test_wrr_3_to_1():
    # 40 requests = 10 whole wrr cycles of (rs1, rs1, rs1, rs2): 30/10 whatever
    # the phase the scheduler is in; tolerance +-2 requests.
    counts = requests(VIP, 40)
    assert_ratio(counts, {"rs1": 3, "rs2": 1}, tolerance=2)


def test_rr_equal_with_port_mapping():
    # VIP:8080 mapped to the real servers' port 80: rr gives 10/10 (+-1).
    counts = requests(VIP, 20, port=8080)
    assert_ratio(counts, {"rs1": 1, "rs2": 1}, tolerance=1)


def test_director_counted_the_connections():
    counters = wait_stats("director", f"TCP  {VIP}:80", 40)
    assert counters and counters["conns"] >= 40
    assert counters["outpkts"] > 0  # NAT: the replies cross the director


def test_director_table_vip_and_sysctls():
    director = host("director")
    rules = director.check_output("ipvsadm -S -n")
    assert f"-A -t {VIP}:80 -s wrr" in rules
    assert f"-a -t {VIP}:80 -r 203.0.113.11:80 -m -w 3" in rules
    assert f"-a -t {VIP}:8080 -r 203.0.113.12:80 -m -w 1" in rules
    assert f"inet {VIP}/32" in director.check_output("ip -o -4 addr show dev eth0")
    assert sysctl("director", "net.ipv4.ip_forward") == "1"
    assert sysctl("director", "net.ipv4.vs.conntrack") == "1"
    assert sysctl("director", "net.ipv4.vs.expire_nodest_conn") == "1"
    assert sysctl("director", "net.ipv4.vs.expire_quiescent_template") == "1"
    assert sysctl("director", "net.ipv4.vs.conn_reuse_mode") == "1"


def test_director_persistence():
    director = host("director")
    saved = director.file("/etc/ipvsadm.rules").content_string
    assert saved.strip() == director.check_output("ipvsadm -S -n").strip()
    assert 'AUTO="true"' in director.file("/etc/default/ipvsadm").content_string
    assert director.service("ipvsadm").is_enabled
    conf = director.file("/etc/sysctl.d/90-lvs-director.conf").content_string
    for line in ("net.ipv4.ip_forward = 1", "net.ipv4.vs.conntrack = 1", "net.ipv4.vs.expire_nodest_conn = 1"):
        assert line in conf
    assert director.file("/etc/modules-load.d/lvs-director.conf").content_string.strip() == "ip_vs"
    units = director.check_output("ls /etc/systemd/system/multi-user.target.wants/")
    assert f"lvs-vip-{VIP}.service" in units


def test_real_servers_route_via_the_director():
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert f"default via {DIRECTOR_PRIVATE} " in rs.check_output("ip -4 route show default")
        unit = rs.file("/etc/systemd/system/lvs-nat-routes.service").content_string
        assert f"ExecStart=/usr/sbin/ip route replace default via {DIRECTOR_PRIVATE}" in unit
        assert rs.file("/etc/systemd/system/multi-user.target.wants/lvs-nat-routes.service").is_symlink
        # a NAT real server carries no VIP
        assert VIP not in rs.check_output("ip -o addr show")


# The IPv6 half of the dual-stack service `web`.
VIP6 = "2001:db8:51::100"
DIRECTOR_PRIVATE6 = "2001:db8:113::2"


def test_ipv6_wrr_3_to_1_through_the_same_named_service():
    counts = requests(f"[{VIP6}]", 40)
    assert_ratio(counts, {"rs1": 3, "rs2": 1}, tolerance=2)
    counters = wait_stats("director", f"TCP  [{VIP6}]:80", 40)
    assert counters and counters["conns"] >= 40 and counters["outpkts"] > 0


def test_both_families_answer_in_one_run():
    assert_both_families(VIP, VIP6)


def test_ipv6_forwarding_vip_and_return_routes():
    director = host("director")
    assert sysctl("director", "net.ipv6.conf.all.forwarding") == "1"
    assert "net.ipv6.conf.all.forwarding = 1" in director.file("/etc/sysctl.d/90-lvs-director.conf").content_string
    rules = director.check_output("ipvsadm -S -n")
    assert f"-a -t [{VIP6}]:80 -r [2001:db8:113::11]:80 -m -w 3" in rules
    # never the director's own source address: deprecated, and no duplicate address detection
    vip = director.check_output(f"ip -o -6 addr show dev eth0 to {VIP6}/128")
    assert f"inet6 {VIP6}/128" in vip and "deprecated" in vip and "nodad" in vip
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert f"default via {DIRECTOR_PRIVATE6} " in rs.check_output("ip -6 route show default")
        unit = rs.file("/etc/systemd/system/lvs-nat-routes.service").content_string
        assert f"ExecStart=/usr/sbin/ip -6 route replace default via {DIRECTOR_PRIVATE6}" in unit
        record = rs.file("/var/lib/lvs-cluster/realserver_nat").content_string
        assert '"-6 default": ""' in record and '"default": ""' in record


def test_last_a_family_that_leaves_gets_its_routes_back():
    # The IPv6 half leaves the model (the scenario's own, read from molecule.yml):
    # the real servers' IPv6 default route goes back as the role found it (there
    # was none), the IPv4 one stays, and neither record nor unit keeps IPv6.
    scenario = Path(__file__).resolve().parents[1]
    model = yaml.safe_load((scenario / "molecule.yml").read_text())[
        "provisioner"]["inventory"]["group_vars"]["all"]["lvs_virtual_services"]
    extra = Path("/tmp/nat-ipv4-only.json")
    extra.write_text(json.dumps({"lvs_virtual_services": [s for s in model if ":" not in s["address"]]}))
    assert ansible_playbook(scenario / "realservers.yml", "-e", f"@{extra}").returncode == 0
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert rs.check_output("ip -6 route show default").strip() == ""
        assert f"default via {DIRECTOR_PRIVATE} " in rs.check_output("ip -4 route show default")
        assert json.loads(rs.file("/var/lib/lvs-cluster/realserver_nat").content_string) == {"default": ""}
        unit = rs.file("/etc/systemd/system/lvs-nat-routes.service").content_string
        assert "ip -6" not in unit and f"ip route replace default via {DIRECTOR_PRIVATE}" in unit
