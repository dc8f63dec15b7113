#!/usr/bin/env python3
"""What auditwheel checks, for our own artifacts, with binutils' readelf (any architecture).

    check-binary.py --target TRIPLE [--max-glibc 2.17] [--exports REGEX] FILE...
    check-binary.py --wheel WHEEL...      (target and glibc ceiling read from the wheel's tag)

Fails (exit 1) when a shared object
  - is not for the target's machine, or is not a shared object,
  - needs a glibc symbol version newer than the ceiling (manylinux2014: 2.17), or any GLIBC
    symbol at all on musl,
  - needs a shared library outside the platform's own C runtime (libc, libm, libpthread, libdl,
    librt, libgcc_s, the dynamic loader) - in a Python module that includes libpython,
  - keeps debug sections (release artifacts ship without them),
  - (with --exports) exports a defined dynamic symbol not matching REGEX.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MACHINES = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}
GLIBC_RUNTIME = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1"
    r"|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$"
)
MUSL_RUNTIME = re.compile(r"^(libc\.so|libc\.musl-(x86_64|aarch64)\.so\.1|ld-musl-(x86_64|aarch64)\.so\.1|libgcc_s\.so\.1)$")
TAG = re.compile(r"^(manylinux_(\d+)_(\d+)|manylinux2014|musllinux_(\d+)_(\d+))_(x86_64|aarch64)$")


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def check(path: Path, arch: str, libc: str, max_glibc: str | None, exports: str | None, label: str) -> list[str]:
    problems = []
    header = readelf("-h", str(path))
    if "DYN (Shared object file)" not in header:
        problems.append("not a shared object")
    machine = re.search(r"Machine:\s+(.*)", header)
    if not machine or machine.group(1).strip() != MACHINES[arch]:
        problems.append(f"machine is {machine.group(1).strip() if machine else '?'}, not {arch}")

    dynamic = readelf("-d", str(path))
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", dynamic)
    allowed = GLIBC_RUNTIME if libc == "gnu" else MUSL_RUNTIME
    for lib in needed:
        if not allowed.match(lib):
            problems.append(f"needs an unexpected shared library: {lib}")

    versions = set(re.findall(r"\bGLIBC_([0-9.]+)\b", readelf("-V", str(path))))
    if libc == "musl" and versions:
        problems.append(f"musl build needs glibc symbol versions: {sorted(versions, key=version_key)}")
    newest = max(versions, key=version_key) if versions else None
    if libc == "gnu" and max_glibc and newest and version_key(newest) > version_key(max_glibc):
        too_new = sorted((v for v in versions if version_key(v) > version_key(max_glibc)), key=version_key)
        problems.append(f"needs GLIBC_{too_new} > {max_glibc} (the tag's ceiling)")

    sections = readelf("-S", str(path))
    debug = sorted(set(re.findall(r"\] (\.debug_\w+|\.zdebug_\w+)", sections)))
    if debug:
        problems.append(f"carries debug sections {debug}")

    if exports:
        wanted = re.compile(exports)
        leaked = []
        for line in readelf("--dyn-syms", str(path)).splitlines():
            cols = line.split()
            # Num: Value Size Type Bind Vis Ndx Name
            if len(cols) >= 8 and cols[4] in ("GLOBAL", "WEAK") and cols[6] != "UND":
                name = cols[7].split("@")[0]
                if not wanted.search(name):
                    leaked.append(name)
        if leaked:
            problems.append(f"exports {len(leaked)} symbols outside {exports}: {leaked[:5]}")

    size = path.stat().st_size
    print(
        f"check-binary: {label}: {arch}-{libc}, {size / 1e6:.1f} MB, newest GLIBC {newest or '-'}"
        f", NEEDED {', '.join(needed) or '-'}: {'FAILED' if problems else 'ok'}"
    )
    for p in problems:
        print(f"  - {p}")
    return problems


def target_facts(target: str) -> tuple[str, str]:
    arch = target.split("-")[0]
    libc = "musl" if target.endswith("musl") else "gnu"
    return arch, libc


def check_wheel(wheel: Path, max_mb: float) -> list[str]:
    # name-version-pyver-abi-platform.whl; the platform may be a dotted list of tags.
    platform = wheel.name[: -len(".whl")].split("-")[-1]
    problems = []
    if wheel.stat().st_size > max_mb * 1e6:
        problems.append(f"{wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB > {max_mb} MB")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        libs = [n for n in zf.namelist() if re.search(r"\.(so|pyd|dylib)(\.|$)", n)]
        libs_elf = [n for n in libs if re.search(r"\.so(\.|$)", n)]
        if not libs:
            problems.append(f"{wheel.name}: no shared object inside")
        if not any(TAG.match(tag) for tag in platform.split(".")):
            # macOS / Windows wheels (built on their runners): the size rule only.
            print(f"check-binary: {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB (not ELF: size checked only)")
        rules = set()  # manylinux2014_x86_64 and manylinux_2_17_x86_64 are one rule
        for tag in platform.split("."):
            m = TAG.match(tag)
            if not m:
                continue
            if tag.startswith("musllinux"):
                rules.add((m.group(6), "musl", None))
            else:
                rules.add((m.group(6), "gnu", "2.17" if tag.startswith("manylinux2014") else f"{m.group(2)}.{m.group(3)}"))
        for arch, libc, ceiling in sorted(rules, key=str):
            for name in libs_elf:
                path = Path(zf.extract(name, tmp))
                problems += [f"{wheel.name}: {p}" for p in check(path, arch, libc, ceiling, "^PyInit_", f"{wheel.name}:{name}")]
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", help="Rust target triple of FILEs")
    ap.add_argument("--max-glibc", default="2.17")
    ap.add_argument("--exports", help="regex every exported symbol must match")
    ap.add_argument("--wheel", action="store_true", help="FILEs are wheels: facts from their tags")
    ap.add_argument("--max-wheel-mb", type=float, default=3.0)
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    problems = []
    for f in args.files:
        if args.wheel:
            problems += check_wheel(f, args.max_wheel_mb)
        else:
            if not args.target:
                ap.error("--target is needed for a plain file")
            arch, libc = target_facts(args.target)
            problems += check(f, arch, libc, args.max_glibc, args.exports, f.name)
    if problems:
        print(f"check-binary: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
