#!/usr/bin/env python3
"""Agreement between faber-cloud's native scan and Checkov, rule by rule.

Usage: scripts/scan-agreement.py [RUNS_DIR] [--out FILE]
  RUNS_DIR  default .cache/bench-scan/runs: one sub-directory per tree holding
            ours.json (`faber-cloud scan --format json`), checkov.json
            (`checkov -o json`) and meta.json ({"tree", "kind"}), as written by
            scripts/bench-scan.
  --out     default .cache/bench-scan/agreement.json

The shared rules are those of our rules that name a Checkov check
(`faber-cloud scan-rules --json`). For each such
Checkov id and each tree it counts the resources where both tools fail the
check, where only ours does, and where only Checkov does. Resources are matched
by address with instance keys removed (`aws_s3_bucket.b[0]` → `aws_s3_bucket.b`,
as our HCL addresses carry none), and Checkov's provider entries (`aws`,
`aws.default`) are read as our `provider.aws`. Our findings silenced by a
suppression still count as firing (the rule did fire), as do Checkov's skipped
checks. Each "only ours" resource says what Checkov did with it: passed it, or
never evaluated it (another resource type, or a check result of UNKNOWN).
"""

import glob
import json
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def binary():
    """The faber-cloud binary: $FABER_CLOUD_BIN, else the release build, else the debug build."""
    for path in (os.environ.get("FABER_CLOUD_BIN"), os.path.join(ROOT, "target", "release", "faber-cloud"), os.path.join(ROOT, "target", "debug", "faber-cloud")):
        if path and os.path.exists(path):
            return path
    sys.exit("no faber-cloud binary: run cargo build --release (or set FABER_CLOUD_BIN)")


def rule_table():
    """(our rule id, checkov id) for every rule that names a Checkov check (`faber-cloud scan-rules --json`)."""
    import subprocess

    rules = json.loads(subprocess.run([binary(), "scan-rules", "--json"], check=True, capture_output=True, text=True).stdout)
    return [(r["id"], r["checkov_id"]) for r in rules if r["checkov_id"]]


def strip_index(address):
    out, depth, quoted = [], 0, False
    for c in address:
        if c == '"' and depth > 0:
            quoted = not quoted
        elif c == "[" and not quoted:
            depth += 1
        elif c == "]" and not quoted and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def normalize(address):
    a = strip_index(address)
    if re.fullmatch(r"aws(\.[A-Za-z0-9_-]+)?", a):
        return "provider.aws"
    return a


def load_ours(path):
    report = json.load(open(path))
    fired = defaultdict(set)
    for f in report.get("findings", []) + report.get("suppressed", []):
        if f.get("source") == "faber-cloud":
            fired[f["rule_id"]].add(normalize(f["resource"]))
    return fired


def load_checkov(path):
    data = json.load(open(path))
    reports = data if isinstance(data, list) else [data]
    status = defaultdict(lambda: defaultdict(set))  # check id -> {failed, passed, skipped} -> addresses
    for rep in reports:
        results = rep.get("results", {})
        for key, name in (("failed_checks", "failed"), ("passed_checks", "passed"), ("skipped_checks", "skipped")):
            for c in results.get(key, []):
                status[c["check_id"]][name].add(normalize(c.get("resource_address") or c["resource"]))
    return status


def main():
    args = [a for a in sys.argv[1:]]
    out = os.path.join(ROOT, ".cache", "bench-scan", "agreement.json")
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i : i + 2]
    runs = args[0] if args else os.path.join(ROOT, ".cache", "bench-scan", "runs")

    pairs = rule_table()
    by_checkov = defaultdict(list)
    for rid, ck in pairs:
        by_checkov[ck].append(rid)

    trees = []
    for d in sorted(os.listdir(runs)):
        run = os.path.join(runs, d)
        if not os.path.isfile(os.path.join(run, "ours.json")):
            continue
        meta_path = os.path.join(run, "meta.json")
        meta = json.load(open(meta_path)) if os.path.isfile(meta_path) else {"tree": d, "kind": "?"}
        trees.append((meta, load_ours(os.path.join(run, "ours.json")), load_checkov(os.path.join(run, "checkov.json"))))

    rules = []
    for ck, rids in sorted(by_checkov.items(), key=lambda kv: kv[1][0]):
        entry = {"checkov_id": ck, "rule_ids": rids, "both": 0, "only_ours": 0, "only_checkov": 0, "trees": {}}
        for meta, ours, checkov in trees:
            mine = set().union(*(ours.get(r, set()) for r in rids))
            st = checkov.get(ck, {})
            theirs = st.get("failed", set()) | st.get("skipped", set())
            both = sorted(mine & theirs)
            only_ours = [{"resource": a, "checkov": "passed" if a in st.get("passed", set()) else "not evaluated"} for a in sorted(mine - theirs)]
            only_ck = sorted(theirs - mine)
            entry["both"] += len(both)
            entry["only_ours"] += len(only_ours)
            entry["only_checkov"] += len(only_ck)
            if both or only_ours or only_ck:
                entry["trees"][meta["tree"]] = {"both": both, "only_ours": only_ours, "only_checkov": only_ck}
        rules.append(entry)

    total = {k: sum(r[k] for r in rules) for k in ("both", "only_ours", "only_checkov")}
    fired = [r for r in rules if r["both"] or r["only_ours"] or r["only_checkov"]]
    silent = [r for r in rules if r not in fired]

    print(f"Agreement with Checkov on {len(rules)} shared rules over {len(trees)} trees ({', '.join(m['tree'] for m, _, _ in trees)})")
    head = f"{'rule':<15} {'checkov':<12} {'both':>5} {'only ours':>10} {'only ckv':>9}"
    print(head)
    print("-" * len(head))
    for r in fired:
        print(f"{'/'.join(r['rule_ids']):<15} {r['checkov_id']:<12} {r['both']:>5} {r['only_ours']:>10} {r['only_checkov']:>9}")
    print("-" * len(head))
    print(f"{'total':<15} {'':<12} {total['both']:>5} {total['only_ours']:>10} {total['only_checkov']:>9}")
    agree = total["both"]
    all_ = agree + total["only_ours"] + total["only_checkov"]
    if all_:
        print(f"agreement (both / any): {agree}/{all_} = {agree / all_:.1%}")
    if silent:
        print(f"no finding from either tool on these trees: {', '.join(r['rule_ids'][0] + '=' + r['checkov_id'] for r in silent)}")

    print("\nDisagreements:")
    for r in fired:
        lines = []
        for tree, t in r["trees"].items():
            for o in t["only_ours"]:
                lines.append(f"    only ours     {tree}: {o['resource']} (checkov: {o['checkov']})")
            for a in t["only_checkov"]:
                lines.append(f"    only checkov  {tree}: {a}")
        if lines:
            print(f"  {'/'.join(r['rule_ids'])} = {r['checkov_id']}")
            print("\n".join(lines))

    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"trees": [m for m, _, _ in trees], "totals": total, "rules": rules}, f, indent=1)
    print(f"\nwrote {os.path.relpath(out, ROOT) if out.startswith(ROOT) else out}")


if __name__ == "__main__":
    main()
