"""Render the app's SVG icon to the Windows .ico and macOS .icns the spec uses (run before PyInstaller).

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_platform_icons.py

writes packaging/windows/cryptobots-desktop.ico (256 px) and packaging/macos/cryptobots-desktop.icns (1024 px)
with Qt's own image writers (the qico and qicns plugins shipped with PySide6). Used by
.github/workflows/packages.yml; not run on Linux, where the .deb installs the SVG and PNGs instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "resources" / "icons" / "cryptobots.svg"


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    return image


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    status = 0
    for target, fmt, size in (
        (HERE / "windows" / "cryptobots-desktop.ico", b"ico", 256),
        (HERE / "macos" / "cryptobots-desktop.icns", b"icns", 1024),
    ):
        if fmt.decode() not in [bytes(f.data()).decode() for f in QImageWriter.supportedImageFormats()]:
            print(f"make_platform_icons: Qt cannot write .{fmt.decode()} here; skipped {target.name}")
            continue
        writer = QImageWriter(str(target), fmt)
        if not writer.write(render(size)):
            print(f"make_platform_icons: {target}: {writer.errorString()}", file=sys.stderr)
            status = 1
        else:
            print(f"make_platform_icons: wrote {target}")
    return status


if __name__ == "__main__":
    sys.exit(main())
