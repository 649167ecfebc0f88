"""Run a Python script as `python bench/measure.py OUT.json script.py args...` and record its peak memory.

The script runs in this very process (runpy), so ru_maxrss is the script's own peak resident set.
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
        with open(out_path, "w") as out:
            json.dump(
                {
                    "exit_code": code,
                    "seconds": time.monotonic() - started,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                },
                out,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
