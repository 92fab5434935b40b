"""The final state the modules scenario converges, checked from outside.

The director balances the VIP over rs1 and rs2 (NAT) with the rules that
lvs.cluster.ipvs_service wrote, carries the VIP that lvs.cluster.vip_address
put on eth0; the real servers carry the DR VIP on lo and the ARP sysctls of
lvs.cluster.arp_sysctl, and both come back after a reboot (podman restart).
"""
import collections
import time

import testinfra

VIP = "198.51.100.100"
DR_VIP = "198.51.100.101"
DIRECTOR_PRIVATE = "203.0.113.2"
RS = {"rs1": "203.0.113.11", "rs2": "203.0.113.12"}
REQUESTS = 24
UNIT_DIR = "/etc/systemd/system"
ARP_FILE = "/etc/sysctl.d/90-lvs-cluster.conf"


def host(name):
    return testinfra.get_host(f"podman://{name}")


def answers(n=REQUESTS):
    out = host("client").check_output(
        f"for i in $(seq {n}); do curl -sS -m 3 http://{VIP}/ || echo FAILED; done")
    return collections.Counter(out.split())


def test_every_request_through_the_vip_is_answered_by_both_real_servers():
    counts = answers()
    print(f"answers from {REQUESTS} requests to {VIP}: {dict(counts)}")
    assert sum(counts.values()) == REQUESTS
    assert set(counts) == set(RS), f"unexpected answers: {dict(counts)}"
    assert counts["rs1"] == counts["rs2"] == REQUESTS // 2  # rr


def test_director_table_is_what_the_modules_wrote():
    save = host("director").check_output("ipvsadm -S -n").splitlines()
    print("\n".join(save))
    expected = [
        f"-A -t {VIP}:80 -s rr",
        f"-a -t {VIP}:80 -r {RS['rs1']}:80 -m -w 1",
        f"-a -t {VIP}:80 -r {RS['rs2']}:80 -m -w 1",
        f"-A -t {DR_VIP}:80 -s wlc -p 120",
        f"-a -t {DR_VIP}:80 -r {RS['rs1']}:80 -g -w 2",
        f"-a -t {DR_VIP}:80 -r {RS['rs2']}:80 -g -w 1",
        "-A -f 100 -6 -s mh -b mh-port",
        f"-a -f 100 -6 -r {RS['rs2']}:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum",
        "-a -f 100 -6 -r [2001:db8:100::11]:0 -g -w 1",
    ]
    assert save == expected  # and no scratch service of the targets is left
    thresholds = host("director").check_output(f"ipvsadm -L -n --thresholds -t {DR_VIP}:80")
    row = next(ln.split() for ln in thresholds.splitlines() if f"{RS['rs2']}:80" in ln)
    assert row[2:4] == ["50", "10"]


def test_director_carries_the_vip_and_its_boot_unit():
    director = host("director")
    assert f"inet {VIP}/32 " in director.check_output("ip -o addr show dev eth0")
    unit = f"lvs-vip-{VIP}.service"
    assert director.file(f"{UNIT_DIR}/{unit}").contains(f"addr replace {VIP}/32 dev eth0")
    assert director.file(f"{UNIT_DIR}/multi-user.target.wants/{unit}").is_symlink
    assert director.check_output("sysctl -n net.ipv4.ip_forward") == "1"


def _check_real_server(name):
    rs = host(name)
    assert f"inet {DR_VIP}/32 " in rs.check_output("ip -o addr show dev lo")
    for key, value in (("all.arp_ignore", "1"), ("all.arp_announce", "2"),
                       ("lo.arp_ignore", "1"), ("eth0.arp_announce", "2")):
        assert rs.check_output(f"sysctl -n net.ipv4.conf.{key}") == value, key
        assert rs.file(ARP_FILE).contains(f"^net.ipv4.conf.{key} = {value}$")
    unit = f"lvs-vip-{DR_VIP}.service"
    assert rs.file(f"{UNIT_DIR}/multi-user.target.wants/{unit}").is_symlink
    return rs, unit


def test_real_servers_carry_the_dr_vip_and_arp_settings():
    for name in RS:
        _check_real_server(name)


def test_a_rebooted_real_server_comes_back_with_its_vip_and_sysctls():
    """podman restart reboots the container (its systemd, from its own disk)."""
    local = testinfra.get_host("local://")
    rs = host("rs2")
    rs.check_output("ip addr del %s/32 dev lo && sysctl -qw net.ipv4.conf.all.arp_ignore=0", DR_VIP)
    local.check_output("podman restart --time 10 rs2")
    deadline = time.monotonic() + 60
    state = ""
    while time.monotonic() < deadline:
        state = local.run("podman exec rs2 systemctl is-system-running --wait").stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    assert state in ("running", "degraded")
    rs, unit = _check_real_server("rs2")
    assert rs.service(unit).is_running or rs.check_output(f"systemctl is-active {unit}") == "active"
    # The default route via the director is not the modules' business: put it
    # back so that the cluster works as before.
    rs.check_output("ip route replace default via %s", DIRECTOR_PRIVATE)
    # The restarted container has a new MAC address: drop the director's stale
    # neighbour entry instead of waiting for it to expire.
    host("director").check_output("ip neigh flush to %s", RS["rs2"])
    counts = answers(8)
    assert counts == {"rs1": 4, "rs2": 4}, f"after the reboot: {dict(counts)}"
