"""Run a Python script as `python bench/measure.py OUT.json script.py args...` and record its peak memory and CPU.

The script runs in this very process (runpy), so ru_maxrss is the script's own peak resident set and
ru_utime + ru_stime its own CPU time (all its threads).
"""

import json
import resource
import runpy
import sys
import time


def main() -> None:
    out_path, script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    started = time.monotonic()
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        code = 1
        raise
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(out_path, "w") as out:
            json.dump(
                {
                    "cpu_seconds": usage.ru_utime + usage.ru_stime,
                    "exit_code": code,
                    "seconds": time.monotonic() - started,
                    "peak_rss_mb": usage.ru_maxrss / 1024,
                },
                out,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
