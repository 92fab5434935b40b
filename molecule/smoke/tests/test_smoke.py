"""Real HTTP traffic from the client through the director's IPVS (NAT)."""
import collections
import time

import testinfra

VIP = "198.51.100.100"
REQUESTS = 24
REAL_SERVERS = {"rs1", "rs2"}


def host(name):
    return testinfra.get_host(f"podman://{name}")


def test_every_request_answered_by_both_real_servers():
    # One curl per request: a new TCP connection each, so IPVS schedules each.
    out = host("client").check_output(
        f"for i in $(seq {REQUESTS}); do curl -sS -m 3 http://{VIP}/ || echo FAILED; done")
    answers = out.split()
    counts = collections.Counter(answers)
    print(f"answers from {REQUESTS} requests to {VIP}: {dict(counts)}")
    assert len(answers) == REQUESTS
    assert "FAILED" not in counts, f"{counts['FAILED']} requests failed"
    assert set(counts) == REAL_SERVERS, f"unexpected answers: {dict(counts)}"


def service_conns(stats):
    line = next((ln for ln in stats.splitlines() if ln.startswith(f"TCP  {VIP}:80")), None)
    return int(line.split()[2]) if line else 0


def test_director_ipvs_counted_the_connections():
    # The kernel updates these counters about every 2 s: poll, do not read once.
    deadline = time.monotonic() + 10
    while True:
        stats = host("director").check_output("ipvsadm -L -n --stats --exact")
        if service_conns(stats) >= REQUESTS or time.monotonic() > deadline:
            break
        time.sleep(1)
    print(stats)
    assert service_conns(stats) >= REQUESTS
