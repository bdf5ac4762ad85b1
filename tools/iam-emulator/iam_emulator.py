#!/usr/bin/python3
"""AWS IAM + STS emulator on loopback, for vault-cpp tests and demos.

    /usr/bin/python3 tools/iam-emulator/iam_emulator.py --port 0

prints one JSON line {"endpoint", "access_key", "secret_key", "admin"} once it is listening.
See README.md beside this file for the flags, the admin API and the differences from AWS.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from iamemu.server import Emulator, Server  # noqa: E402
from iamemu.state import ALLOW_ALL  # noqa: E402
from iamemu.wire import AwsError  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(description="AWS IAM/STS emulator (AWS Query protocol, SigV4, policies, faults)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: pick a free one)")
    ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--state-file", help="also write the start-up JSON line to this file")
    ap.add_argument("--root-user", default="vault-root", help="name of the bootstrap IAM user")
    ap.add_argument("--root-policy", metavar="FILE", help="inline policy of the bootstrap user (default: * on *)")
    ap.add_argument("--root-access-key", help="fixed access key id for the bootstrap user (default: random)")
    ap.add_argument("--root-secret-key", help="fixed secret key for the bootstrap user (default: random)")
    ap.add_argument("--user-quota", type=int, default=5000, help="IAM users per account (default 5000)")
    ap.add_argument("--sts-regions", help="comma-separated regions accepted for STS besides us-east-1 "
                                          "(default: any valid-looking region)")
    ap.add_argument("--call-log-size", type=int, default=100000, help="calls kept in the call log")
    ap.add_argument("--verbose", action="store_true", help="one line per API call on stderr")
    faults = ap.add_argument_group("faults (also settable at run time: POST /_emulator/faults)")
    faults.add_argument("--latency-ms", type=int, default=0, help="added latency per API call")
    faults.add_argument("--throttle-every", type=int, default=0, help="every Nth API call gets Throttling")
    faults.add_argument("--rate-limit", type=float, default=0, help="calls/second beyond which calls get Throttling")
    faults.add_argument("--error-rate", type=float, default=0, help="probability of 500 ServiceFailure")
    faults.add_argument("--propagation-delay-ms", type=int, default=0,
                        help="new access keys answer InvalidClientTokenId for this long")
    faults.add_argument("--user-propagation-delay-ms", type=int, default=0,
                        help="new users answer NoSuchEntity to reads for this long")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    return args


def main(argv=None):
    args = parse_args(argv)
    root_policy = ALLOW_ALL
    if args.root_policy:
        with open(args.root_policy) as f:
            root_policy = f.read()
    regions = [r.strip() for r in args.sts_regions.split(",") if r.strip()] if args.sts_regions else None
    emulator = Emulator(args.user_quota, regions, args.call_log_size, args.verbose)
    try:
        emulator.bootstrap(args.root_user, root_policy, args.root_access_key, args.root_secret_key)
    except AwsError as err:
        sys.exit("iam-emulator: bad bootstrap user or policy: %s: %s" % (err.code, err.message))
    emulator.faults.update({
        "latency_ms": args.latency_ms, "throttle_every": args.throttle_every, "rate_limit": args.rate_limit,
        "error_rate": args.error_rate, "propagation_delay_ms": args.propagation_delay_ms,
        "user_propagation_delay_ms": args.user_propagation_delay_ms,
    })

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    server = Server((args.host, args.port), emulator, tls)
    host = args.host if args.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    if ":" in host:
        host = "[%s]" % host
    endpoint = "%s://%s:%d" % ("https" if tls else "http", host, server.server_address[1])
    info = {"endpoint": endpoint, "access_key": emulator.root["access_key"],
            "secret_key": emulator.root["secret_key"], "admin": endpoint + "/_emulator"}
    line = json.dumps(info)
    if args.state_file:
        tmp = args.state_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.state_file)
    print(line, flush=True)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()


if __name__ == "__main__":
    main()
