#!/bin/sh
# A virtualenv that the Makefile can trust, checked on every make run (it is quick when nothing is to do):
#
#   tools/venv.sh PYTHON EXPLICIT DIR REQUIREMENTS [FILE...]
#
# - DIR is rebuilt when its interpreter no longer runs (the Python that made it was removed or moved), is older than
#   3.11, or, when EXPLICIT is "yes" (PYTHON was given on make's command line or in the environment), is another
#   version than PYTHON's;
# - a new DIR is made by PYTHON, after checking that PYTHON is 3.11 or newer (before pip ever runs);
# - `pip install -r REQUIREMENTS` runs when DIR is new, or REQUIREMENTS or a FILE (what REQUIREMENTS includes) is
#   newer than DIR/.installed.
set -eu
python=$1 explicit=$2 dir=$3 requirements=$4
shift 4
stamp=$dir/.installed

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }
new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
describe() {  # "Python 3.10.12", or "not found"
    if command -v "$1" >/dev/null 2>&1; then "$1" --version 2>&1 || true; else echo "not found"; fi
}

if [ -e "$dir" ] || [ -L "$dir" ]; then
    found=$(version_of "$dir/bin/python")
    reason=
    if [ -z "$found" ]; then
        reason="it has no Python that runs: the one that made it may be gone"
    elif ! new_enough "$dir/bin/python"; then
        reason="it was made by Python $found; 3.11 or newer is needed"
    elif [ "$explicit" = yes ] && [ "$found" != "$(version_of "$python")" ]; then
        reason="it was made by Python $found, and PYTHON=$python is $(describe "$python")"
    fi
    if [ -n "$reason" ]; then
        echo "make: $dir is stale ($reason): rebuilding it" >&2
        rm -rf "$dir"  # a symlink is removed, not what it points to
    fi
fi

if [ ! -x "$dir/bin/python" ]; then
    if ! new_enough "$python"; then
        echo "make: Python 3.11 or newer is needed to create $dir; PYTHON=$python is $(describe "$python")." >&2
        echo "make: install Python 3.11+ and run make again with it, e.g. make PYTHON=python3.12 ..." >&2
        exit 1
    fi
    "$python" -m venv "$dir"
fi

for file in "$requirements" "$@"; do
    if [ ! -f "$stamp" ] || [ "$file" -nt "$stamp" ]; then
        "$dir/bin/python" -m pip install --quiet -r "$requirements"
        touch "$stamp"
        break
    fi
done
