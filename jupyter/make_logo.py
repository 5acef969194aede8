"""Draws the svfap kernel's logos (jupyter/logo-svg.svg, logo-32x32.png, logo-64x64.png): a face
whose tubes are partly masked, as SVFAP's masked autoencoder sees it. Standard library only:
python3 jupyter/make_logo.py"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BACKGROUND, FACE, FEATURE, MASK, GRID = (31, 41, 55), (242, 201, 160), (60, 40, 30), (156, 163, 175), (31, 41, 55)
MASKED = {(0, 1), (0, 3), (1, 0), (1, 2), (2, 1), (2, 3), (3, 0), (3, 2), (3, 3), (0, 0)}  # (row, col) of a 4x4 grid


def colour(x, y):
    """The colour at (x, y) in the unit square."""
    if abs(x - 0.5) > 0.46 or abs(y - 0.5) > 0.46:  # rounded corners
        cx, cy = min(max(x, 0.14), 0.86), min(max(y, 0.14), 0.86)
        if math.hypot(x - cx, y - cy) > 0.1:
            return None
    face = ((x - 0.5) / 0.34) ** 2 + ((y - 0.52) / 0.4) ** 2 <= 1
    if not face:
        return BACKGROUND
    gx, gy = (x - 0.16) / 0.68, (y - 0.12) / 0.8
    if 0 <= gx < 1 and 0 <= gy < 1:
        col, row = int(gx * 4), int(gy * 4)
        if (row, col) in MASKED:
            return MASK
        if min(gx * 4 % 1, gy * 4 % 1) < 0.04:
            return GRID
    eye = any(math.hypot(x - ex, y - 0.44) < 0.045 for ex in (0.38, 0.62))
    mouth = abs(math.hypot(x - 0.5, y - 0.52) - 0.2) < 0.025 and y > 0.6
    return FEATURE if eye or mouth else FACE


def png(size):
    rows = []
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            acc, n = [0, 0, 0, 0], 4  # 2x2 supersampling
            for dy in (0.25, 0.75):
                for dx in (0.25, 0.75):
                    c = colour((i + dx) / size, (j + dy) / size)
                    if c is not None:
                        acc = [acc[0] + c[0], acc[1] + c[1], acc[2] + c[2], acc[3] + 255]
            alpha = acc[3] // n
            row += bytes([a // max(1, acc[3] // 255) if acc[3] else 0 for a in acc[:3]] + [alpha])
        rows.append(bytes(row))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def svg():
    hexc = lambda c: "#%02x%02x%02x" % c
    cells = []
    for r in range(4):
        for c in range(4):
            x, y, w, h = 16 + c * 17, 12 + r * 20, 17, 20
            fill = hexc(MASK) if (r, c) in MASKED else "none"
            cells.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="{hexc(GRID)}" stroke-width="1"/>')
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="100" height="100">
  <title>svfap: a face, its tubes partly masked</title>
  <rect x="4" y="4" width="92" height="92" rx="10" fill="{hexc(BACKGROUND)}"/>
  <clipPath id="face"><ellipse cx="50" cy="52" rx="34" ry="40"/></clipPath>
  <ellipse cx="50" cy="52" rx="34" ry="40" fill="{hexc(FACE)}"/>
  <circle cx="38" cy="44" r="4.5" fill="{hexc(FEATURE)}"/><circle cx="62" cy="44" r="4.5" fill="{hexc(FEATURE)}"/>
  <path d="M 34 64 A 20 20 0 0 0 66 64" fill="none" stroke="{hexc(FEATURE)}" stroke-width="5"/>
  <g clip-path="url(#face)">{"".join(cells)}</g>
</svg>
"""


if __name__ == "__main__":
    for size in (32, 64):
        with open(os.path.join(HERE, f"logo-{size}x{size}.png"), "wb") as f:
            f.write(png(size))
    with open(os.path.join(HERE, "logo-svg.svg"), "w") as f:
        f.write(svg())
