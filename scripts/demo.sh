#!/usr/bin/env bash
# `make demo`: the Quick Start of Vault 0.2's AWS backend docs without an AWS account. Starts the
# project's IAM/STS emulator and a dev server, then prints the exact commands to run in another
# shell.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAULT_BIN=${VAULT_BIN:-$HERE/build/vault}
PORT=${DEMO_VAULT_PORT:-8200}
WORK=$(mktemp -d /tmp/vault-demo.XXXXXX)
cleanup() { kill "${EMU_PID:-}" "${VAULT_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

/usr/bin/python3 "$HERE/tools/iam-emulator/iam_emulator.py" --port 0 --root-user hashicorp \
  >"$WORK/emulator.json" 2>"$WORK/emulator.log" &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$WORK/emulator.json" ] && break; sleep 0.1; done
[ -s "$WORK/emulator.json" ] || { cat "$WORK/emulator.log" >&2; exit 1; }
read -r ENDPOINT ACCESS SECRET < <(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["endpoint"], d["access_key"], d["secret_key"])' "$WORK/emulator.json")

"$VAULT_BIN" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" \
  >"$WORK/vault.log" 2>&1 &
VAULT_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v1/sys/health" >/dev/null && break; sleep 0.1; done

cat > "$WORK/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Stmt1426528957000",
      "Effect": "Allow",
      "Action": ["ec2:*"],
      "Resource": ["*"]
    }
  ]
}
JSON

cat <<TXT
==> The IAM/STS emulator is at $ENDPOINT (plays AWS; root user "hashicorp")
==> vault-cpp dev server is at http://127.0.0.1:$PORT (root token: root)

In another shell, run the Quick Start of the 2015 AWS backend documentation
(the policy file is $WORK/policy.json):

    export VAULT_ADDR=http://127.0.0.1:$PORT VAULT_TOKEN=root PATH=$HERE/build:\$PATH
    cd $WORK
    vault mount aws
    vault write aws/config/root access_key=$ACCESS secret_key=$SECRET region=us-east-1 iam_endpoint=$ENDPOINT sts_endpoint=$ENDPOINT
    vault write aws/roles/deploy policy=@policy.json
    vault read aws/creds/deploy
    vault revoke <the lease_id printed above>

See what AWS holds:  curl -s $ENDPOINT/_emulator/state | /usr/bin/python3 -m json.tool
Press Ctrl-C to stop both.
TXT
wait "$VAULT_PID"
