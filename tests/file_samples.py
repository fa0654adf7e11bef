"""Small, real files of every format the API takes, generated from bytes (standard library only), for the tests and
the benchmark. No fixtures here.

Each generator writes the format's actual structure, not only its magic number: a PDF with a correct cross-reference
table, a 1x1 PNG with valid CRCs and zlib data, a 1x1 GIF and a lossless 1x1 WebP, a JFIF header, Office Open XML
packages with their content types and relationships, and a compound file (doc, xls) with a FAT, a directory and its
application's stream. The PDF, PNG and Office packages come from ``tools/sample_files.py``, which makes the example
requests' files too. `file(1)` (libmagic 5.44) names each one as its format (checked when this was written).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from genai_core import files
from tools import sample_files


def pdf(text: str = "Invoice 0042: total 1250.00 BRL", *, padding: int = 0, binary_marker: bool = True) -> bytes:
    """A one-page PDF 1.4 showing ``text`` (``tools.sample_files.pdf``, which the examples use too)."""
    return sample_files.pdf(text, padding=padding, binary_marker=binary_marker)


def png() -> bytes:
    """A 1x1 opaque red PNG."""
    return sample_files.png()


def jpeg() -> bytes:
    """A JFIF header (start of image, APP0 JFIF 1.01, end of image): what a sniffer reads of a JPEG."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def gif() -> bytes:
    """A 1x1 GIF89a (the classic transparent pixel)."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp() -> bytes:
    """A lossless (VP8L) 1x1 WebP in its RIFF container."""
    vp8l = bytes.fromhex("2f000000100710111188 88fe07".replace(" ", ""))
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00" * (len(vp8l) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def docx(text: str = "Contract 7: the supplier delivers within 30 days.") -> bytes:
    return sample_files.docx(text)


def xlsx() -> bytes:
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    workbook = f'<workbook {ns} {rel_ns}><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    sheet = f'<worksheet {ns}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>42</t></is></c></row></sheetData></worksheet>'
    sheet_rels = sample_files.RELS.format(target="worksheets/sheet1.xml").replace(
        "relationships/officeDocument", "relationships/worksheet"
    )
    return sample_files.ooxml(
        {
            "[Content_Types].xml": sample_files.content_types(
                {
                    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    "xl/worksheets/sheet1.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
                }
            ),
            "_rels/.rels": sample_files.RELS.format(target="xl/workbook.xml"),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": sheet_rels,
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


def pptx() -> bytes:
    """A PowerPoint package (a format the API does not take): the same zip shape, with ``ppt/`` parts."""
    return sample_files.ooxml(
        {
            "[Content_Types].xml": sample_files.content_types({"ppt/presentation.xml": "application/xml"}),
            "_rels/.rels": sample_files.RELS.format(target="ppt/presentation.xml"),
            "ppt/presentation.xml": "<p:presentation/>",
        }
    )


ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _directory_entry(name: str, kind: int, *, child: int = NOSTREAM, start: int = ENDOFCHAIN, size: int = 0) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00" if name else b""
    entry = encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
    entry += struct.pack("<III", NOSTREAM, NOSTREAM, child) + b"\x00" * 36
    return entry + struct.pack("<IQ", start, size)


def compound_file(stream: str) -> bytes:
    """A version 3 compound file (512-byte sectors): the header, one FAT sector, one directory sector (the root and
    ``stream``), and the stream's 4096 bytes in regular sectors. ``WordDocument`` makes a doc, ``Workbook`` an xls."""
    stream_sectors = 8
    fat = [FATSECT, ENDOFCHAIN, *range(3, 2 + stream_sectors), ENDOFCHAIN]
    fat += [FREESECT] * (128 - len(fat))
    header = files.OLE2 + b"\x00" * 16  # signature, CLSID
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6  # versions, byte order, sector shifts
    # directory sectors, FAT sectors, first directory sector, transaction, mini cutoff, mini FAT, DIFAT
    header += struct.pack("<9I", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108  # the FAT is sector 0
    directory = _directory_entry("Root Entry", 5, child=1) + _directory_entry(stream, 2, start=2, size=4096)
    directory += _directory_entry("", 0) * 2
    body = b"".join(struct.pack("<I", entry) for entry in fat) + directory + bytes(range(256)) * 16
    return header + body


def doc() -> bytes:
    return compound_file("WordDocument")


def xls() -> bytes:
    return compound_file("Workbook")


def text(value: str = "Olá, mundo: the quarterly report.\nRevenue grew 12%.\n") -> bytes:
    return value.encode("utf-8")


def csv() -> bytes:
    return text("date,amount,description\n2026-01-05,1250.00,Fatura 0042\n")


def html() -> bytes:
    return text("<!DOCTYPE html><html><body><h1>Relatório</h1><p>Receita +12%.</p></body></html>")


def md() -> bytes:
    return text("# Minutes\n\n- Decision: ship the API.\n- Owner: Ana.\n")


# One real sample per format the API takes (the tests check that the map covers every format of genai_core.files).
SAMPLES: dict[str, Callable[[], bytes]] = {
    "pdf": pdf,
    "csv": csv,
    "doc": doc,
    "docx": docx,
    "xls": xls,
    "xlsx": xlsx,
    "html": html,
    "txt": text,
    "md": md,
    "png": png,
    "jpeg": jpeg,
    "gif": gif,
    "webp": webp,
}
