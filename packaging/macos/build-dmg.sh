#!/usr/bin/env bash
# macOS recipe: the same PyInstaller spec builds "Cryptobots Desktop.app" (its BUNDLE step runs on macOS
# only), then hdiutil packs it into a .dmg with an Applications link.
# NOT RUN HERE (this project is built and tested on Debian); .github/workflows/packages.yml runs it on
# macos-latest. The .app is not signed or notarised: Gatekeeper refuses it on first open until the person
# chooses Open from its context menu (or `xattr -dr com.apple.quarantine "/Applications/Cryptobots Desktop.app"`).
#   usage (from the repository root, in a venv with `pip install -c constraints.txt -e '.[packaging]'`):
#     bash packaging/macos/build-dmg.sh
# -> dist/Cryptobots Desktop.app and dist/cryptobots-desktop-<version>-macos-<arch>.dmg
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
py=${PYTHON:-python}

"$py" packaging/make_platform_icons.py                 # packaging/macos/cryptobots-desktop.icns
"$py" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/cryptobots-desktop.spec
app="dist/Cryptobots Desktop.app"
[ -d "$app" ] || { echo "build-dmg: $app was not built" >&2; exit 1; }
version=$("$py" -c 'from cryptobots_desktop import __version__; print(__version__)')
"$app/Contents/MacOS/cryptobots-desktop" --version     # the bundle's own metadata: must print the same
"$app/Contents/MacOS/cryptobots-desktop" --self-check ccxt

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg="dist/cryptobots-desktop-${version}-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -volname "Cryptobots Desktop" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
ls -l "$dmg"
