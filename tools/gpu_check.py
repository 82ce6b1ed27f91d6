#!/usr/bin/env python3
"""gpu_check.py: the GPU check. Runs an existing build's test suite on the first GPU, then
a benchmark sweep, and writes one report (Markdown) with the figures the GPU goals are
judged by (docs/performance.md, "On a GPU").

It needs Python 3 and nothing installed: it runs from a build made on another machine
(copy the source tree with its build/ folder; `./run.sh gpu` there leaves build/ctest.json,
the suite as CTest knows it, and build/runtime/libOpenCL.so.1, the ICD loader). It finds
the vendor's OpenCL driver where the driver ships it outside /etc/OpenCL/vendors
(NVIDIA's libnvidia-opencl.so.1, AMD's libamdocl64.so, Intel's libigdrcl.so) and points
the loader at it; it says so, and stops with status 3, when
there is no OpenCL GPU.

$LRELU_GPU_DRIVER_DIRS and $LRELU_GPU_DRIVER_NAMES (colon lists) add folders to search
and replace the names searched for.

  python3 tools/gpu_check.py [--build DIR] [--report FILE] [--device SEL] [--quick]
                             [--allow-cpu] [--tests REGEX] [--jobs N]
"""
import argparse
import csv
import glob
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

DRIVERS = ["libnvidia-opencl.so.1", "libamdocl64.so", "libamdocl64.so.*", "libigdrcl.so"]
DRIVER_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64",
               "/usr/local/nvidia/lib", "/usr/lib/wsl/lib", "/opt/rocm/lib", "/opt/rocm/opencl/lib",
               "/usr/local/cuda/lib64", "/usr/local/cuda/compat"]
NO_GPU = 3


def say(*args):
    print("gpu-check:", *args, flush=True)


def icd_files():
    """The vendor files the ICD loader reads by default (or from $OCL_ICD_VENDORS)."""
    where = os.environ.get("OCL_ICD_VENDORS", "/etc/OpenCL/vendors")
    if os.path.isfile(where):
        return [where]
    return sorted(glob.glob(os.path.join(where, "*.icd")))


def find_driver(env, build):
    """Points the ICD loader at the vendor drivers found where no .icd file names them: a
    vendor folder of the check's own (build/runtime/vendors, with the system's files too)
    in OCL_ICD_VENDORS, since ocl-icd reads OCL_ICD_FILENAMES only beside a vendor folder
    that exists and lists something, and OCL_ICD_FILENAMES for the Khronos loader. Returns
    a line for the report."""
    listed = icd_files()
    given = [f for f in env.get("OCL_ICD_FILENAMES", "").split(":") if f]
    found = list(given)
    if not given:
        dirs = os.environ.get("LRELU_GPU_DRIVER_DIRS", "").split(":") + DRIVER_DIRS
        try:
            ldconfig = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        except OSError:
            ldconfig = ""
        names = os.environ.get("LRELU_GPU_DRIVER_NAMES", "")
        for name in names.split(":") if names else DRIVERS:
            paths = [p for d in dirs if d for p in sorted(glob.glob(os.path.join(d, name)))]
            paths += re.findall(r"=> (\S*/%s)\s*$" % re.escape(name).replace(r"\*", r"[^/\s]*"),
                                ldconfig, re.M)
            if paths and os.path.realpath(paths[0]) not in map(os.path.realpath, found):
                found.append(paths[0])
    if not found:
        if listed:
            return "the ICD loader's vendor files: " + ", ".join(listed)
        return "no OpenCL driver found (no .icd file, none of %s)" % ", ".join(DRIVERS)
    vendors = os.path.join(build, "runtime", "vendors")
    os.makedirs(vendors, exist_ok=True)
    for old in glob.glob(os.path.join(vendors, "*.icd")):
        os.remove(old)
    for i, lib in enumerate(found):
        with open(os.path.join(vendors, "found%d.icd" % i), "w") as f:
            f.write(lib + "\n")
    for path in listed:
        with open(path) as src, open(os.path.join(vendors, os.path.basename(path)), "w") as f:
            f.write(src.read())
    env["OCL_ICD_VENDORS"] = vendors
    env["OCL_ICD_FILENAMES"] = ":".join(found)
    return "%s (%s; beside the vendor files %s)" % (
        ":".join(found), "OCL_ICD_FILENAMES" if given else "found", ", ".join(listed) or "(none)")


def library_path(build, env):
    """The build's library, and the ICD loader brought along where the system has none."""
    paths = [build]
    try:
        has_loader = "libOpenCL.so.1" in subprocess.run(
            ["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        has_loader = False
    bundled = os.path.join(build, "runtime")
    if not has_loader and os.path.exists(os.path.join(bundled, "libOpenCL.so.1")):
        paths.append(bundled)
    if env.get("LD_LIBRARY_PATH"):
        paths.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = ":".join(paths)
    return "bundled loader" if bundled in paths else "system loader"


def devices(build, env):
    r = subprocess.run([os.path.join(build, "tools", "lrelu"), "devices"], env=env,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def load_suite(build):
    """The tests as CTest lists them: name, command, environment, labels, timeout. Paths
    are those of the machine that built them, mapped onto this build."""
    path = os.path.join(build, "ctest.json")
    if not os.path.exists(path):
        r = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("gpu-check: no %s and no ctest to make it: run ./run.sh gpu where the "
                     "build was made" % path)
        with open(path, "w") as f:
            f.write(r.stdout)
    with open(path) as f:
        data = json.load(f)
    tests = []
    old_build = None
    for t in data.get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        cmd = t.get("command") or []
        wd = props.get("WORKING_DIRECTORY", "")
        if old_build is None and wd.endswith("/tests"):
            old_build = wd[: -len("/tests")]
        tests.append({"name": t["name"], "cmd": cmd, "env": props.get("ENVIRONMENT", []),
                      "labels": props.get("LABELS", []), "timeout": props.get("TIMEOUT", 900),
                      "skip": props.get("SKIP_RETURN_CODE", 77), "wd": wd})
    new_build = os.path.realpath(build)

    def remap(s):
        return s.replace(old_build, new_build) if old_build else s
    for t in tests:
        t["cmd"] = [remap(c) for c in t["cmd"]]
        t["env"] = [remap(e) for e in t["env"]]
        t["wd"] = remap(t["wd"]) or new_build
    return tests


def runnable(t, regex):
    if regex and not re.search(regex, t["name"]):
        return False
    if t["name"] == "gpu/check_script" or set(t["labels"]) & {"oclgrind", "offline"}:
        return False  # the stand-ins: beside the point on a real GPU
    # ... itself; scripts that need the build machine's tools (cmake, pkg-config, a compiler)
    return bool(t["cmd"]) and os.path.exists(t["cmd"][0]) and not t["cmd"][0].endswith("/sh")


def run_test(t, env, device):
    e = dict(env)
    for kv in t["env"]:
        k, _, v = kv.partition("=")
        e[k] = v
    e["LRELU_DEVICE"] = device  # over the suite's own "LRELU_DEVICE=" (unset)
    start = time.time()
    try:
        os.makedirs(t["wd"], exist_ok=True)
        r = subprocess.run(t["cmd"], env=e, cwd=t["wd"], capture_output=True, text=True,
                           timeout=t["timeout"], errors="replace")
        code, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as x:
        code, out = "timeout", (x.stdout or b"")[-4000:] if isinstance(x.stdout, bytes) else ""
    except OSError as x:
        code, out = "error", str(x)
    status = "passed" if code == 0 else "skipped" if code == t["skip"] else "FAILED"
    return {"name": t["name"], "status": status, "code": code, "secs": time.time() - start,
            "tail": out[-3000:] if isinstance(out, str) else ""}


def rows(csv_path):
    with open(csv_path) as f:
        return list(csv.DictReader(f))


def goals(data, least):
    """The GPU goals of docs/performance.md from the benchmark's rows of n >= least."""
    def gbs(op, dtype, impl, n, column="gb_per_s"):
        for r in data:
            if (r["op"], r["dtype"], r["impl"], int(r["n_elements"])) == (op, dtype, impl, n):
                return float(r[column])
        return None
    sizes = sorted({int(r["n_elements"]) for r in data})
    out = []

    def line(what, ratios, goal):
        ratios = [x for x in ratios if x is not None]
        if ratios:
            worst = min(ratios)
            out.append("| %s | %.2f | %.2f | %s |" % (what, worst, goal,
                                                        "met" if worst >= goal else "NOT MET"))
        else:
            out.append("| %s | - | %.2f | not measured |" % (what, goal))

    def ratio(a, b):
        return a / b if a is not None and b else None
    big = [n for n in sizes if n >= least]
    for op in ("forward", "backward"):
        line("%s f32 / device copy" % op,
             [ratio(gbs(op, "f32", "lrelu", n), gbs(op, "f32", "base_device_copy", n))
              for n in big], 0.92)
    line("per-channel backward (c16) / plain backward, f32",
         [ratio(gbs("backward", "f32", "lrelu_prelu_c16", n), gbs("backward", "f32", "lrelu", n))
          for n in big], 0.8)
    for t in ("f16", "bf16"):
        line("%s / f32 elements per second, forward" % t,
             [ratio(gbs("forward", t, "lrelu", n, "gelements_per_s"),
                    gbs("forward", "f32", "lrelu", n, "gelements_per_s")) for n in big], 1.9)
    line("host API / pinned transfer, f32 forward",
         [ratio(gbs("forward", "f32", "lrelu_host", n),
                gbs("forward", "f32", "base_pinned_roundtrip", n)) for n in big], 0.85)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--report", default=None)
    ap.add_argument("--device", default="gpu", help="the selector (default: the first GPU)")
    ap.add_argument("--quick", action="store_true", help="a tiny sweep (the check's own test)")
    ap.add_argument("--allow-cpu", action="store_true", help="accept a CPU device")
    ap.add_argument("--tests", default=None, help="only the tests whose name matches")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    build = os.path.realpath(a.build)
    report = a.report or os.path.join(build, "gpu-report.md")
    os.makedirs(os.path.dirname(os.path.abspath(report)), exist_ok=True)
    started = time.time()
    env = dict(os.environ)
    driver = find_driver(env, build)
    loader = library_path(build, env)
    say(driver)
    code, listing = devices(build, env)
    lines = ["# lrelu GPU check", "", "- date: %s" % time.strftime("%Y-%m-%d %H:%M:%S"),
             "- host: %s" % os.uname().nodename, "- driver: %s" % driver,
             "- loader: %s" % loader, "- device selector: %s" % a.device, "",
             "## Devices", "", "```", listing.rstrip(), "```", ""]
    has_gpu = code == 0 and re.search(r"type [^\n]*GPU", listing)
    picked = subprocess.run([os.path.join(build, "tools", "lrelu"), "devices"],
                            env=dict(env, LRELU_DEVICE=a.device), capture_output=True, text=True)
    if not has_gpu and not a.allow_cpu:
        msg = ("no OpenCL GPU: the loader sees %s. Install the vendor's OpenCL driver, or point "
               "OCL_ICD_FILENAMES at it (NVIDIA: libnvidia-opencl.so.1)."
               % ("no device at all" if code != 0 else "only the devices above"))
        say(msg)
        with open(report, "w") as f:
            f.write("\n".join(lines + ["## Result", "", msg, ""]))
        return NO_GPU
    if picked.returncode != 0:
        say("the selector '%s' picks nothing" % a.device)
        return NO_GPU

    # the suite, on the device
    suite = [t for t in load_suite(build) if runnable(t, a.tests)]
    say("%d tests on %s, %d at a time" % (len(suite), a.device, a.jobs))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        results = list(pool.map(lambda t: run_test(t, env, a.device), suite))
    failed = [r for r in results if r["status"] == "FAILED"]
    passed = sum(r["status"] == "passed" for r in results)
    skipped = [r["name"] for r in results if r["status"] == "skipped"]
    say("tests: %d passed, %d failed, %d skipped" % (passed, len(failed), len(skipped)))
    lines += ["## Tests", "", "%d passed, %d failed, %d skipped (%s) of %d run; the stand-ins "
              "(oclgrind, offline) and the install test left out." % (
                  passed, len(failed), len(skipped), ", ".join(skipped) or "none", len(suite)), ""]
    for r in failed:
        lines += ["### FAILED %s (exit %s, %.0f s)" % (r["name"], r["code"], r["secs"]), "",
                  "```", r["tail"].rstrip(), "```", ""]
    slow = sorted(results, key=lambda r: -r["secs"])[:5]
    lines += ["Slowest: " + ", ".join("%s %.0f s" % (r["name"], r["secs"]) for r in slow), ""]

    # the sweep
    csv_path = os.path.splitext(report)[0] + ".csv"
    sweep = (["--min-log2", "10", "--max-log2", "12", "--step", "2", "--budget", "0.01"]
             if a.quick else ["--min-log2", "20", "--max-log2", "30", "--step", "2",
                              "--budget", "0.15"])
    cmd = [os.path.join(build, "bench", "lrelu-bench"), "--device", a.device,
           "--dtypes", "f32,f16,bf16", "--ops", "forward,backward", "--csv", csv_path] + sweep
    say("benchmark: " + " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)))
    try:
        b = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=330)
        bench_out, bench_code = b.stdout + b.stderr, b.returncode
    except subprocess.TimeoutExpired as x:
        bench_out = x.stdout.decode() if isinstance(x.stdout, bytes) else (x.stdout or "")
        bench_code = "timeout (330 s): the rows measured so far are in the CSV"
    lines += ["## Benchmark", "", "`%s` (exit %s); rows in %s." % (
        " ".join(cmd[1:]), bench_code, os.path.basename(csv_path)), ""]
    lines += [l for l in bench_out.splitlines() if l.startswith("#")] + [""]
    if bench_code != 0:
        lines += ["```", bench_out[-3000:].rstrip(), "```", ""]
    if os.path.exists(csv_path):
        data = rows(csv_path)
        lines += ["## Goals", "", "Worst ratio over n >= %s:" % ("the sweep's least" if a.quick
                                                                  else "2^24"), "",
                  "| what | worst ratio | goal | |", "|---|---|---|---|"]
        lines += goals(data, 0 if a.quick else 1 << 24) + ["", "## Table", "", "```"]
        lines += [l for l in bench_out.splitlines() if not l.startswith("#")] + ["```", ""]
    lines += ["Took %.0f s." % (time.time() - started), ""]
    with open(report, "w") as f:
        f.write("\n".join(lines))
    say("report: %s (%.0f s)" % (report, time.time() - started))
    return 1 if failed or bench_code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
