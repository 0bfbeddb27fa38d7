"""Figure 6: start-up costs, each next to its own baseline in the same run.

* the provider host: spawn of ``python -u -m pulumi.dynamic`` until it prints
  its port, next to a bare ``python -c pass``;
* ``import pulumi; import pulumi_vpsbackup`` in a fresh interpreter next to
  ``import pulumi`` alone: the package's own share (its names load on first
  use), and the first use of ``vps.Backup`` (the provider, the client and
  httpx, pulumi.dynamic and dill) beside ``import httpx`` alone.

Runs are interleaved round-robin so background load hits every variant alike;
medians are reported.
"""

from __future__ import annotations

import subprocess
import sys
import time

from .core import REPO_ROOT, Figure, Options, median

GROUP = "startup"
TARGET_SHARE = 0.03
VARIANTS = {
    "pass": "pass",
    "pulumi": "import pulumi",
    "httpx": "import httpx",
    "pulumi_vpsbackup": "import pulumi; import pulumi_vpsbackup",
    "first use": "import pulumi; import pulumi_vpsbackup as vps; vps.Backup",
}


def time_python(code: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def time_host() -> float:
    """Spawn the SDK provider host and stop the watch at its port line; then kill it."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=str(REPO_ROOT),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - start
        if not line.strip().isdigit():
            raise RuntimeError(f"provider host printed {line!r} instead of a port")
        return elapsed
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


#: Timed inside one fresh interpreter, after `import pulumi`: the package's own
#: share without the noise of starting a process (printed in seconds).
INSIDE = {
    "share": "import time, pulumi; t = time.perf_counter(); import pulumi_vpsbackup; "
    "print(time.perf_counter() - t)",
    "first use share": "import time, pulumi; t = time.perf_counter(); "
    "import pulumi_vpsbackup as vps; vps.Backup; print(time.perf_counter() - t)",
}


def time_inside(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=str(REPO_ROOT),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip())


def run(options: Options) -> list[Figure]:
    rounds: int = options.pick(5, 9)
    times: dict[str, list[float]] = {name: [] for name in [*VARIANTS, "host"]}
    for code in VARIANTS.values():  # warm the OS file cache and .pyc files
        time_python(code)
    for _ in range(rounds):
        for name, code in VARIANTS.items():
            times[name].append(time_python(code))
        times["host"].append(time_host())
        for name, code in INSIDE.items():
            times.setdefault(name, []).append(time_inside(code))
    med = {name: median(values) for name, values in times.items()}
    share = med["share"]
    details = {name: [round(v, 4) for v in values] for name, values in times.items()}
    return [
        Figure(
            GROUP,
            "provider host start (spawn to port)",
            med["host"],
            "s",
            med["pass"],
            "python -c pass",
            "(info)",
            None,
            f"{med['host'] - med['pass']:.2f} s over a bare interpreter; the host does not "
            "import pulumi_vpsbackup until the first call unpickles a provider",
            details,
        ),
        Figure(
            GROUP,
            "import pulumi_vpsbackup",
            med["pulumi_vpsbackup"],
            "s",
            med["pulumi"],
            "import pulumi",
            "(info)",
            None,
            f"median of {rounds}; import httpx alone {med['httpx']:.2f} s, python -c pass "
            f"{med['pass']:.2f} s",
        ),
        Figure(
            GROUP,
            "first use of vps.Backup beyond import pulumi",
            med["first use share"],
            "s",
            med["httpx"] - med["pass"],
            "import httpx alone",
            "(info)",
            None,
            "what a program pays once it declares a resource: the provider and client "
            "modules, httpx, pulumi.dynamic and dill",
        ),
        Figure(
            GROUP,
            "import pulumi_vpsbackup beyond import pulumi",
            share,
            "s",
            0.0,
            "ideal: nothing until first use",
            f"<= {TARGET_SHARE:g} s",
            share <= TARGET_SHARE,
            f"timed inside fresh interpreters after import pulumi (median of {rounds}); "
            f"as whole processes: {med['pulumi_vpsbackup'] - med['pulumi']:+.3f} s; the names "
            "load on first use",
        ),
    ]
