"""PII column-scan throughput: ``python -m bench.pii_scan [--cells N] [--repeat R]``.

Generates a realistic table (default 200,000 cells: 20,000 rows of a Haikou service register
with names, ID numbers, mobiles, addresses, e-mails, plates, amounts, timestamps, statuses and
free-text remarks), then times

- ``scan_columns`` (every detector, check digits, overlap rules) in cells/s,
- ``detect_value`` on every cell with no per-column cache of repeated values, and
- a baseline: one naive regex pass per cell (digits/e-mail shapes only, no checks),

on one core, best of R runs. Prints one JSON line per measurement and a short summary.
``python -m bench pii`` runs it as part of the suite and records it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Callable

from bench.common import Result, log
from cityos.protection.detectors import detect_value
from cityos.protection.scan import header_hint, scan_columns

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢符邢云冼吉莫"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰海燕志鹏晓婷雪梅宇轩浩然思琪"
STREETS = (
    "人民大道",
    "海府路",
    "龙昆南路",
    "国贸大道",
    "滨海大道",
    "海秀中路",
    "凤翔路",
    "文明东路",
)
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")
STATUSES = ("已受理", "办理中", "已办结", "退回", "待审核")
REMARKS = (
    "群众来电反映路灯不亮，已转交市政部门处理",
    "申请人补充材料后再次提交",
    "现场核查无异常",
    "请联系{name}，电话{mobile}，地址{address}",
    "身份证{id}复印件已收",
    "窗口办理，无备注",
)
HEADER = ["姓名", "身份证号", "手机号", "住址", "邮箱", "车牌", "金额", "时间", "状态", "备注"]


def _id(rng: random.Random) -> str:
    body = (
        rng.choice(("460105", "460106", "460107", "460108", "469005"))
        + f"{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + f"{rng.randint(0, 999):03d}"
    )
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def _row(rng: random.Random) -> list[str]:
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    mobile = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"
    address = f"海口市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
    remark = rng.choice(REMARKS).format(name=name, mobile=mobile, address=address, id=_id(rng))
    return [
        name,
        _id(rng),
        mobile,
        address,
        f"user{rng.randint(1, 99999)}@example.cn",
        f"琼A{rng.randint(10000, 99999)}",
        f"{rng.randint(1, 9_999_999) / 100:.2f}",
        f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 235959):06d}",
        rng.choice(STATUSES),
        remark,
    ]


def make_rows(cells: int, seed: int = 42) -> list[list[str]]:
    rng = random.Random(seed)
    return [_row(rng) for _ in range(max(1, cells // len(HEADER)))]


NAIVE = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}|\d{16,19}|[\w.+-]+@[\w-]+\.[\w.]+")


def naive_pass(rows: list[list[str]]) -> int:
    hits = 0
    search = NAIVE.search
    for row in rows:
        for cell in row:
            if search(cell):
                hits += 1
    return hits


def detect_all(rows: list[list[str]]) -> int:
    hints = [header_hint(h) for h in HEADER]
    hits = 0
    for row in rows:
        for cell, hint in zip(row, hints, strict=True):
            if detect_value(cell, hint):
                hits += 1
    return hits


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


TARGET = 50_000  # cells/s (the target)


def run(cells: int = 200_000, repeat: int = 3) -> list[Result]:
    """The suite's entry point (``python -m bench pii``): ours and the naive pass, same cells."""
    rows = make_rows(cells)
    count = len(rows) * len(HEADER)
    log(f"PII scan of {count:,} cells (best of {repeat})")
    scan_columns(HEADER, rows, sample=len(rows))  # warm up (regex compilation, caches)
    naive_s = _best(lambda: naive_pass(rows), repeat)
    scan_s = _best(lambda: scan_columns(HEADER, rows, sample=len(rows)), repeat)
    nocache_s = _best(lambda: detect_all(rows), repeat)
    naive_s = min(naive_s, _best(lambda: naive_pass(rows), repeat))  # before and after ours
    note = (
        f"{count:,} cells of a 10-column service register, every cell, one core; vs one "
        "compiled regex search per cell (shapes only, no checks)"
    )
    return [
        Result(
            "PII scan: scan_columns (every detector, check digits, overlap rules)",
            "—",
            count / scan_s,
            count / naive_s,
            "cells/s",
            f"≥ {TARGET:,} cells/s",
            count / scan_s >= TARGET,
            higher_is_better=True,
            note=note,
        ),
        Result(
            "PII scan: detect_value per cell (no per-column cache)",
            "—",
            count / nocache_s,
            count / naive_s,
            "cells/s",
            f"≥ {TARGET:,} cells/s",
            count / nocache_s >= TARGET,
            higher_is_better=True,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = make_rows(args.cells)
    cells = len(rows) * len(HEADER)

    def scan() -> object:
        return scan_columns(HEADER, rows, sample=len(rows))

    reports = scan_columns(HEADER, rows, sample=len(rows))
    scan_s = _best(scan, args.repeat)
    nocache_s = _best(lambda: detect_all(rows), args.repeat)
    naive_s = _best(lambda: naive_pass(rows), args.repeat)
    results = [
        {
            "bench": "pii_scan",
            "what": "scan_columns",
            "cells": cells,
            "seconds": round(scan_s, 4),
            "cells_per_s": round(cells / scan_s),
        },
        {
            "bench": "pii_scan",
            "what": "detect_value_no_cache",
            "cells": cells,
            "seconds": round(nocache_s, 4),
            "cells_per_s": round(cells / nocache_s),
        },
        {
            "bench": "pii_scan",
            "what": "naive_regex_baseline",
            "cells": cells,
            "seconds": round(naive_s, 4),
            "cells_per_s": round(cells / naive_s),
        },
    ]
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    detected = {r.name: r.detected for r in reports}
    print(json.dumps({"bench": "pii_scan", "detected": detected}, ensure_ascii=False))
    print(
        f"scan_columns: {cells / scan_s:,.0f} cells/s; detect_value without cache: "
        f"{cells / nocache_s:,.0f} cells/s; naive single regex: {cells / naive_s:,.0f} cells/s "
        f"(scan takes {scan_s / naive_s:.1f}x the naive time)"
    )


if __name__ == "__main__":
    main()
