#!/usr/bin/env bash
# Build the one-folder Micboard Desktop app into dist/ (Linux and macOS; the CI workflow
# runs the same PyInstaller command on Windows).
#
#   bash packaging/build.sh            # set up, build
#   bash packaging/build.sh --smoke    # set up, build, then run packaging/smoke.py on it
#
# Output: dist/Micboard Desktop/ (Linux) or dist/Micboard Desktop.app (macOS); PyInstaller's
# work files go to build/pyinstaller/. Both dist/ and build/ are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'build: %s\n' "$*" >&2; }

smoke=0
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) say "unknown option: $arg"; exit 2 ;;
  esac
done

# System libraries (Debian/Ubuntu) and .venv with the app and its test tools.
bash scripts/setup
# PyInstaller (the "packaging" extra); quick when already installed.
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[packaging]' 2>&1 \
  | grep -v "is ignored" || true

name="Micboard Desktop"
rm -rf "dist/$name" "dist/$name.app"
say "running PyInstaller (about half a minute)"
start=$(date +%s)
.venv/bin/pyinstaller packaging/micboard_desktop.spec \
  --distpath dist --workpath build/pyinstaller --noconfirm --clean --log-level WARN
say "built in $(( $(date +%s) - start )) s"

if [ "$(uname -s)" = Darwin ]; then target="dist/$name.app"; else target="dist/$name"; fi
say "$target ($(du -sh "$target" | cut -f1))"

if [ "$smoke" -eq 1 ]; then
  QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" .venv/bin/python packaging/smoke.py "$target"
fi
