#!/usr/bin/env bash
# Builds cryptobots-desktop_<version>_<arch>.deb from a PyInstaller bundle with Debian's own tools
# (dpkg-shlibdeps for the dependencies, dpkg-deb --root-owner-group for the package). Run by scripts/package.sh.
#   usage: [DEB_COMPRESSION=xz|zstd] bash packaging/linux/build-deb.sh BUNDLE_DIR OUT_DIR
# The version is the bundle's own (`BUNDLE_DIR/cryptobots-desktop --version`, i.e. the package metadata that
# pyproject.toml sets), so the .deb, --version and the About dialog cannot disagree.
#
# Layout:  /opt/cryptobots-desktop/            the bundle (no Python needed)
#          /usr/bin/cryptobots-desktop         symlink to the bundle's executable
#          /usr/share/applications/cryptobots-desktop.desktop
#          /usr/share/icons/hicolor/{scalable,NxN}/apps/cryptobots-desktop.{svg,png}
#          /usr/share/cryptobots-desktop/autostart/cryptobots-desktop.desktop   (opt-in: copy it to
#                                              ~/.config/autostart to start minimised in the tray at login)
#          /usr/share/doc/cryptobots-desktop/copyright
# Icon caches and the menu database are refreshed by the triggers of hicolor-icon-theme/desktop-file-utils.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(cd "$here/../.." && pwd)"
bundle="$(cd "$1" && pwd)"
out="$(mkdir -p "$2" && cd "$2" && pwd)"
name=cryptobots-desktop

say() { printf 'build-deb: %s\n' "$*"; }

[ -x "$bundle/$name" ] || { say "no executable $bundle/$name (build the bundle first)" >&2; exit 1; }
py_version=$("$bundle/$name" --version | awk '{print $2}')
case "$py_version" in
  ''|0.0.0+source) say "the bundle has no version metadata (got '$py_version')" >&2; exit 1 ;;
esac
# PEP 440 -> Debian: pre-releases sort before the release with "~" (1.0rc1 -> 1.0~rc1, 1.0.dev2 -> 1.0~dev2)
deb_version=$(printf '%s' "$py_version" | sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/g')
arch=$(dpkg --print-architecture)

work=$(mktemp -d "${TMPDIR:-/tmp}/cryptobots-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg="$work/root"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/icons/hicolor" "$pkg/usr/share/$name/autostart" "$pkg/usr/share/doc/$name"

cp -a "$bundle" "$pkg/opt/$name"
ln -s "/opt/$name/$name" "$pkg/usr/bin/$name"
install -m 644 "$here/$name.desktop" "$pkg/usr/share/applications/$name.desktop"
install -m 644 "$here/$name-autostart.desktop" "$pkg/usr/share/$name/autostart/$name.desktop"
QT_QPA_PLATFORM=offscreen "$root_dir/.venv/bin/python" "$here/render_icons.py" \
  "$root_dir/resources/icons/cryptobots.svg" "$pkg/usr/share/icons/hicolor"
cat > "$pkg/usr/share/doc/$name/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Cryptobots Desktop
Comment: A PyInstaller bundle: /opt/$name/_internal holds CPython, Qt (PySide6, LGPL-3.0), ccxt (MIT),
 numpy, pyqtgraph, keyring, pydantic and their dependencies under their own licences; each Python
 package's licence is in its *.dist-info folder there where it ships one.

Files: *
License: GPL-3.0-or-later
 On Debian systems, the full text is in /usr/share/common-licenses/GPL-3.
EOF
install -m 755 "$here/postrm" "$pkg/DEBIAN/postrm"
find "$pkg" -type d -exec chmod 755 {} +

# Dependencies: the Debian packages providing every shared library the bundle's ELF files need that the
# bundle does not carry (the Qt xcb runtime, fontconfig, D-Bus, GL/EGL, libc...), with the minimal
# versions from Debian's symbols files.
say "dpkg-shlibdeps over the bundle's ELF files"
mkdir -p "$work/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" > "$work/src/debian/control"
mapfile -t elfs < <(find "$pkg/opt/$name" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) \
  -exec sh -c 'head -c 4 "$1" | grep -q "ELF" && printf "%s\n" "$1"' _ {} \;)
internal="$pkg/opt/$name/_internal"
depends=$(cd "$work/src" && dpkg-shlibdeps -O --ignore-missing-info -e"$pkg/opt/$name/$name" \
  -l"$internal" -l"$internal/PySide6/Qt/lib" -l"$internal/numpy.libs" "${elfs[@]}" 2>"$work/shlibdeps.log" |
  sed -n 's/^shlibs:Depends=//p') || { cat "$work/shlibdeps.log" >&2; exit 1; }
[ -n "$depends" ] || { cat "$work/shlibdeps.log" >&2; say "dpkg-shlibdeps found no dependencies" >&2; exit 1; }
grep -i 'error' "$work/shlibdeps.log" >&2 || true

installed_kb=$(du -sk --exclude=DEBIAN "$pkg" | awk '{print $1}')
cat > "$pkg/DEBIAN/control" <<EOF
Package: $name
Version: $deb_version
Architecture: $arch
Maintainer: Cryptobots Desktop maintainers <maintainers@cryptobots.invalid>
Installed-Size: $installed_kb
Depends: $depends
Recommends: gnome-keyring
Section: misc
Priority: optional
Description: desktop app for automated crypto trading (DCA and grid bots)
 Cryptobots Desktop runs DCA and grid trading bots on your desktop. Paper
 trading on real recorded Binance market data is the default: no exchange key
 and no network needed. API keys of a real exchange account are kept only in
 the desktop's keyring (Secret Service, e.g. GNOME Keyring), never in a file.
 .
 To start it minimised in the system tray at login, copy
 /usr/share/$name/autostart/$name.desktop to ~/.config/autostart/.
EOF
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  > "$pkg/DEBIAN/md5sums"

deb="$out/${name}_${deb_version}_${arch}.deb"
say "dpkg-deb --build --root-owner-group -> $deb"
dpkg-deb --build --root-owner-group -Z"${DEB_COMPRESSION:-xz}" "$pkg" "$deb" >/dev/null
printf '%s\n' "$deb"
