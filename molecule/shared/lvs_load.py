"""Bounded client load for the verifiers, run on the client host (stdlib only).

  lvs_load.py stream URL OUT [--rate 20] [--max 300] [--timeout 3]
      one new TCP connection per request, `rate` requests a second
  lvs_load.py hold URL OUT [--interval 0.2] [--max 300] [--timeout 10]
      one keep-alive connection, a GET every `interval` seconds; stops at the
      first error (no reconnect: it proves the connection itself survived)

Both stop when OUT.stop exists or after `max` seconds, whichever comes first,
and write one JSON line per request: start, end (time.time(), the clock every
container of the lab VM shares), ok, answer (the real server's name) or error.
The last line is {"done": true, ...}.
"""
import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse


def get(conn, path):
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode(errors="replace").strip()
    if resp.status != 200:
        raise OSError("HTTP %d" % resp.status)
    return body


def stream(args, url, emit, stopped):
    threads = []

    def one(start):
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
        try:
            emit(start=start, ok=True, answer=get(conn, url.path or "/"))
        except (OSError, http.client.HTTPException) as exc:
            emit(start=start, ok=False, error=repr(exc))
        finally:
            conn.close()

    begin = time.time()
    n = 0
    while not stopped():
        due = begin + n / args.rate
        time.sleep(max(0.0, due - time.time()))
        thread = threading.Thread(target=one, args=(time.time(),), daemon=True)
        thread.start()
        threads.append(thread)
        n += 1
    for thread in threads:
        thread.join(args.timeout + 1)
    return n


def hold(args, url, emit, stopped):
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
    n = 0
    while not stopped():
        start = time.time()
        n += 1
        try:
            answer = get(conn, url.path or "/")
        except (OSError, http.client.HTTPException) as exc:
            emit(start=start, ok=False, error=repr(exc))
            break
        emit(start=start, ok=True, answer=answer, port=conn.sock.getsockname()[1])
        time.sleep(max(0.0, start + args.interval - time.time()))
    conn.close()
    return n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["stream", "hold"])
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--max", type=float, default=300)
    parser.add_argument("--timeout", type=float, default=3)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    deadline = time.time() + args.max
    stop_file = args.out + ".stop"
    lock = threading.Lock()
    with open(args.out + ".part", "w") as out:
        def emit(**record):
            record["end"] = time.time()
            with lock:
                out.write(json.dumps(record) + "\n")
                out.flush()

        def stopped():
            return time.time() > deadline or os.path.exists(stop_file)

        sent = (stream if args.mode == "stream" else hold)(args, url, emit, stopped)
        emit(done=True, sent=sent)
    os.replace(args.out + ".part", args.out)


if __name__ == "__main__":
    main()
