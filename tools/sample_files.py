"""Small, real files made from bytes (standard library only), byte for byte the same on every machine: the example
requests' files (``tools/file_examples.py``) and the tests' samples (``tests/file_samples.py``) are made here.

- ``pdf``: a one-page PDF 1.4 with lines of Helvetica text and a correct cross-reference table;
- ``docx``: a Word package (Office Open XML) with paragraphs; stored, not deflated, with fixed timestamps, so that the
  zip's bytes do not depend on the clock or the zlib build;
- ``png``: a black-and-white image (1 bit per pixel) of text drawn in a 5x7 bitmap font (upper case, digits, a few
  signs), its pixels in a zlib stream of stored blocks (the same bytes with any zlib), valid CRCs.

`file(1)` names each as its format; Amazon Bedrock reads them as documents and images (not verified live here).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

# --- PDF --------------------------------------------------------------------------------------------------------


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(
    lines: str | Sequence[str] = "Invoice 0042: total 1250.00 BRL", *, padding: int = 0, binary_marker: bool = True
) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` (Latin-1 text); ``padding`` bytes of a comment make it as large as needed.
    Without the customary binary-marker comment, a PDF like this one is valid UTF-8 text."""
    shown = [lines] if isinstance(lines, str) else list(lines)
    text = " ".join(f"({_pdf_text(line)}) Tj T*" for line in shown)
    content = f"BT /F1 11 Tf 14 TL 36 {40 + 14 * len(shown)} Td {text} ET".encode("latin-1")
    height = 80 + 14 * len(shown)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 %d] /Contents 4 0 R " % height
        + b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n" + (b"%\xe2\xe3\xcf\xd3\n" if binary_marker else b""))
    if padding:
        out += b"%" + b"x" * max(0, padding - 2) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --- Office Open XML ----------------------------------------------------------------------------------------------

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: no clock in the bytes
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="{target}"/></Relationships>'
)


def content_types(overrides: dict[str, str]) -> str:
    entries = "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + entries + "</Types>"
    )


def ooxml(parts: dict[str, str]) -> bytes:
    """A zip package of ``parts`` (name -> XML text), stored, with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), text)
    return buffer.getvalue()


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx(paragraphs: str | Sequence[str] = "Contract 7: the supplier delivers within 30 days.") -> bytes:
    """A Word document with ``paragraphs``."""
    shown = [paragraphs] if isinstance(paragraphs, str) else list(paragraphs)
    body = "".join(f"<w:p><w:r><w:t>{_xml_text(text)}</w:t></w:r></w:p>" for text in shown)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return ooxml(
        {
            "[Content_Types].xml": content_types({"word/document.xml": main}),
            "_rels/.rels": RELS.format(target="word/document.xml"),
            "word/document.xml": document,
        }
    )


# --- PNG ----------------------------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 5x7 bitmap font: each glyph is seven rows of five bits, the leftmost pixel the highest bit.
FONT: dict[str, tuple[int, ...]] = {
    " ": (0, 0, 0, 0, 0, 0, 0),
    "A": (14, 17, 17, 31, 17, 17, 17),
    "B": (30, 17, 17, 30, 17, 17, 30),
    "C": (14, 17, 16, 16, 16, 17, 14),
    "D": (30, 17, 17, 17, 17, 17, 30),
    "E": (31, 16, 16, 30, 16, 16, 31),
    "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15),
    "H": (17, 17, 17, 31, 17, 17, 17),
    "I": (14, 4, 4, 4, 4, 4, 14),
    "J": (7, 2, 2, 2, 2, 18, 12),
    "K": (17, 18, 20, 24, 20, 18, 17),
    "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17),
    "N": (17, 17, 25, 21, 19, 17, 17),
    "O": (14, 17, 17, 17, 17, 17, 14),
    "P": (30, 17, 17, 30, 16, 16, 16),
    "Q": (14, 17, 17, 17, 21, 18, 13),
    "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30),
    "T": (31, 4, 4, 4, 4, 4, 4),
    "U": (17, 17, 17, 17, 17, 17, 14),
    "V": (17, 17, 17, 17, 17, 10, 4),
    "W": (17, 17, 17, 21, 21, 21, 10),
    "X": (17, 17, 10, 4, 10, 17, 17),
    "Y": (17, 17, 10, 4, 4, 4, 4),
    "Z": (31, 1, 2, 4, 8, 16, 31),
    "0": (14, 17, 19, 21, 25, 17, 14),
    "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2),
    "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14),
    "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12),
    ".": (0, 0, 0, 0, 0, 12, 12),
    ",": (0, 0, 0, 0, 12, 4, 8),
    ":": (0, 12, 12, 0, 12, 12, 0),
    "-": (0, 0, 0, 31, 0, 0, 0),
    "/": (1, 1, 2, 4, 8, 16, 16),
    "$": (4, 15, 20, 14, 5, 30, 4),
    "#": (10, 10, 31, 10, 31, 10, 10),
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def stored_zlib(data: bytes) -> bytes:
    """A zlib stream of ``data`` in stored (uncompressed) deflate blocks: the same bytes whatever zlib is installed."""
    out = bytearray(b"\x78\x01")
    blocks = [data[start : start + 65535] for start in range(0, len(data), 65535)] or [b""]
    for index, block in enumerate(blocks):
        final = index == len(blocks) - 1
        out += bytes([1 if final else 0]) + struct.pack("<HH", len(block), len(block) ^ 0xFFFF) + block
    return bytes(out + struct.pack(">I", zlib.adler32(data)))


def png(lines: str | Sequence[str] = "", *, scale: int = 3, margin: int = 2) -> bytes:
    """A 1-bit grayscale PNG of ``lines`` in black on white (5x7 glyphs, each pixel ``scale`` pixels wide); no text:
    a 1x1 opaque red RGB PNG."""
    shown = [lines] if isinstance(lines, str) else list(lines)
    if not any(shown):
        return _png(1, 1, b"\x00\xff\x00\x00", color_type=2, depth=8)
    unknown = sorted({char for line in shown for char in line.upper()} - set(FONT))
    if unknown:
        raise ValueError(f"the font has no glyph for {unknown}")
    cell_w, cell_h = 6 * scale, 9 * scale  # a glyph and its spacing
    width = max(len(line) for line in shown) * cell_w + 2 * margin * scale
    height = len(shown) * cell_h + 2 * margin * scale
    ink = [[False] * width for _ in range(height)]
    for row, line in enumerate(shown):
        for column, char in enumerate(line.upper()):
            for y, bits in enumerate(FONT[char]):
                for x in range(5):
                    if bits & (16 >> x):
                        top, left = (
                            margin * scale + row * cell_h + y * scale,
                            margin * scale + column * cell_w + x * scale,
                        )
                        for dy in range(scale):
                            ink[top + dy][left : left + scale] = [True] * scale
    rows = []
    for line in ink:  # 1 bit a pixel, the leftmost the highest; 1 is white
        bits = [0 if dark else 1 for dark in line] + [1] * (-width % 8)
        rows.append(b"\x00" + bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)))
    return _png(width, height, b"".join(rows), color_type=0, depth=1)


def _png(width: int, height: int, raw: bytes, *, color_type: int, depth: int) -> bytes:
    """A PNG of filtered scanlines ``raw`` (each row's filter byte 0, then its pixels)."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)  # deflate, no filter, no interlace
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stored_zlib(raw)) + _chunk(b"IEND", b"")
