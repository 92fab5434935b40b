"""Helpers shared by the verifiers of the cluster scenarios (nat, dr, tun, mixed).

Real traffic only: every request is one curl from the client (a new TCP
connection each, so IPVS schedules each one).
"""
import collections
import re
import time

import testinfra


def host(name):
    return testinfra.get_host(f"podman://{name}")


def requests(vip, count, port=80, client="client"):
    """Answers (the real servers' host names) of `count` requests, in order."""
    url = f"http://{vip}:{port}/"
    out = host(client).check_output(
        f"for i in $(seq {count}); do curl -sS -m 3 {url} || echo FAILED; done")
    answers = out.split()
    counts = collections.Counter(answers)
    print(f"{count} requests to {url}: {dict(sorted(counts.items()))}")
    assert len(answers) == count, f"{len(answers)} answers to {count} requests"
    assert "FAILED" not in counts, f"{counts['FAILED']} of {count} requests failed"
    return counts


def assert_ratio(counts, weights, tolerance):
    """counts match weights (name -> weight) within +-tolerance requests each."""
    total = sum(counts.values())
    assert set(counts) == set(weights), f"answers {dict(counts)}, expected servers {set(weights)}"
    wsum = sum(weights.values())
    for name, weight in weights.items():
        expected = total * weight / wsum
        assert abs(counts[name] - expected) <= tolerance, (
            f"{name} answered {counts[name]} of {total}, expected {expected:g} +-{tolerance}")


def service_stats(director, key):
    """Counters of one service line of `ipvsadm -L -n --stats --exact`: key like 'TCP  1.2.3.4:80'."""
    stats = host(director).check_output("ipvsadm -L -n --stats --exact")
    for line in stats.splitlines():
        if line.startswith(key + " ") or line.split()[:2] == key.split():
            conns, inpkts, outpkts, inbytes, outbytes = (int(v) for v in line.split()[2:7])
            return dict(conns=conns, inpkts=inpkts, outpkts=outpkts,
                        inbytes=inbytes, outbytes=outbytes), stats
    return None, stats


def wait_stats(director, key, min_conns, timeout=10):
    """Poll: the kernel updates the counters about every 2 s."""
    deadline = time.monotonic() + timeout
    while True:
        counters, stats = service_stats(director, key)
        if (counters and counters["conns"] >= min_conns) or time.monotonic() > deadline:
            print(stats)
            return counters


def mac(name, dev="eth0"):
    out = host(name).check_output(f"ip -o link show dev {dev}")
    return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)


def arp_repliers(client, vip, dev="eth0"):
    """MACs answering ARP for vip (arping exits 1 on no reply: not an error here)."""
    out = host(client).run(f"arping -c 3 -w 4 -I {dev} {vip}").stdout
    print(out)
    return set(m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", out))


def sysctl(name, key):
    return host(name).check_output(f"sysctl -n {key}").strip()
