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
    args = parser.parse_args(argv)
    try:
        if args.command == "engine":
            print(engine.ensure_engine(config.cache_root() / "logs"))
        elif args.command == "where":
            print(config.manifest_path())
        else:
            print(json.dumps(build(), indent=2))
    except AirgapError as error:
        print(f"airgap: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "airgap: interrupted; finished steps stay cached, unfinished ones were removed",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
