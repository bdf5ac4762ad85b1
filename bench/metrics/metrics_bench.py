#!/usr/bin/python3
"""What metrics cost the request path: KV reads per second with nobody scraping (the reference)
and with a scraper fetching sys/metrics in the Prometheus format 10 times a second (150 times
Prometheus' default interval of 15 s), in the same run against one server on RocksDB.

    /usr/bin/python3 bench/metrics/metrics_bench.py --vault-bin build/vault [--duration 10s]
                                                    [--rounds 2] [--scrapes-per-second 10]

Every request updates counters and timings (lock-free atomics); a scrape renders every series.
The two cases alternate for --rounds rounds so that drift in the machine's speed hits both."""
import argparse
import os
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import rocksdb_server, wrk  # noqa: E402


class Scraper(threading.Thread):
    def __init__(self, addr, token, per_second):
        super().__init__(daemon=True)
        self.url = addr + "/v1/sys/metrics?format=prometheus"
        self.headers = {"X-Vault-Token": token}
        self.interval = 1.0 / per_second
        self.stop = threading.Event()
        self.scrapes = 0
        self.errors = 0
        self.bytes = 0

    def run(self):
        s = requests.Session()
        while not self.stop.is_set():
            started = time.time()
            r = s.get(self.url, headers=self.headers, timeout=10)
            if r.status_code == 200:
                self.scrapes += 1
                self.bytes = len(r.content)
            else:
                self.errors += 1
            self.stop.wait(max(0.0, self.interval - (time.time() - started)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vault-bin", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scrapes-per-second", type=float, default=10)
    args = ap.parse_args()
    with rocksdb_server(args.vault_bin, "vault-metrics-bench-") as (addr, token, proc, tmp):
        r = requests.put(addr + "/v1/secret/bench", headers={"X-Vault-Token": token},
                         json={"username": "svc", "password": "N7q!vR2#pLx9@kT4wZ8$mD3^"})
        if r.status_code != 204:
            sys.exit("bench: writing the secret: %s" % r.text)
        quiet, scraped = [], []
        scrapes = errors = size = 0
        for _ in range(args.rounds):
            quiet.append(wrk(addr + "/v1/secret/bench", args.duration, token, tmp))
            scraper = Scraper(addr, token, args.scrapes_per_second)
            scraper.start()
            scraped.append(wrk(addr + "/v1/secret/bench", args.duration, token, tmp))
            scraper.stop.set()
            scraper.join()
            scrapes += scraper.scrapes
            errors += scraper.errors
            size = scraper.bytes
        if proc.poll() is not None:
            sys.exit("bench: the server died during the run")
        if errors:
            sys.exit("bench: %d scrapes failed" % errors)
        q = sum(x[0] for x in quiet) / len(quiet)
        s = sum(x[0] for x in scraped) / len(scraped)
        print("=" * 78)
        print("%-44s %12s %18s" % ("KV v1 read (RocksDB, wrk -t2 -c32)", "req/s", "vs reference"))
        print("%-44s %12s %18.3f" % ("nobody scraping (reference)", "{:,.0f}".format(q), 1.0))
        print("%-44s %12s %18.3f" % ("scraped %g times a second" % args.scrapes_per_second,
                                     "{:,.0f}".format(s), s / q))
        print("=" * 78)
        print("%d scrapes of %d bytes each during the scraped runs; rounds: %s vs %s" % (
            scrapes, size, ", ".join("{:,.0f}".format(x[0]) for x in quiet),
            ", ".join("{:,.0f}".format(x[0]) for x in scraped)))


if __name__ == "__main__":
    main()
