"""One NAT service and one DR service in one cluster, one site.yml run."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
from lvs_verify import assert_ratio, host, requests, sysctl, wait_stats  # noqa: E402

NAT_VIP = "198.51.100.100"
DR_VIP = "198.51.100.101"


def test_nat_service_wrr_3_to_1():
    counts = requests(NAT_VIP, 40)  # 10 whole wrr cycles: 30/10, +-2
    assert_ratio(counts, {"rs1": 3, "rs2": 1}, tolerance=2)


def test_dr_service_answered_by_its_real_server():
    counts = requests(DR_VIP, 20)
    assert dict(counts) == {"rs3": 20}


def test_ipvs_only_rewrites_the_nat_replies():
    nat = wait_stats("director", f"TCP  {NAT_VIP}:80", 40)
    dr = wait_stats("director", f"TCP  {DR_VIP}:80", 20)
    assert nat and nat["outpkts"] > 0
    assert dr and dr["conns"] >= 20 and dr["outpkts"] == 0


def test_each_real_server_got_the_roles_of_its_mode():
    for name in ("rs1", "rs2"):
        rs = host(name)
        assert "default via 203.0.113.2 " in rs.check_output("ip -4 route show default")
        assert DR_VIP not in rs.check_output("ip -o addr show")
    rs3 = host("rs3")
    assert f"inet {DR_VIP}/32" in rs3.check_output("ip -o -4 addr show dev lo")
    assert sysctl("rs3", "net.ipv4.conf.all.arp_ignore") == "1"
    assert not rs3.file("/etc/systemd/system/lvs-nat-routes.service").exists
    rules = host("director").check_output("ipvsadm -S -n")
    assert f"-a -t {NAT_VIP}:80 -r 203.0.113.11:80 -m -w 3" in rules
    assert f"-a -t {DR_VIP}:80 -r 198.51.100.13:80 -g -w 1" in rules
