"""IAM/STS emulator for vault-cpp tests and demos (Python standard library only).

Modules:
  wire     - AWS Query protocol: parameters, XML rendering, errors, input validation
  sigv4    - Signature Version 4 verification (and signing, for tools)
  policy   - policy document validation and evaluation
  state    - the account: users, groups, roles, managed policies, keys, temporary credentials
  iam      - IAM actions
  sts      - STS actions
  faults   - injectable faults (latency, throttling, errors, propagation delays)
  server   - request pipeline, HTTP server and the /_emulator admin API
"""
ACCOUNT_ID = "123456789012"
