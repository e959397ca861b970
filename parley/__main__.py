"""The `parley` command: Django's manage.py, usable from any directory."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[:]
    # `parley demo --data-dir DIR` must take effect before the settings are read.
    for index, arg in enumerate(argv[2:], start=2):
        if argv[1] == "demo" and arg.startswith("--data-dir"):
            value = arg.partition("=")[2] or (argv[index + 1] if index + 1 < len(argv) else "")
            os.environ["PARLEY_DATA_DIR"] = value
    # `parley site add NAME` reads better than `parley site_add NAME`.
    if len(argv) > 1 and argv[1] == "site":
        if len(argv) == 2 or argv[2].startswith("-"):
            print("Usage: parley site add NAME --domain D [--origin URL]...")
            print("See `parley site add --help`.")
            sys.exit(0 if argv[2:3] in (["-h"], ["--help"]) else 2)
        argv[1:3] = [f"site_{argv[2]}"]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
