"""tools/sample_files.py: the small real files of the examples and the tests, the same bytes on every run (no clock,
no zlib build in them), of the format the function's sniffer and the PNG and zip readers take them for."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genai_core import files
from tools import sample_files

TEXT = st.text(alphabet=sorted(sample_files.FONT), min_size=1, max_size=12).filter(str.strip)  # a blank has no ink


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (lambda: sample_files.pdf(["Invoice 0042", "Total (BRL): 1.250,00 \\ paid"]), "pdf"),
        (lambda: sample_files.docx(["Política de trocas", "a < b & c"]), "docx"),
        (lambda: sample_files.png(["INVOICE 0042", "PAID"]), "png"),
        (sample_files.png, "png"),
    ],
)
def test_each_file_is_its_format_and_the_same_bytes_every_time(make, fmt):
    data = make()
    assert make() == data
    assert fmt in files.sniff(data).formats


def test_the_docx_is_a_package_word_would_open_with_fixed_timestamps_and_no_compression():
    with zipfile.ZipFile(io.BytesIO(sample_files.docx(["Olá"]))) as archive:
        assert archive.namelist() == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
        assert {info.date_time for info in archive.infolist()} == {sample_files.FIXED_TIME}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        assert "<w:t>Olá</w:t>" in archive.read("word/document.xml").decode()


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the filtered scanlines of a PNG, its chunks' CRCs checked."""
    assert data.startswith(sample_files.PNG_SIGNATURE)
    position, chunks = len(sample_files.PNG_SIGNATURE), {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        position += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


@given(text=TEXT)
def test_property_the_png_of_any_text_decodes_to_its_size_and_has_ink(text):
    width, height, raw = png_pixels(sample_files.png(text))
    row = 1 + -(-width // 8)
    assert len(raw) == row * height
    assert any(byte != 0xFF for index, byte in enumerate(raw) if index % row)  # some black pixel


def test_a_character_the_font_lacks_is_refused():
    with pytest.raises(ValueError, match="no glyph"):
        sample_files.png("€")


@given(data=st.binary(max_size=200_000))
def test_property_the_stored_zlib_stream_is_zlib(data):
    assert zlib.decompress(sample_files.stored_zlib(data)) == data
