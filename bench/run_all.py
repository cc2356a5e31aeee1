# ruff: noqa: T201  (benchmarks report on stdout)
"""Run every benchmark in turn (`make bench`), each in its own process: each one sets up Django
on its own throwaway database and settings. Exits non-zero if any benchmark failed."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "session_lifecycle.py",
    "session_memory.py",
    "live_view.py",
    "perception.py",
    "concurrency.py",
    "vaults.py",
    "cdp_proxy.py",
    "agents.py",
]


def main() -> int:
    failed = []
    for script in BENCHMARKS:
        print(f"\n=== {script} ===", flush=True)
        t0 = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / script)], cwd=HERE.parent)
        print(
            f"=== {script}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - t0:.0f} s"
        )
        if code:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
