# SPDX-License-Identifier: MIT
"""Shared helpers for the bench/ scripts: run vmm on guests, read its JSON,
summarise repeated measurements as median and spread. Benchmarks compare
configurations side by side in one run; they never pass or fail."""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VMM_BUILD", os.path.join(ROOT, "build"))
VMM = os.path.join(BUILD, "vmm")
GUEST = os.path.join(BUILD, "guest")


def guest(name):
    return os.path.join(GUEST, name)


def require_build():
    if not os.access(VMM, os.X_OK):
        sys.exit(f"bench: {VMM} not found: run scripts/setup first")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench: /dev/kvm is not usable here: nothing to measure")


def run_vmm(args, prefix=(), json_path=None):
    """Run vmm with --json; return (report dict, stdout). Exits on failure.
    With json_path the report is kept there, otherwise in a temporary file."""
    if json_path:
        path = json_path
    else:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = f.name
    try:
        cmd = list(prefix) + [VMM, "--quiet", "--json", path] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
        with open(path) as f:
            return json.load(f), p.stdout
    finally:
        if not json_path and os.path.exists(path):
            os.unlink(path)


def result(report, vm, name):
    for r in report["vms"][vm]["results"]:
        if r["name"] == name:
            return r["fields"]
    sys.exit(f"bench: vm{vm} reported no result '{name}'")


def summary(xs):
    """median and spread (min..max) of repeated measurements"""
    return statistics.median(xs), min(xs), max(xs)


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def meta(argv):
    """What a result needs to be read later: the commit, the command, the host."""
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {
        "commit": sh("git", "rev-parse", "HEAD"),
        "dirty": bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
        "vmm_version": sh(VMM, "--version"),
        "argv": list(argv),
        "kernel": os.uname().release,
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


class Results:
    """Every run of a benchmark as a CSV row, plus meta.json and summary.json, in one folder
    (default bench/results/NAME-TIMESTAMP/, git-ignored). Nothing measured is thrown away."""

    def __init__(self, name, out, argv, columns):
        self.dir = out or os.path.join(ROOT, "bench", "results",
                                       f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        os.makedirs(self.dir, exist_ok=True)
        self.meta = meta(argv)
        self.columns = columns
        self.csv = open(os.path.join(self.dir, "runs.csv"), "w", newline="")
        self.writer = csv.writer(self.csv)
        self.writer.writerow(columns)

    def row(self, **kv):
        self.writer.writerow([kv.get(c, "") for c in self.columns])
        self.csv.flush()

    def finish(self, summary):
        self.csv.close()
        self.meta["loadavg_after"] = os.getloadavg()
        self.meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        for name, obj in (("meta.json", self.meta), ("summary.json", summary)):
            with open(os.path.join(self.dir, name), "w") as f:
                json.dump(obj, f, indent=1)
        progress(f"bench: data in {self.dir}")
