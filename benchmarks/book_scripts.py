"""Run the book-style scripts of ``benchmarks/book_style`` under ``python`` and under ``fastrnn run``, side by side, and compare their times, losses and answers.

Each script runs in a new process from its chapter's folder (the book's
scripts reach ``common`` through ``sys.path.append('..')``), as ``python
SCRIPT`` and as ``python -m fastrnn run SCRIPT``, the two alternating
within several rounds. Every script prints one JSON line (``common/report.
py``): its losses, its answers, the times of its phases. For each workload
of issue 19's table (``ROWS``) this reports the median time of its timed
phase under each, the median of the per-round ratios and their range, and
the ratio of whole-process wall times (start-up included); it checks that
every run's losses agree with the first python run's (relative 1e-4) and
that the answers are the same. ``--profile`` instead runs each script once
under cProfile in each mode and reports where the training and answering
time goes (the layers of the model, the trainer's parts).

Why one module: running the scripts, checking them against each other,
watching the machine for other work and the report all read the same
runs (``Run``), and the test and the docs call it as one script.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/book_scripts.py
    python benchmarks/book_scripts.py --quick        # tiny sizes, one round
    python benchmarks/book_scripts.py --only ch07 --rounds 9 --json out.json
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

BOOK = Path(__file__).resolve().parent / "book_style"
MODES = ("python", "fastrnn")
LOSS_RTOL = 1e-4
TIMEOUT = 3600  # seconds for one script's run


@dataclass(frozen=True)
class Script:
    """One of the book-style scripts: its key, chapter folder and file name."""

    key: str
    folder: str
    file: str


SCRIPTS = (
    Script("ch06", "ch06", "train_better_rnnlm.py"),
    Script("ch07", "ch07", "train_seq2seq.py"),
    Script("ch08", "ch08", "train.py"),
    Script("one-word", "ch07", "one_word_steps.py"),
)
BY_KEY = {s.key: s for s in SCRIPTS}


@dataclass
class Run:
    """One process: the script's JSON, its wall time (seconds, start-up
    included), the ``fastrnn:`` lines of its stderr and how many cores other
    processes kept busy on average while it ran (``others``, from
    ``/proc/stat``; None where that cannot be read)."""

    out: dict
    wall: float
    fastrnn_lines: list[str]
    others: float | None = None


def _busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (``/proc/stat``:
    everything but idle and iowait, summed over the cores); None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def others_busy(seconds: float = 1.0) -> float | None:
    """Cores kept busy by other processes over the next ``seconds`` (this one sleeps).

    Returns
    -------
    float or None
        None where ``/proc/stat`` cannot be read.
    """
    before = _busy_seconds()
    time.sleep(seconds)
    after = _busy_seconds()
    return None if before is None or after is None else (after - before) / seconds


def wait_idle(limit: float, timeout: float, log: Callable[[str], None]) -> None:
    """Wait, up to ``timeout`` seconds, until other processes keep fewer than
    ``limit`` cores busy (measured over 2 s).

    Parameters
    ----------
    limit : float
        Cores (0.1: a tenth of one core).
    timeout : float
        Seconds; after that, go on and let the run's ``others`` tell.
    log : callable
        Gets a line when waiting starts.
    """
    deadline = time.monotonic() + timeout
    busy = others_busy(2.0)
    if busy is not None and busy >= limit:
        log(f"waiting: other processes keep {busy:.2f} cores busy")
    while busy is not None and busy >= limit and time.monotonic() < deadline:
        busy = others_busy(2.0)


def _phase(name: str) -> Callable[[Run], float]:
    return lambda run: run.out["times"][name]


def _median_step(run: Run) -> float:
    steps = run.out["step_times"]
    return statistics.median(steps[1:] if len(steps) > 1 else steps)


def _per_call(name: str) -> Callable[[Run], float]:
    return lambda run: statistics.median(run.out["per_call"][name])


def _wall(run: Run) -> float:
    return run.wall


@dataclass(frozen=True)
class Row:
    """A workload of the table: its label, script, what is timed (seconds from
    a run) and issue 19's target ratio (None: reported only)."""

    label: str
    script: str
    measure: Callable[[Run], float]
    target: float | None


ROWS = (
    Row("ch06 BetterRnnlm training step (median after the first)", "ch06", _median_step, 4.0),
    Row("ch08 AttentionSeq2seq training", "ch08", _phase("train"), 2.0),
    Row("ch08 answering the test questions", "ch08", _phase("answer"), 4.0),
    Row("ch07 Seq2seq training, one epoch", "ch07", _phase("train"), 1.5),
    Row("ch07 answering the test questions", "ch07", _phase("answer"), None),
    Row("ch07 Seq2seq whole script, process wall time", "ch07", _wall, 1.2),
    Row("TimeLSTM fwd+bwd, N=1, T=1, H=128", "one-word", _per_call("fwd+bwd H=128"), 1.0),
    Row("TimeLSTM fwd+bwd, N=1, T=1, H=256", "one-word", _per_call("fwd+bwd H=256"), 1.0),
    Row("TimeLSTM forward, stateful, N=1, T=1, H=128", "one-word",
        _per_call("forward H=128"), None),
    Row("TimeLSTM forward, stateful, N=1, T=1, H=256", "one-word",
        _per_call("forward H=256"), None),
)


def command(script: Script, mode: str, quick: bool, profile: str | None = None) -> list[str]:
    """The command line of one run.

    Parameters
    ----------
    script : Script
        The script to run.
    mode : {"python", "fastrnn"}
        ``python SCRIPT`` or ``python -m fastrnn run SCRIPT``.
    quick : bool
        Pass ``--quick`` (the script's tiny sizes).
    profile : str, optional
        Run under ``python -m cProfile -o PROFILE``.

    Returns
    -------
    list of str
        The argv, to run from the script's folder.
    """
    argv = [sys.executable]
    if profile:
        argv += ["-m", "cProfile", "-o", profile]
    if mode == "fastrnn":
        argv += ["-m", "fastrnn", "run"]
    elif mode != "python":
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return argv + [script.file] + (["--quick"] if quick else [])


def run_once(script: Script, mode: str, quick: bool, profile: str | None = None,
             env: dict[str, str] | None = None) -> Run:
    """Run ``script`` once in a new process and read what it printed.

    Parameters
    ----------
    script, mode, quick, profile
        As for ``command``.
    env : dict, optional
        The process's environment (default: this one's).

    Returns
    -------
    Run
        The JSON of the script's last stdout line, the process's wall time
        and the ``fastrnn:`` lines of its stderr.

    Raises
    ------
    RuntimeError
        If the process fails or prints no JSON; the message holds its stderr.
    """
    argv = command(script, mode, quick, profile)
    busy, mine = _busy_seconds(), _children_seconds()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=BOOK / script.folder, capture_output=True, text=True,
                          timeout=TIMEOUT, env=env)
    wall = time.perf_counter() - start
    busy_after = _busy_seconds()
    others = None if busy is None or busy_after is None else max(
        0.0, (busy_after - busy) - (_children_seconds() - mine)) / wall
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(argv)} (in {script.folder}) exited with "
                           f"{done.returncode}:\n{done.stderr.strip()}")
    return Run(json.loads(lines[-1]), wall,
               [line for line in done.stderr.splitlines() if line.startswith("fastrnn:")],
               others)


def run_rounds(scripts: Sequence[Script], rounds: int, quick: bool, warm_up: int = 0,
               log: Callable[[str], None] = lambda line: None,
               env: dict[str, str] | None = None, max_others: float | None = None,
               retries: int = 3, idle_timeout: float = 600.0
               ) -> dict[str, dict[str, list[Run]]]:
    """Run every script ``rounds`` times in each mode, interleaved.

    In each round every script runs once per mode; the order of the two
    modes alternates from script to script and from round to round, so
    that a drift of the machine's speed falls on both alike.

    Parameters
    ----------
    scripts : sequence of Script
    rounds : int
        Runs per script and mode that are kept.
    quick : bool
        The scripts' tiny sizes.
    warm_up : int
        Runs per script and mode before the kept ones, thrown away (Numba's
        kernel cache, the OS's file cache).
    log : callable
        Gets one line per run (progress).
    env : dict, optional
        The processes' environment (default: this one's).
    max_others : float, optional
        Before each run, wait until other processes keep fewer than this
        many cores busy (``wait_idle``), and run again (up to ``retries``
        times) a run during which they kept more busy on average. On these
        2-core machines OpenBLAS's two threads wait for each other while
        another process holds a core: the book's small products then took
        10 to 60 times as long. None: neither wait nor check.
    retries : int
    idle_timeout : float
        Seconds ``wait_idle`` waits at most each time.

    Returns
    -------
    dict
        ``{script key: {mode: [Run, ...]}}``, runs in the order made.
    """
    runs = {s.key: {m: [] for m in MODES} for s in scripts}
    for r in range(-warm_up, rounds):
        for i, script in enumerate(scripts):
            order = MODES if (r + i) % 2 == 0 else MODES[::-1]
            for mode in order:
                for attempt in range(retries + 1):
                    if max_others is not None:
                        wait_idle(max_others, idle_timeout, log)
                    run = run_once(script, mode, quick, env=env)
                    log(f"{'warm-up' if r < 0 else f'round {r + 1}'}: {script.key} {mode} "
                        f"{run.wall:.2f} s, others {_cores(run.others)}")
                    if max_others is None or run.others is None or run.others < max_others:
                        break
                if r >= 0:
                    runs[script.key][mode].append(run)
    return runs


def _cores(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f} cores"


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0


def agreement(runs: dict[str, list[Run]]) -> tuple[float, list[str]]:
    """Compare every run's losses and answers with the first python run's.

    Parameters
    ----------
    runs : dict
        ``{mode: [Run, ...]}`` of one script.

    Returns
    -------
    (float, list of str)
        The largest relative difference of any loss, and one line per
        disagreement: a loss off by more than ``LOSS_RTOL``, other answers,
        another number of losses.
    """
    first = runs["python"][0].out
    worst, problems = 0.0, []
    for mode in MODES:
        for k, run in enumerate(runs[mode]):
            losses = run.out["losses"]
            if len(losses) != len(first["losses"]):
                problems.append(f"{mode} run {k + 1}: {len(losses)} losses, "
                                f"python's {len(first['losses'])}")
                continue
            diffs = [_relative(a, b) for a, b in zip(first["losses"], losses)]
            worst = max([worst] + diffs)
            bad = [i for i, d in enumerate(diffs) if d > LOSS_RTOL]
            if bad:
                problems.append(f"{mode} run {k + 1}: {len(bad)} losses differ by more than "
                                f"{LOSS_RTOL:g} (relative), first at {bad[0]}: "
                                f"{first['losses'][bad[0]]!r} against {losses[bad[0]]!r}")
            if run.out["answers"] != first["answers"]:
                wrong = sum(a != b for a, b in zip(run.out["answers"], first["answers"]))
                problems.append(f"{mode} run {k + 1}: {wrong} of {len(first['answers'])} "
                                "answers differ from python's")
    return worst, problems


@dataclass
class Figure:
    """A row's figures: medians (seconds) and the per-round ratios."""

    row: Row
    python: float
    fastrnn: float
    ratios: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def figures(runs: dict[str, dict[str, list[Run]]], rows: Sequence[Row] = ROWS) -> list[Figure]:
    """The rows whose script was run, with the medians and per-round ratios.

    Parameters
    ----------
    runs : dict
        From ``run_rounds``.
    rows : sequence of Row

    Returns
    -------
    list of Figure
        Ratio of round k: python's time over fastrnn run's, both of round k.
    """
    out = []
    for row in rows:
        if row.script not in runs:
            continue
        py = [row.measure(r) for r in runs[row.script]["python"]]
        fast = [row.measure(r) for r in runs[row.script]["fastrnn"]]
        out.append(Figure(row, statistics.median(py), statistics.median(fast),
                          [p / f for p, f in zip(py, fast)]))
    return out


def _seconds(s: float) -> str:
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def machine_facts() -> dict:
    """What the figures depend on: CPU, cores, versions, BLAS builds and thread
    counts (threadpoolctl, with numpy's and SciPy's BLAS loaded, as the runs
    load them), the OpenBLAS variables and the cores other processes keep
    busy now (over one second).

    Returns
    -------
    dict
    """
    import numba
    import numpy
    import scipy
    import scipy.linalg  # noqa: F401 (loads SciPy's OpenBLAS, which Numba's np.dot calls)
    import threadpoolctl

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    pools = [f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')}, "
             f"{p.get('num_threads')} threads ({Path(p.get('filepath', '')).name})"
             for p in threadpoolctl.threadpool_info()]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "blas": pools,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "unset"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "unset"),
            "others_busy": others_busy(1.0)}


def report(runs: dict[str, dict[str, list[Run]]]) -> tuple[str, bool, dict]:
    """The table, the checks and the process ratios, as text and as JSON.

    Parameters
    ----------
    runs : dict
        From ``run_rounds``.

    Returns
    -------
    (str, bool, dict)
        The text, whether every run agreed with python's, and the JSON.
    """
    lines = ["| workload | python | fastrnn run | ratio (range) | target |", "|---|---:|---:|---:|---:|"]
    rows = []
    for fig in figures(runs):
        target = f">= {fig.row.target:g}x" if fig.row.target else ""
        lines.append(f"| {fig.row.label} | {_seconds(fig.python)} | {_seconds(fig.fastrnn)} | "
                     f"{fig.ratio:.2f}x ({min(fig.ratios):.2f}-{max(fig.ratios):.2f}) | "
                     f"{target} |")
        rows.append({"workload": fig.row.label, "python_s": fig.python,
                     "fastrnn_s": fig.fastrnn, "ratio": fig.ratio, "ratios": fig.ratios,
                     "target": fig.row.target})
    others = [r.others for by_mode in runs.values() for rs in by_mode.values() for r in rs
              if r.others is not None]
    if others:
        lines += ["", f"other processes kept {min(others):.2f} to {max(others):.2f} cores busy "
                  f"(median {statistics.median(others):.2f}) during the runs"]
    lines += ["", "whole process (start-up included), per script:"]
    ok, scripts = True, {}
    for key, by_mode in runs.items():
        wall = Figure(Row(key, key, _wall, None), statistics.median(r.wall for r in by_mode["python"]),
                      statistics.median(r.wall for r in by_mode["fastrnn"]),
                      [p.wall / f.wall for p, f in zip(by_mode["python"], by_mode["fastrnn"])])
        worst, problems = agreement(by_mode)
        ok = ok and not problems
        replaced = sorted({line for r in by_mode["fastrnn"] for line in r.fastrnn_lines})
        lines.append(f"  {key}: python {_seconds(wall.python)}, fastrnn run "
                     f"{_seconds(wall.fastrnn)}, {wall.ratio:.2f}x "
                     f"({min(wall.ratios):.2f}-{max(wall.ratios):.2f}); losses agree to "
                     f"{worst:.1e} (relative), answers "
                     f"{'the same' if not any('answers' in p for p in problems) else 'DIFFER'}")
        lines += [f"    {line}" for line in replaced]
        lines += [f"    MISMATCH {p}" for p in problems]
        scripts[key] = {"python_wall_s": wall.python, "fastrnn_wall_s": wall.fastrnn,
                        "wall_ratios": wall.ratios, "loss_max_relative_difference": worst,
                        "problems": problems, "fastrnn_lines": replaced,
                        "others_cores": {m: [r.others for r in by_mode[m]] for m in MODES},
                        "python_parts": by_mode["python"][0].out.get("parts"),
                        "fastrnn_parts": by_mode["fastrnn"][0].out.get("parts")}
    return "\n".join(lines), ok, {"rows": rows, "scripts": scripts}


# --- where the time goes (--profile) ----------------------------------------------

def _layer_class(qualified: str) -> type:
    """The class ``module.Class`` that a run reported, imported here (the
    book-style modules from ``BOOK``, as the scripts reach them)."""
    module, _, name = qualified.rpartition(".")
    if str(BOOK) not in sys.path:
        sys.path.insert(0, str(BOOK))
    return getattr(importlib.import_module(module), name)


def _code_key(function) -> tuple[str, int, str]:
    code = function.__code__
    return os.path.realpath(code.co_filename), code.co_firstlineno, code.co_name


def profile_split(script: Script, mode: str, quick: bool) -> dict:
    """Run ``script`` once under cProfile and split its time by layer class.

    Parameters
    ----------
    script : Script
    mode : {"python", "fastrnn"}
    quick : bool

    Returns
    -------
    dict
        ``"layers"``: for each layer class of the model (``"module.Class"``),
        the cumulative seconds of its ``forward`` and ``backward``;
        ``"parts"``: the trainer's parts (its own clock, as the script
        reports them); ``"times"``: the script's phases. cProfile slows
        Python-level code, the book's per-step objects most: use the shares,
        not the absolute times.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.prof")
        run = run_once(script, mode, quick, profile=path)
        # {(file, line, name): (cc, nc, tt, ct, callers)}; the files as real
        # paths: a module found through a relative sys.path entry (the book's
        # sys.path.append('..')) has a file name relative to the folder it ran in
        stats = {(os.path.realpath(os.path.join(BOOK / script.folder, f)), line, name): v
                 for (f, line, name), v in pstats.Stats(path).stats.items()}
    layers = {}
    for qualified in sorted(set(run.out["layers"].values())):
        cls = _layer_class(qualified)
        for method in ("forward", "backward"):
            key = _code_key(getattr(cls, method))
            layers[f"{qualified}.{method}"] = stats.get(key, (0, 0, 0.0, 0.0))[3]
    return {"layers": layers, "parts": run.out.get("parts"), "times": run.out.get("times")}


def profile_report(scripts: Sequence[Script], quick: bool) -> str:
    """``profile_split`` of each script in both modes, as text.

    Parameters
    ----------
    scripts : sequence of Script
    quick : bool

    Returns
    -------
    str
    """
    lines = []
    for script in scripts:
        for mode in MODES:
            split = profile_split(script, mode, quick)
            phases = ", ".join(f"{k} {_seconds(v)}" for k, v in (split["times"] or {}).items())
            lines.append(f"{script.key} under {mode} (cProfile): {phases}")
            for name, seconds in sorted(split["layers"].items(), key=lambda kv: -kv[1]):
                lines.append(f"    {_seconds(seconds):>10}  {name}")
            for name, seconds in (split["parts"] or {}).items():
                lines.append(f"    {_seconds(seconds):>10}  trainer: {name}")
    return "\n".join(lines)


NO_LIMIT = -1.0


def _limit(text: str) -> float:
    """``--max-others``: a number of cores, or ``none`` (``NO_LIMIT``)."""
    if text.lower() == "none":
        return NO_LIMIT
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of cores or 'none', "
                                         f"got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (1 if any run disagreed).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the scripts' tiny sizes; one round, no warm-up")
    parser.add_argument("--rounds", type=int, help="kept runs per script and mode "
                        "(default 5; 1 with --quick)")
    parser.add_argument("--warm-up", type=int, help="runs per script and mode before "
                        "them, not kept (default 1; 0 with --quick)")
    parser.add_argument("--only", nargs="+", choices=list(BY_KEY), metavar="SCRIPT",
                        help=f"only these scripts: {', '.join(BY_KEY)}")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--profile", action="store_true", help="instead: one run of each "
                        "script per mode under cProfile, its time by layer and trainer part")
    parser.add_argument("--max-others", type=_limit, metavar="CORES", help="wait before each "
                        "run until other processes keep fewer cores busy, and run again one "
                        "during which they kept more (default 0.2; none with --quick; 'none': "
                        "never wait)")
    parser.add_argument("--verbose", action="store_true", help="a line per run on stderr")
    args = parser.parse_args(argv)
    scripts = [BY_KEY[k] for k in args.only] if args.only else list(SCRIPTS)
    facts = machine_facts()
    print(f"machine: {facts['cpu']}, {facts['cores']} cores, Python {facts['python']}, "
          f"numpy {facts['numpy']}, SciPy {facts['scipy']}, Numba {facts['numba']}")
    print(f"BLAS: {'; '.join(facts['blas'])}")
    print(f"OPENBLAS_CORETYPE={facts['OPENBLAS_CORETYPE']} "
          f"OPENBLAS_L2_SIZE={facts['OPENBLAS_L2_SIZE']}; other processes keep "
          f"{_cores(facts['others_busy'])} busy")
    if args.profile:
        print(profile_report(scripts, args.quick))
        return 0
    rounds = args.rounds or (1 if args.quick else 5)
    warm_up = args.warm_up if args.warm_up is not None else (0 if args.quick else 1)
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.verbose \
        else (lambda line: None)
    max_others = args.max_others if args.max_others is not None else (
        None if args.quick else 0.2)
    if max_others == NO_LIMIT:
        max_others = None
    runs = run_rounds(scripts, rounds, args.quick, warm_up, log, max_others=max_others)
    text, ok, data = report(runs)
    print(f"{rounds} rounds{', quick sizes' if args.quick else ''}; medians; ratio = python "
          "over fastrnn run, median of the rounds' ratios (range)")
    print(text)
    if args.json:
        data.update(machine=facts, rounds=rounds, quick=args.quick, max_others=max_others)
        Path(args.json).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
