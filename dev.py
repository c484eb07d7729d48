#!/usr/bin/env python3
"""The two commands of the quick start, on any machine with Python 3.11+:

    python3 dev.py start   # install, build Torreón's demo data on SQLite, serve, print logins
    python3 dev.py test    # install the test tools and run the whole test suite

Everything goes into ./.venv; nothing is installed system-wide.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def run(*args: str, env: dict | None = None) -> None:
    subprocess.run(args, cwd=ROOT, check=True, env={**os.environ, **(env or {})})


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):
        sys.exit("Ventanilla necesita Python 3.11 o posterior.")
    if not PYTHON.exists():
        print("· Creando el entorno virtual en .venv …", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except Exception as exc:  # noqa: BLE001
            sys.exit(f"No se pudo crear el entorno virtual ({exc}). En Debian/Ubuntu: apt install python3-venv")
    stamp = VENV / f".installed{extras}"
    pyproject = ROOT / "pyproject.toml"
    if not stamp.exists() or stamp.stat().st_mtime < pyproject.stat().st_mtime:
        print("· Instalando dependencias …", flush=True)
        run(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f".{extras}")
        stamp.touch()
    run(str(PYTHON), "manage.py", "compile_translations", "--verbosity", "0")


def start(args: argparse.Namespace) -> None:
    ensure_venv()
    run(str(PYTHON), "manage.py", "migrate", "--noinput", "--verbosity", "0")
    run(str(PYTHON), "manage.py", "seed_demo", "--quiet-if-present")
    address = f"{args.host}:{args.port}"
    run(str(PYTHON), "manage.py", "demo_logins", "--url", f"http://{address}/")
    # The background worker (legal deadlines, housekeeping; docs/jobs.md) runs beside the server
    # and stops with it: Ctrl-C reaches both, and the worker is asked to stop when the server ends.
    worker = subprocess.Popen([str(PYTHON), "manage.py", "run_worker"], cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` of dev.py also stops both
    try:
        subprocess.run([str(PYTHON), "manage.py", "runserver", address, "--noreload"], cwd=ROOT)
    except KeyboardInterrupt:
        pass
    finally:
        if worker.poll() is None:
            worker.terminate()  # SIGTERM: the job in hand finishes first
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


def test(args: argparse.Namespace) -> None:
    ensure_venv("[test]")
    pytest_args = list(args.pytest_args)
    # One test process per CPU core (pytest-xdist), unless the caller chose (-n 0 runs in one).
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in pytest_args):
        pytest_args = ["-n", "auto", *pytest_args]
    os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", *pytest_args])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="instala y arranca la plataforma con datos de demostración")
    p_start.add_argument("--host", default="127.0.0.1")
    p_start.add_argument("--port", default="8000")
    p_start.set_defaults(func=start)
    p_test = sub.add_parser("test", help="instala las herramientas de prueba y corre todas las pruebas")
    p_test.set_defaults(func=test)
    # Everything after "test" that dev.py does not know goes to pytest (-k, -x, -p, paths...).
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"argumentos no reconocidos: {' '.join(extra)}")
    args.pytest_args = extra
    args.func(args)


if __name__ == "__main__":
    main()
