"""VS/TUN with real traffic: IPIP to real servers behind a router, replies bypass the director."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import (assert_both_families, assert_ratio, assert_suites, host, reboot, requests,  # noqa: E402
                        snapshot, sysctl, wait_stats)

VIP = "198.51.100.100"


def test_a_fleet_mid_upgrade():
    # the director on trixie, one real server on each suite
    suites = assert_suites(Path(__file__).resolve().parents[1])
    assert suites["director"] == "trixie" and {suites["rs1"], suites["rs2"]} == {"bookworm", "trixie"}


def test_wrr_3_to_1():
    # 40 requests = 10 whole wrr cycles: 30/10, tolerance +-2.
    counts = requests(VIP, 40)
    assert_ratio(counts, {"rs1": 3, "rs2": 1}, tolerance=2)


def test_replies_bypass_the_director():
    counters = wait_stats("director", f"TCP  {VIP}:80", 40)
    assert counters and counters["conns"] >= 40 and counters["inpkts"] > 0
    assert counters["outpkts"] == 0, "replies crossed the director"


def test_real_servers_are_behind_the_router():
    for name in ("rs1", "rs2"):
        assert "default via 203.0.113.254 " in host(name).check_output("ip -4 route show default")
    assert "Tunnel" in host("director").check_output("ipvsadm -L -n")


def test_real_servers_tunl0_vip_and_sysctls():
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert f"inet {VIP}/32" in rs.check_output("ip -o -4 addr show dev tunl0")
        assert "UP" in rs.check_output("ip -o link show dev tunl0")
        for iface in ("all", "tunl0"):
            assert sysctl(name, f"net.ipv4.conf.{iface}.rp_filter") == "0"
        # only where the decapsulated packets arrive: the NIC keeps its own
        assert "eth0.rp_filter" not in rs.file("/etc/sysctl.d/90-lvs-realserver-tun.conf").content_string
        assert sysctl(name, "net.ipv4.conf.all.arp_ignore") == "1"
        assert sysctl(name, "net.ipv4.conf.all.arp_announce") == "2"
        assert rs.file("/etc/modules-load.d/lvs-realserver-tun.conf").content_string == "ip6_tunnel\nipip\n"
        assert "rp_filter" in rs.file("/etc/sysctl.d/90-lvs-realserver-tun.conf").content_string
        assert rs.file(f"/etc/systemd/system/multi-user.target.wants/lvs-vip-{VIP}.service").exists


def test_director_persistence():
    director = host("director")
    saved = director.file("/etc/ipvsadm.rules").content_string
    assert f"-a -t {VIP}:80 -r 203.0.113.11:80 -i -w 3" in saved
    assert director.service("ipvsadm").is_enabled


def test_reboot_restores_tunnel_routes_and_table_without_ansible():
    hosts = ("director", "router", "rs1", "rs2")  # the managed hosts (and the lab router)
    before = {name: snapshot(name) for name in hosts}
    assert "tunl0" in before["rs1"] and f"{VIP}/32" in before["rs1"]
    took = reboot(hosts)
    for name in hosts:
        after = snapshot(name)
        assert after == before[name], f"{name} after the reboot:\n{after}\nbefore:\n{before[name]}"
    print(f"reboot of {len(hosts)} hosts in {took:.0f} s: all identical "
          f"({sum(len(s.splitlines()) for s in before.values())} lines compared)")
    assert_ratio(requests(VIP, 40), {"rs1": 3, "rs2": 1}, tolerance=2)


# IPv6: `web` on both families, and `web-mixed`, one IPv4 service tunnelled in
# IPv6 to rs1 and in IPv4 to rs2.
VIP6 = "2001:db8:51::100"
MIXED = "198.51.100.101"


def test_ipv6_in_ipv6_wrr_3_to_1_bypassing_the_director():
    assert_ratio(requests(f"[{VIP6}]", 40), {"rs1": 3, "rs2": 1}, tolerance=2)
    counters = wait_stats("director", f"TCP  [{VIP6}]:80", 40)
    assert counters and counters["conns"] >= 40 and counters["outpkts"] == 0


def test_ipv4_in_ipv6_beside_ipv4_in_ipv4_in_one_service():
    assert_ratio(requests(MIXED, 20), {"rs1": 1, "rs2": 1}, tolerance=1)
    counters = wait_stats("director", f"TCP  {MIXED}:80", 20)
    assert counters and counters["conns"] >= 20 and counters["outpkts"] == 0
    rules = host("director").check_output("ipvsadm -S -n")
    assert f"-a -t {MIXED}:80 -r [2001:db8:113::11]:80 -i -w 1" in rules
    assert f"-a -t {MIXED}:80 -r 203.0.113.12:80 -i -w 1" in rules


def test_both_families_answer_in_one_run():
    assert_both_families(VIP, VIP6)


def test_each_vip_on_the_tunnel_device_that_decapsulates_it():
    for name, on_ip6tnl0 in (("rs1", [VIP6, MIXED]), ("rs2", [VIP6])):
        rs = host(name)
        link = rs.check_output("ip -d -o link show dev ip6tnl0")
        assert "UP" in link and "ip6tnl any " in link  # mode any: IPv4 inside too
        addresses = rs.check_output("ip -o addr show dev ip6tnl0")
        assert all(f" {vip}/" in addresses for vip in on_ip6tnl0), addresses
        assert f"{VIP6}/128 scope global deprecated" in addresses or "deprecated" in addresses
    assert f" {MIXED}/32" in host("rs2").check_output("ip -o addr show dev tunl0")
    assert sysctl("rs1", "net.ipv4.conf.ip6tnl0.rp_filter") == "0"  # IPv4 comes out of it
