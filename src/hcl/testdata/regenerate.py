#!/usr/bin/python3
"""Regenerates the expected outputs of the HCL differential test from Debian's python3-pyhcl.

For every NAME.hcl here: NAME.json is pyhcl's `hcl.loads` result; for error_*.hcl (inputs
pyhcl must reject) NAME.err holds pyhcl's error message instead. Run with /usr/bin/python3.
"""
import glob
import json
import os
import warnings

warnings.filterwarnings("ignore")
import hcl  # noqa: E402  (python3-pyhcl)

here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, "*.hcl"))):
    base = path[: -len(".hcl")]
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    name = os.path.basename(path)
    if name.startswith("error_"):
        try:
            hcl.loads(text)
        except Exception as e:  # pyhcl raises ValueError, TypeError, AttributeError...
            with open(base + ".err", "w", encoding="utf-8") as f:
                f.write("%s: %s\n" % (type(e).__name__, e))
            continue
        raise SystemExit("%s: pyhcl accepted an error_ input" % name)
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(hcl.loads(text), f, indent=2, ensure_ascii=False)
        f.write("\n")
