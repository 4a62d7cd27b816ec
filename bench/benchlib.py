# SPDX-License-Identifier: MIT
"""Shared helpers for the bench/ scripts: run vmm on guests, read its JSON,
summarise repeated measurements as median and spread. Benchmarks compare
configurations side by side in one run; they never pass or fail."""
import json
import os
import statistics
import subprocess
import sys
import tempfile

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


def run_vmm(args, prefix=()):
    """Run vmm with --json; return (report dict, stdout). Exits on failure."""
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
        if os.path.exists(path):
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
