"""python -m airgap build | engine | where"""

from __future__ import annotations

import argparse
import json
import sys

from . import config, engine
from .build import build
from .errors import AirgapError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airgap", description=__doc__)
    parser.add_argument(
        "command",
        choices=("build", "engine", "where"),
        help="build: everything (cached); engine: only make sure Docker runs; "
        "where: print the build's result file",
    )
    parser.add_argument(
        "--kubernetes",
        action="append",
        default=[],
        metavar="MINOR[,MINOR...]",
        help=f"build: the Kubernetes minors to build node images of, or 'all' (known: "
        f"{', '.join(config.known_minors())}; default {config.default_minor()}); minors built "
        "before stay listed in the result file",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "engine":
            print(engine.ensure_engine(config.cache_root() / "logs"))
        elif args.command == "where":
            print(config.manifest_path())
        else:
            print(json.dumps(build(requested_minors(args.kubernetes)), indent=2))
    except (AirgapError, config.UnknownMinor) as error:
        print(f"airgap: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "airgap: interrupted; finished steps stay cached, unfinished ones were removed",
            file=sys.stderr,
        )
        return 130
    return 0


def requested_minors(values: list[str]) -> list[str]:
    """--kubernetes 1.35 --kubernetes 1.36,1.37 or --kubernetes all, in that order, once each."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if "all" in names:
        return list(config.known_minors())
    return list(dict.fromkeys(config.check_minor(name) for name in names))


if __name__ == "__main__":
    sys.exit(main())
