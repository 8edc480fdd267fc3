"""Image type and pixel size read from the header, for Bluesky's aspectRatio."""

from __future__ import annotations

from cmday.images import ImageInfo, image_info
from tests.sources.test_sending import JPEG, PNG


def test_the_four_image_types_give_their_type_and_size():
    gif = b"GIF89a" + (7).to_bytes(2, "little") + (6).to_bytes(2, "little") + b"\x00" * 4
    webp = b"RIFF" + b"\x00" * 4 + b"WEBPVP8X" + b"\x00" * 8 + (9).to_bytes(3, "little") + (7).to_bytes(3, "little")
    assert image_info(PNG) == ImageInfo("image/png", 3, 2)
    assert image_info(JPEG) == ImageInfo("image/jpeg", 5, 4)
    assert image_info(gif) == ImageInfo("image/gif", 7, 6)
    assert image_info(webp) == ImageInfo("image/webp", 10, 8)


def test_a_cut_or_foreign_file_gives_no_size_rather_than_an_error():
    assert image_info(b"\xff\xd8\xff") == ImageInfo("image/jpeg", None, None)
    assert image_info(PNG[:18]) is None
    assert image_info(b"%PDF-1.7") is None
