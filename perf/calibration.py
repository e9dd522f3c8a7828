"""Calibration of the trade-rate intervals and verdicts by simulation (issue 19): coverage of the 95% rho
intervals and of the rho_cost lower bound, false `pays` when the true rho_cost is 1, false `identified` when
the human slope is 0, at 48 and 500 items and 1 and 3 seeds. The model and the truth: core/economics/calibration.py.

    PYTHONPATH=. python perf/calibration.py [--studies 500] [--samples 600]

Prints a markdown table (docs/MEASUREMENTS.md keeps the last run).
"""

import argparse
import os
import platform
import time

from rlvr_assets.core.economics.calibration import calibrate, calibration_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--studies", type=int, default=500, help="simulated studies per condition and truth")
    parser.add_argument("--samples", type=int, default=600, help="bootstrap draws per study")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    rows = []
    for items in (48, 500):
        for seeds in (1, 3):
            t = time.monotonic()
            rows.append(calibrate(items, seeds, args.studies, args.samples, seed=args.seed + 7 * items + seeds))
            print(f"# {items} items x {seeds} seed(s): {time.monotonic() - t:.0f} s", flush=True)
    print(calibration_table(rows))
    print(
        f"\n{args.studies} studies per condition with a rising curve (true slope 5 points per doubling, true rho 1, "
        f"judged at r = 1 so the true rho_cost is 1) and {args.studies} with a flat one (slope 0, the augmented arm "
        f"+5 points over its base); {args.samples} bootstrap draws each; joint curve (the primary estimator). "
        f"{time.monotonic() - started:.0f} s on {platform.machine()} with {os.cpu_count()} CPUs visible."
    )


if __name__ == "__main__":
    main()
