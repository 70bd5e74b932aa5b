"""Base image recipes: a Debian suite and packages, and what to trim. The cache key comes from here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from harness.errors import UserError

# Bump when debootstrap options, the trim list or the image config change: it re-keys every base.
RECIPE_VERSION = 1
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Removed from every base (paths relative to the root filesystem; globs allowed).
COMMON_TRIM = (
    "var/cache/apt/*",
    "var/lib/apt/lists/*",
    "var/cache/debconf/*-old",
    "var/lib/dpkg/*-old",
    "var/log/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "usr/share/lintian/*",
    "usr/share/linda/*",
    "usr/share/bug/*",
    "dev/*",
    "proc/*",
    "sys/*",
    "run/*",
    "tmp/*",
    "var/tmp/*",
    # The host's DNS and name leak in through debootstrap; the runtime provides its own.
    "etc/resolv.conf",
    "etc/hostname",
)
# Docs go, licences stay: usr/share/doc/<package>/copyright is kept.
DOC_DIR = "usr/share/doc"


@dataclass(frozen=True)
class BaseRecipe:
    """One base image: `debootstrap --variant=minbase --include=<packages> <suite>` plus a trim."""

    name: str
    suite: str
    packages: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    trim: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ("/bin/sh",)
    description: str = ""

    def key(self) -> str:
        """Hex digest of everything that shapes the image; a change here means a new base."""
        material = {
            "recipe_version": RECIPE_VERSION,
            "name": self.name,
            "suite": self.suite,
            "packages": sorted(self.packages),
            "env": list(self.env),
            "trim": sorted((*COMMON_TRIM, *self.trim)),
            "cmd": list(self.cmd),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def reference(self) -> str:
        return f"localhost/taskflow/base-{self.name}:{self.suite}-{self.key()[:12]}"

    def env_list(self) -> list[str]:
        merged = {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", **dict(self.env)}
        return [f"{key}={value}" for key, value in merged.items()]


PYTHON = BaseRecipe(
    name="python",
    suite="bookworm",
    packages=("python3", "python3-venv", "ca-certificates", "tzdata"),
    cmd=("/usr/bin/python3",),
    description="Debian bookworm minbase with Python 3.11 and venv",
)
NODE = BaseRecipe(
    name="node",
    suite="bookworm",
    # Debian's nodejs (18.20) satisfies Next.js 15's engines (^18.18); npm stays on the host.
    packages=("nodejs", "ca-certificates", "tzdata"),
    cmd=("/usr/bin/node",),
    description="Debian bookworm minbase with Node.js 18",
)
POSTGRES = BaseRecipe(
    name="postgres",
    suite="bookworm",
    packages=("postgresql-15", "tzdata"),
    env=(("PATH", f"/usr/lib/postgresql/15/bin:{DEFAULT_PATH}"),),
    trim=(
        # postinst creates a cluster and a snakeoil TLS key; an image must ship neither.
        "var/lib/postgresql/15/main",
        "etc/postgresql/15/main",
        "etc/ssl/private/ssl-cert-snakeoil.key",
        "etc/ssl/certs/ssl-cert-snakeoil.pem",
        # JIT needs LLVM and Z3 (~135 MB); without the provider PostgreSQL runs with jit unavailable.
        "usr/lib/postgresql/15/lib/llvmjit*",
        "usr/lib/postgresql/15/lib/bitcode",
        "usr/lib/*-linux-gnu/libLLVM-*",
        "usr/lib/*-linux-gnu/libz3.so*",
        "usr/lib/llvm-*",
    ),
    cmd=("/usr/lib/postgresql/15/bin/postgres", "--version"),
    description="Debian bookworm minbase with PostgreSQL 15 (no JIT, no default cluster)",
)
RECIPES: dict[str, BaseRecipe] = {recipe.name: recipe for recipe in (PYTHON, NODE, POSTGRES)}


def recipe_named(name: str) -> BaseRecipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise UserError(f"unknown base image {name!r}", fix=f"use one of {', '.join(RECIPES)}") from None
