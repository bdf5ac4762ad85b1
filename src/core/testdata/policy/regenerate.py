#!/usr/bin/python3
"""Regenerates the expected outputs of the policy parser test from Debian's python3-pyhcl.

For every NAME.hcl here, pyhcl's `hcl.loads` parses the document and the small reference
below turns it into path rules the way Vault's policy.go does (leading '/' stripped, a trailing
'*' makes a prefix rule, legacy `policy =` values expanded, `deny` clears the other
capabilities, unknown keys/capabilities/values and '+*' rejected). NAME.json then holds the
rules as [{"path", "prefix", "capabilities" (sorted)}] sorted by (path, prefix); for error_*.hcl
NAME.err holds "syntax: ..." when pyhcl rejects the text or "policy: ..." when the reference
rejects the rules. Run with /usr/bin/python3.
"""
import glob
import json
import os
import warnings

warnings.filterwarnings("ignore")
import hcl  # noqa: E402  (python3-pyhcl)

CAPABILITIES = {"create", "read", "update", "delete", "list", "sudo", "deny", "patch"}
LEGACY = {
    "deny": {"deny"},
    "read": {"read", "list"},
    "write": {"create", "read", "update", "delete", "list"},
    "sudo": {"create", "read", "update", "delete", "list", "sudo"},
}
BLOCK_KEYS = {"comment", "policy", "capabilities", "allowed_parameters", "denied_parameters",
              "required_parameters", "min_wrapping_ttl", "max_wrapping_ttl", "control_group",
              "mfa_methods", "subscribe_event_types"}
# Keys Vault has that vault-cpp does not enforce: refused (a rule meant to narrow access must not
# load as a wider one).
UNSUPPORTED = {"allowed_parameters", "denied_parameters", "required_parameters",
               "min_wrapping_ttl", "max_wrapping_ttl", "control_group", "mfa_methods"}


class PolicyError(Exception):
    pass


def rule(pattern, block):
    if not isinstance(block, dict):
        raise PolicyError("path %r: expected a block" % pattern)
    p = pattern[1:] if pattern.startswith("/") else pattern
    if "+*" in p:
        raise PolicyError("path %r: invalid use of wildcards" % pattern)
    prefix = p.endswith("*")
    if prefix:
        p = p[:-1]
    for key in block:
        if key not in BLOCK_KEYS:
            raise PolicyError("path %r: invalid key %r" % (pattern, key))
        if key in UNSUPPORTED:
            raise PolicyError("path %r: %r is not supported by this server" % (pattern, key))
    caps = set()
    if "policy" in block:
        if block["policy"] not in LEGACY:
            raise PolicyError("path %r: invalid policy %r" % (pattern, block["policy"]))
        caps |= LEGACY[block["policy"]]
    if "capabilities" in block:
        listed = block["capabilities"]
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list):
            raise PolicyError("path %r: capabilities must be a list" % pattern)
        for c in listed:
            if c not in CAPABILITIES:
                raise PolicyError("path %r: invalid capability %r" % (pattern, c))
            caps.add(c)
    if "deny" in caps:
        caps = {"deny"}
    return {"path": p, "prefix": prefix, "capabilities": sorted(caps)}


def rules(doc):
    out = []
    for key, value in doc.items():
        if key == "name":
            continue
        if key != "path":
            raise PolicyError("invalid key %r" % key)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                raise PolicyError("path must be a block")
            for pattern, block in item.items():
                for b in block if isinstance(block, list) else [block]:
                    out.append(rule(pattern, b))
    return sorted(out, key=lambda r: (r["path"], r["prefix"]))


here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, "*.hcl"))):
    base = path[: -len(".hcl")]
    name = os.path.basename(path)
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    try:
        doc = hcl.loads(text)
    except Exception as e:  # pyhcl raises ValueError, TypeError...
        result = "syntax: %s: %s\n" % (type(e).__name__, e)
    else:
        try:
            result = rules(doc)
        except PolicyError as e:
            result = "policy: %s\n" % e
    if name.startswith("error_"):
        if not isinstance(result, str):
            raise SystemExit("%s: the reference accepted an error_ input" % name)
        with open(base + ".err", "w", encoding="utf-8") as f:
            f.write(result)
        continue
    if isinstance(result, str):
        raise SystemExit("%s: the reference rejected it: %s" % (name, result))
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
