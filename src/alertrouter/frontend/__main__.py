"""``python -m alertrouter.frontend --link PATH --fd N``: a front, started by ``serve``."""

from __future__ import annotations

import argparse

from alertrouter.frontend.front import run_front


def main() -> int:
    """Parse the two arguments the owner passes and run the front."""
    parser = argparse.ArgumentParser(prog="alertrouter.frontend")
    parser.add_argument("--link", required=True, help="the owner's link socket")
    parser.add_argument("--fd", required=True, type=int, help="the inherited listening socket")
    args = parser.parse_args()
    return run_front(args.link, args.fd)


if __name__ == "__main__":
    raise SystemExit(main())
