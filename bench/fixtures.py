"""Per-test cost of the fixtures ``contactship_mock`` and ``vendor_mocks``, beside a ``respx_mock`` route.

    python bench/fixtures.py [--tests 300] [--rounds 9] [--instructions] [--json PATH]

Writes throwaway test files in a temporary directory, each with ``tests`` parametrised tests that make
one request (Contactship's documented list) through one ``httpx.Client`` shared by the file:

- ``respx``: the test takes respx's ``respx_mock`` fixture and adds a route that returns the
  emulator's bytes, precomputed;
- ``contactship_mock``: the test takes the plugin's fixture for that vendor;
- ``vendor_mocks``: the test takes the fixture for every vendor;
- ``baseline``: the same file with no test, to subtract what every run pays (interpreter, pytest,
  plugins, collection).

Each file runs with pytest in its own subprocess (``-p no:cacheprovider``, no xdist), the plugins
loaded from their entry points as for an installed user. The rounds are interleaved (each round runs
every file once); the cost per test is (wall of the file - wall of the baseline) / tests, and the medians
over the rounds are printed with their ratio to the respx test's median (the ratio of medians: each
round's own ratio divides two differences of noisy seconds, and one slow start moved it by 0.3 to 0.5;
their range is printed after the table). The same is printed
for the CPU time of the pytest process (user + system), which other load on the machine moves less,
and for the median duration of one test inside pytest (set-up, call, teardown and report, timed by a
conftest hook), which no start-up noise reaches. The emulator is built once per session: the first two
figures spread its build over the file's tests, the median leaves it out. Last, each whole file's wall
and CPU seconds (the empty file's too): what a session pays in all, start-up included.

With ``--instructions`` (``make bench`` passes it), each file also runs once under callgrind and the
cost per test is printed in instructions, (file - empty file) / tests: the one figure here that does not
move from run to run. On this project's 2-core virtual machines the CPU seconds of one file moved by up
to 2x between rounds (1.52 to 2.99 s), so the timed ratios move with them.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compiled_environment  # noqa: E402
from mockserver.testing import mock_vendors  # noqa: E402

URL = "https://api.contactship.ai/v1/phone-numbers"
CLOCKS = ("wall", "cpu", "median")

HEADER = """\
import httpx
import pytest

URL = {url!r}
BODY = {body!r}
client = httpx.Client()
"""

TESTS = {
    "baseline": "",
    "respx": """
@pytest.mark.parametrize("n", range({tests}))
def test_request(respx_mock, n):
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, content=BODY, headers={{"content-type": "application/json"}})
    )
    assert client.get(URL).status_code == 200
""",
    "contactship_mock": """
@pytest.mark.parametrize("n", range({tests}))
def test_request(contactship_mock, n):
    assert client.get(URL, headers=contactship_mock.headers).status_code == 200
""",
    "vendor_mocks": """
@pytest.mark.parametrize("n", range({tests}))
def test_request(vendor_mocks, n):
    assert client.get(URL, headers=vendor_mocks.contactship.headers).status_code == 200
""",
}


# Times each test's whole protocol (set-up, call, teardown, report) inside the pytest process.
CONFTEST = """\
import json
import os
import time

import pytest

TIMES = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    yield
    TIMES.append(time.perf_counter() - started)


def pytest_sessionfinish(session):
    with open(os.environ["FIXTURES_BENCH_TIMES"], "w") as out:
        json.dump(TIMES, out)
"""


def write_files(folder: Path, tests: int) -> dict[str, Path]:
    """One test file per kind (and an ini file, so that no project configuration applies)."""
    with mock_vendors("contactship") as vendors:
        body = httpx.get(URL, headers=vendors.contactship.headers).content
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    files = {}
    for kind, tail in TESTS.items():
        path = folder / f"test_{kind}.py"
        path.write_text(HEADER.format(url=URL, body=body) + tail.format(tests=tests))
        files[kind] = path
    return files


def run(path: Path) -> tuple[float, float, float]:
    """Wall and CPU seconds (user + system) for pytest to run this file in a fresh interpreter, and the
    median duration of one test inside it.

    The file must pass (or, for the baseline, collect nothing).
    """
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name]
    times = path.with_suffix(".times.json")
    environment = compiled_environment({"FIXTURES_BENCH_TIMES": str(times)})
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=path.parent, capture_output=True, text=True, check=False, env=environment
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):  # 5: no test collected (the baseline)
        raise SystemExit(f"{path.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    durations = json.loads(times.read_text())
    return elapsed, _children_cpu() - cpu_before, statistics.median(durations) if durations else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def instructions(path: Path) -> int:
    """The instructions pytest runs for this file in a fresh interpreter, counted by callgrind (valgrind):
    the same for every run of the same code, whatever else the machine does."""
    out = path.with_suffix(".callgrind")
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "pytest",
               "-q", "-p", "no:cacheprovider", path.name]  # fmt: skip
    environment = compiled_environment({"FIXTURES_BENCH_TIMES": str(path.with_suffix(".times.json"))})
    done = subprocess.run(
        command, cwd=path.parent, capture_output=True, text=True, check=False, env=environment
    )
    found = re.search(r"^(?:summary|totals):\s+(\d+)", out.read_text(errors="replace"), re.MULTILINE)
    if done.returncode not in (0, 5) or found is None:
        raise SystemExit(f"{path.name} under callgrind failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return int(found.group(1))


def print_instructions(files: dict[str, Path], tests: int) -> dict[str, float]:
    """(file - empty file) / tests in millions of instructions, two files at a time; printed, returned."""
    with ThreadPoolExecutor(2) as pool:
        counted = dict(zip(files, pool.map(instructions, files.values()), strict=True))
    per_test = {
        kind: (counted[kind] - counted["baseline"]) / tests / 1e6 for kind in files if kind != "baseline"
    }
    print(f"{'fixture':<18}{'M instructions/test':>20}{'x respx':>9}")
    for kind, millions in per_test.items():
        print(f"{kind:<18}{millions:>20.2f}{millions / per_test['respx']:>9.2f}")
    print(
        f"(callgrind, one run of each file: (file - empty file) / {tests}, the session's one-off costs"
        f" spread over its tests; the empty file {counted['baseline'] / 1e6:,.0f} M)"
    )
    return per_test


def measure_rounds(files: dict[str, Path], tests: int, rounds: int) -> dict[str, Any]:
    """Every file once per round, interleaved: per clock and kind, the cost per test in each round, its
    ratio to respx's in that round, and the whole files' seconds (the baseline's too)."""
    kinds = [kind for kind in TESTS if kind != "baseline"]
    per_test: dict[str, dict[str, list[float]]] = {clock: {kind: [] for kind in kinds} for clock in CLOCKS}
    ratios: dict[str, dict[str, list[float]]] = {clock: {kind: [] for kind in kinds} for clock in CLOCKS}
    files_s: dict[str, dict[str, list[float]]] = {clock: {kind: [] for kind in TESTS} for clock in CLOCKS[:2]}
    for path in files.values():  # untimed: the first run compiles what the others read compiled
        run(path)
    for _ in range(rounds):
        runs = {kind: run(path) for kind, path in files.items()}
        for index, clock in enumerate(CLOCKS[:2]):
            for kind in TESTS:
                files_s[clock][kind].append(runs[kind][index])
        for index, clock in enumerate(CLOCKS):
            for kind in kinds:
                if clock == "median":  # already one test's duration
                    cost = runs[kind][index]
                else:
                    cost = (runs[kind][index] - runs["baseline"][index]) / tests
                per_test[clock][kind].append(cost)
            for kind in kinds:
                ratios[clock][kind].append(per_test[clock][kind][-1] / per_test[clock]["respx"][-1])
    return {"per_test_s": per_test, "ratios": ratios, "files_s": files_s}


def print_rounds(numbers: dict[str, Any], tests: int, rounds: int) -> None:
    per_test, ratios, files_s = numbers["per_test_s"], numbers["ratios"], numbers["files_s"]
    kinds = list(per_test["wall"])
    header = "".join(f"{clock + ' ms/test':>15}{'x respx':>9}" for clock in CLOCKS)
    print(f"{'fixture':<18}{header}")
    for kind in kinds:
        cells = [
            f"{statistics.median(per_test[clock][kind]) * 1e3:>15.2f}"
            f"{statistics.median(per_test[clock][kind]) / statistics.median(per_test[clock]['respx']):>9.2f}"
            for clock in CLOCKS
        ]
        print(f"{kind:<18}{''.join(cells)}")
    print(
        f"({tests} tests per file, {rounds} interleaved rounds, medians over the rounds;"
        " wall and cpu: (file - empty file) / tests, cpu being the user + system time of the pytest process;"
        " median: the median duration of one test's set-up, call, teardown and report, inside pytest;"
        " x respx: the ratio of the two medians)"
    )
    for kind in kinds[1:]:
        spread = ", ".join(
            f"{clock} {min(ratios[clock][kind]):.2f} to {max(ratios[clock][kind]):.2f}" for clock in CLOCKS
        )
        print(f"{kind}: the rounds' own ratios to respx ranged {spread}")
    print(f"{'file':<18}{'wall s':>15}{'cpu s':>24}")
    for kind in TESTS:
        walls, cpus = (statistics.median(files_s[clock][kind]) for clock in CLOCKS[:2])
        print(f"{kind:<18}{walls:>15.3f}{cpus:>24.3f}")
    print("(each whole file, the session's start-up and one-off costs included: medians over the rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--instructions", action="store_true",
        help="also count each file's instructions with callgrind (valgrind; about 2.5 min on 2 cores)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fixtures-bench-") as folder:
        files = write_files(Path(folder), arguments.tests)
        numbers = measure_rounds(files, arguments.tests, arguments.rounds)
        print_rounds(numbers, arguments.tests, arguments.rounds)
        if arguments.instructions:
            print()
            numbers["instructions_per_test_millions"] = print_instructions(files, arguments.tests)
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
