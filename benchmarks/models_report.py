"""Print the table of a ``test_bench_models.py`` run from its ``--benchmark-json``.

    python benchmarks/models_report.py models.json

Per model: each implementation's fastest and median step, fastrnn's speed-up
over the numpy layers and over PyTorch (by the fastest steps), and the share
of the GEMM roofline (the step's flops at the sgemm peak measured in that
run) each reaches; then the BLAS libraries and threads of the run.
"""

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        report = json.load(f)
    rows: dict[str, dict[str, dict]] = {}
    blas = []
    for b in report["benchmarks"]:
        model, impl = b["params"]["model"], b["params"]["impl"]
        rows.setdefault(model, {})[impl] = b
        blas = b["extra_info"].get("blas", blas)
    print(f"{'model':<8}{'impl':<9}{'min ms':>9}{'median ms':>11}{'roofline':>10}"
          f"{'fastrnn speed-up':>18}")
    for model, impls in rows.items():
        mins = {impl: b["stats"]["min"] for impl, b in impls.items()}
        for impl, b in impls.items():
            share = b["extra_info"].get("roofline_s", float("nan")) / mins[impl]
            ratio = "" if impl == "fastrnn" or "fastrnn" not in mins else \
                f"{mins[impl] / mins['fastrnn']:.2f}x"
            print(f"{model:<8}{impl:<9}{mins[impl] * 1e3:>9.1f}"
                  f"{b['stats']['median'] * 1e3:>11.1f}{share:>10.0%}{ratio:>18}")
        info = next(iter(impls.values()))["extra_info"]
        if "roofline_s" in info:
            print(f"{model:<8}{'roofline':<9}{info['roofline_s'] * 1e3:>9.1f}"
                  f"  ({info['flops'] / 1e9:.2f} GFLOP at {info['gemm_peak'] / 1e9:.0f} "
                  "GFLOP/s sgemm)")
    for line in blas:
        print("BLAS:", line)


if __name__ == "__main__":
    main(sys.argv[1])
