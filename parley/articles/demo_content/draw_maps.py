"""Draws the demo's schematic maps; run once, outputs are committed.

Usage:  python draw_maps.py        (needs Pillow; writes the PNGs next to this file)

Every place name is fictional. The maps are deliberately schematic: flat land and
water colours, one river, a few towns, arrows, a legend box and a title. Output is
deterministic (no randomness) and palette-quantized to stay well under 120 KB.
"""

import itertools
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

W, H = 1600, 1000
OUT = Path(__file__).resolve().parent

LAND, WATER, RIVER = (232, 226, 206), (164, 198, 222), (92, 146, 196)
INK, GRID, FRONT = (40, 40, 40), (214, 206, 184), (190, 40, 40)
BLUE, GREEN, GREY = (40, 80, 170), (50, 130, 70), (120, 120, 120)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def font(size, bold=False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:  # fall back to Pillow's bundled font
        return ImageFont.load_default(size)


def arrow(d, pts, colour, width=9):
    """Polyline with a triangular head at the last point."""
    d.line(pts, fill=colour, width=width, joint="curve")
    (x0, y0), (x1, y1) = pts[-2], pts[-1]
    dx, dy = x1 - x0, y1 - y0
    n = max((dx * dx + dy * dy) ** 0.5, 1)
    ux, uy = dx / n, dy / n
    L, S = 34, 18
    d.polygon(
        [
            (x1 + ux * 8, y1 + uy * 8),
            (x1 - ux * L - uy * S, y1 - uy * L + ux * S),
            (x1 - ux * L + uy * S, y1 - uy * L - ux * S),
        ],
        fill=colour,
    )


def dashed(d, pts, colour, width=6, dash=22, gap=14):
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        n = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1)
        t = 0.0
        while t < n:
            t2 = min(t + dash, n)
            d.line(
                [
                    (x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n),
                    (x0 + (x1 - x0) * t2 / n, y0 + (y1 - y0) * t2 / n),
                ],
                fill=colour,
                width=width,
            )
            t += dash + gap


def draw(spec: dict[str, Any]) -> None:
    img = Image.new("RGB", (W, H), LAND)
    d = ImageDraw.Draw(img)
    for x in range(0, W, 100):  # faint grid
        d.line([(x, 0), (x, H)], fill=GRID, width=1)
    for y in range(0, H, 100):
        d.line([(0, y), (W, y)], fill=GRID, width=1)
    for poly in spec.get("water", []):  # sea / lakes
        d.polygon(poly, fill=WATER)
    for name, pts, (lx, ly) in spec.get("rivers", []):  # rivers, label position
        d.line(pts, fill=RIVER, width=16, joint="curve")
        d.text((lx, ly), name, font=font(26, True), fill=RIVER)
    for pts, colour in spec.get("roads", []):  # roads / rail
        dashed(d, pts, colour)
    for pts in spec.get("fronts", []):  # contact lines
        d.line(pts, fill=FRONT, width=7, joint="curve")
    for pts, colour in spec.get("borders", []):
        dashed(d, pts, colour, width=4, dash=10, gap=10)
    for pts, colour in spec.get("arrows", []):
        arrow(d, pts, colour)
    for x, y, name, big in spec.get("towns", []):  # towns
        r = 13 if big else 9
        d.ellipse([x - r, y - r, x + r, y + r], fill="white", outline=INK, width=4)
        d.text((x + r + 8, y - 16), name, font=font(30 if big else 24, big), fill=INK)
    for x, y, label in spec.get("labels", []):  # area labels
        d.text((x, y), label, font=font(28), fill=GREY)

    # title bar
    d.rectangle([0, 0, W, 84], fill=(250, 248, 240))
    d.line([(0, 84), (W, 84)], fill=INK, width=3)
    d.text((36, 20), spec["title"], font=font(40, True), fill=INK)

    # legend box, bottom left
    items = spec["legend"]
    bx, by, bw = 40, H - 60 - 48 * len(items), 460
    d.rectangle([bx, by - 56, bx + bw, H - 40], fill="white", outline=INK, width=3)
    d.text((bx + 20, by - 46), "Legend", font=font(26, True), fill=INK)
    for i, (kind, colour, text) in enumerate(items):
        y = by + i * 48 + 10
        if kind == "line":
            d.line([(bx + 20, y + 14), (bx + 90, y + 14)], fill=colour, width=8)
        elif kind == "dash":
            dashed(d, [(bx + 20, y + 14), (bx + 90, y + 14)], colour, dash=14, gap=8)
        elif kind == "arrow":
            arrow(d, [(bx + 20, y + 14), (bx + 80, y + 14)], colour, width=7)
        elif kind == "box":
            d.rectangle([bx + 20, y, bx + 90, y + 28], fill=colour, outline=INK)
        else:  # town
            d.ellipse([bx + 45, y + 4, bx + 65, y + 24], fill="white", outline=INK, width=3)
        d.text((bx + 110, y), text, font=font(24), fill=INK)

    # scale bar and north arrow, bottom right
    d.line([(W - 330, H - 60), (W - 130, H - 60)], fill=INK, width=6)
    d.text((W - 300, H - 100), "0        20 km", font=font(24), fill=INK)
    d.polygon([(W - 70, H - 180), (W - 92, H - 120), (W - 48, H - 120)], fill=INK)
    d.text((W - 80, H - 110), "N", font=font(28, True), fill=INK)

    d.text((W - 470, 100), "Schematic, not to scale. Fictional places.", font=font(20), fill=GREY)
    out = img.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out.save(OUT / spec["file"], optimize=True)


TEYRA = [(760, 84), (800, 220), (740, 360), (820, 500), (780, 640), (860, 800), (830, 1000)]

MAPS: list[dict[str, Any]] = [
    {  # article 1, figure 1
        "file": "map-teyra-crossing.png",
        "title": "The Teyra crossing: sites attempted, October-November",
        "water": [
            [
                (1300, 84),
                (1600, 84),
                (1600, 1000),
                (1420, 1000),
                (1380, 760),
                (1450, 560),
                (1340, 360),
                (1380, 200),
            ]
        ],
        "rivers": [("River Teyra", TEYRA, (850, 720))],
        "fronts": [
            [(720, 84), (760, 220), (700, 360), (780, 500), (740, 640), (820, 800), (790, 1000)]
        ],
        "arrows": [
            ([(420, 300), (600, 330), (760, 360)], BLUE),
            ([(460, 560), (640, 560), (790, 590)], BLUE),
            ([(1120, 470), (980, 470), (880, 500)], FRONT),
        ],
        "towns": [
            (330, 260, "Brezna", True),
            (360, 560, "Kolvat", False),
            (1050, 300, "Mirensk", True),
            (1060, 640, "Dalvo", False),
            (560, 800, "Ostrin", False),
        ],
        "labels": [(880, 380, "Site B"), (880, 600, "Site C"), (840, 160, "Site A (dam)")],
        "legend": [
            ("line", FRONT, "Approximate contact line"),
            ("arrow", BLUE, "Crossing attempts"),
            ("arrow", FRONT, "Counter-attack"),
            ("town", None, "Town"),
        ],
    },
    {  # article 1, figure 2
        "file": "map-teyra-logistics.png",
        "title": "Supply routes to the Teyra bridgeheads",
        "water": [
            [
                (1300, 84),
                (1600, 84),
                (1600, 1000),
                (1420, 1000),
                (1380, 760),
                (1450, 560),
                (1340, 360),
                (1380, 200),
            ]
        ],
        "rivers": [("River Teyra", TEYRA, (870, 900))],
        "roads": [
            ([(80, 240), (330, 260), (760, 360)], INK),
            ([(80, 700), (360, 560), (620, 480), (790, 500)], GREEN),
            ([(330, 260), (360, 560), (560, 800)], INK),
        ],
        "arrows": [
            ([(1000, 180), (880, 300), (800, 370)], FRONT),
            ([(1010, 760), (900, 640), (820, 560)], FRONT),
        ],
        "towns": [
            (330, 260, "Brezna (railhead)", True),
            (360, 560, "Kolvat", False),
            (560, 800, "Ostrin", False),
            (1050, 300, "Mirensk", True),
        ],
        "labels": [(60, 110, "Mud season: tracks impassable"), (1000, 420, "Drone coverage zone")],
        "legend": [
            ("dash", INK, "Paved road"),
            ("dash", GREEN, "Rail spur"),
            ("arrow", FRONT, "Drone / artillery reach"),
            ("town", None, "Town"),
        ],
    },
    {  # article 2
        "file": "map-halvik-corridor.png",
        "title": "The Halvik corridor: goods rerouted around sanctions",
        "water": [
            [(0, 84), (520, 84), (440, 260), (300, 330), (0, 360)],
            [(980, 620), (1120, 580), (1220, 660), (1150, 780), (1000, 760)],
        ],
        "rivers": [
            ("River Sel", [(1600, 300), (1300, 360), (1100, 460), (1060, 600)], (1140, 330))
        ],
        "borders": [([(700, 84), (740, 400), (680, 700), (720, 1000)], INK)],
        "arrows": [
            ([(280, 470), (520, 520), (900, 520), (1250, 480)], GREEN),
            ([(300, 370), (600, 300), (1000, 240), (1350, 220)], BLUE),
        ],
        "towns": [
            (230, 420, "Port Halvik", True),
            (880, 540, "Tesmar", False),
            (1300, 480, "Gorod-Vel", True),
            (1380, 210, "Ansk", False),
        ],
        "labels": [(560, 880, "Customs border"), (1010, 690, "Lake Mira")],
        "legend": [
            ("dash", INK, "National border"),
            ("arrow", GREEN, "Rail freight (new)"),
            ("arrow", BLUE, "Truck route"),
            ("box", WATER, "Sea / lake"),
        ],
    },
    {  # article 3
        "file": "map-sorran-provinces.png",
        "title": "Sorran provinces: where polling stations will open",
        "water": [[(1250, 84), (1600, 84), (1600, 700), (1400, 620), (1300, 400)]],
        "rivers": [
            (
                "River Aul",
                [(200, 1000), (420, 780), (700, 640), (1000, 560), (1300, 420)],
                (700, 560),
            )
        ],
        "borders": [
            ([(500, 84), (560, 420), (460, 1000)], INK),
            ([(560, 420), (1100, 460), (1280, 1000)], INK),
        ],
        "fronts": [[(1000, 1000), (1120, 820), (1300, 760), (1600, 780)]],
        "towns": [
            (280, 260, "Sorran", True),
            (820, 260, "Velk", False),
            (760, 700, "Istra", True),
            (1180, 680, "Pelin", False),
            (250, 720, "Dorov", False),
        ],
        "labels": [
            (120, 160, "North province"),
            (760, 140, "East province"),
            (620, 900, "South province"),
            (1330, 830, "No polling"),
        ],
        "legend": [
            ("dash", INK, "Provincial boundary"),
            ("line", FRONT, "Contact line"),
            ("town", None, "Town with polling centre"),
        ],
    },
]

if __name__ == "__main__":
    for spec in MAPS:
        draw(spec)
        print(spec["file"], (OUT / spec["file"]).stat().st_size, "bytes")
