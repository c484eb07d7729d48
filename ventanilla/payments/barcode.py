"""Code 128 (ISO/IEC 15417) barcodes drawn as inline SVG on the server: no script, no image
request, no inline style (only SVG presentation attributes), so it passes the strict CSP and
prints sharply.

A string of an even number of digits (every línea de captura: 20 digits) is encoded in code set
C, two digits per symbol, which gives the shortest barcode; anything else printable ASCII uses
code set B. Symbol = 6 elements (bar, space, ...) of 1-4 modules, 11 modules in all; the stop
symbol has 7 elements (13 modules). The check symbol is (start + sum(i * value_i)) mod 103.
"""

from __future__ import annotations

from django.utils.html import escape

# Element widths of symbols 0..106 (bar, space, bar, space, bar, space[, bar]).
PATTERNS = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)
START_B = 104
START_C = 105
STOP = 106
QUIET_MODULES = 10


def symbols(text: str) -> list[int]:
    """The symbol values of `text`, with start and check symbols (stop not included)."""
    if not text:
        raise ValueError("nothing to encode")
    if text.isascii() and text.isdigit() and len(text) % 2 == 0:
        values = [START_C] + [int(text[i:i + 2]) for i in range(0, len(text), 2)]
    else:
        if not all(32 <= ord(ch) <= 126 for ch in text):
            raise ValueError("Code 128 B encodes printable ASCII only")
        values = [START_B] + [ord(ch) - 32 for ch in text]
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return values + [check]


def modules(text: str) -> str:
    """The barcode as a string of '1' (bar) and '0' (space) modules, quiet zones excluded."""
    out = []
    for value in [*symbols(text), STOP]:
        for i, width in enumerate(PATTERNS[value]):
            out.append(("1" if i % 2 == 0 else "0") * int(width))
    return "".join(out)


def svg(text: str, *, module_width: int = 2, height: int = 60, label: str = "") -> str:
    """An accessible inline SVG of the barcode (role="img" with the text as its name)."""
    bars = modules(text)
    total = (len(bars) + 2 * QUIET_MODULES) * module_width
    rects = []
    x = QUIET_MODULES
    i = 0
    while i < len(bars):
        if bars[i] == "1":
            j = i
            while j < len(bars) and bars[j] == "1":
                j += 1
            rects.append(f'<rect x="{(x + i) * module_width}" y="0" width="{(j - i) * module_width}" height="{height}"/>')
            i = j
        else:
            i += 1
    name = escape(label or text)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" aria-label="{name}" '
        f'viewBox="0 0 {total} {height}" width="{total}" height="{height}" preserveAspectRatio="none">'
        f'<rect x="0" y="0" width="{total}" height="{height}" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g></svg>'
    )
