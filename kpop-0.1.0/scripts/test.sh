#!/usr/bin/env bash
# scripts/test.sh - the README's test command: set up, build, run the whole suite.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/setup.sh"
cd "$top"
exec make check
