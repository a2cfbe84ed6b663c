"""PyTorch's SGEMM speed at the cases of sgemm-shapes.json (the twin of sgemm.mjs).

Reads the cases as JSON on stdin ([{name, batch, m, n, k, ta, tb}]), prints one JSON object
{"torch": version, "threads": N, "results": {name: gflops}} on stdout. Transposed operands are
transposed views, as autograd passes them to the BLAS.
"""
import json
import sys
import time

import torch


def gflops(case, min_seconds):
    b, m, n, k = case["batch"], case["m"], case["n"], case["k"]
    a = torch.rand(b, k, m) - 0.5 if case["ta"] else torch.rand(b, m, k) - 0.5
    w = torch.rand(b, n, k) - 0.5 if case["tb"] else torch.rand(b, k, n) - 0.5
    if b == 1:
        a, w = a[0], w[0]
    opa = a.transpose(-1, -2) if case["ta"] else a
    opw = w.transpose(-1, -2) if case["tb"] else w
    out = torch.empty(*(([b] if b > 1 else []) + [m, n]))
    torch.matmul(opa, opw, out=out)
    best = float("inf")
    spent = 0.0
    while spent < min_seconds:
        reps = max(1, int(2e8 / (2.0 * b * m * n * k)))
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.matmul(opa, opw, out=out)
        dt = time.perf_counter() - t0
        spent += dt
        best = min(best, dt / reps)
    return 2.0 * b * m * n * k / best / 1e9


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    torch.set_num_threads(threads)
    cases = json.load(sys.stdin)
    results = {c["name"]: gflops(c, min_seconds) for c in cases}
    json.dump({"torch": torch.__version__, "threads": threads, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
