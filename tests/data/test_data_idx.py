"""IDX reader / writer on small files written by the tests."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from steepest.data.datasets import parse_idx, read_idx, read_idx_pair, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    a = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = write_idx(tmp_path / f"a-idx3{suffix}", a)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable
    assert [f.name for f in tmp_path.iterdir()] == [p.name]  # no temp files left behind


def test_header_bytes_match_the_mnist_layout(tmp_path):
    p = write_idx(tmp_path / "x", np.zeros((3, 28, 28), dtype=np.uint8))
    raw = p.read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert raw[4:16] == (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert len(raw) == 16 + 3 * 784


def test_gzip_detected_by_content_and_deterministic(tmp_path):
    a = np.arange(10, dtype=np.int32)
    p = write_idx(tmp_path / "labels-no-extension", a, compress=True)
    assert p.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(p), a)
    q = write_idx(tmp_path / "again", a, compress=True)
    assert p.read_bytes() == q.read_bytes()


def raw_idx(a: np.ndarray) -> bytes:
    return (
        bytes([0, 0, 0x08, a.ndim])
        + b"".join(d.to_bytes(4, "big") for d in a.shape)
        + a.astype(np.uint8).tobytes()
    )


def test_truncated_file(tmp_path):
    p = tmp_path / "trunc-idx3-ubyte"
    p.write_bytes(raw_idx(np.zeros((4, 5, 5)))[:-7])
    with pytest.raises(
        ValueError, match=r"trunc-idx3-ubyte.*payload is 93 bytes.*exactly 100 bytes.*truncated"
    ):
        read_idx(p)


def test_truncated_gz(tmp_path):
    p = tmp_path / "trunc.gz"
    p.write_bytes(gzip.compress(raw_idx(np.zeros((4, 5, 5))))[:-12])
    with pytest.raises(ValueError, match="trunc.gz"):
        read_idx(p)


def test_trailing_bytes(tmp_path):
    p = tmp_path / "trailing"
    p.write_bytes(raw_idx(np.zeros((4, 5, 5))) + b"garbage")
    with pytest.raises(ValueError, match=r"payload is 107 bytes.*exactly 100.*trailing"):
        read_idx(p)


def test_wrong_magic(tmp_path):
    p = tmp_path / "notidx.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match=r"notidx.png: bad magic number 0x89504E47"):
        read_idx(p)


def test_bad_type_code_and_short_header(tmp_path):
    p = tmp_path / "badcode"
    p.write_bytes(bytes([0, 0, 0x07, 1]) + (2).to_bytes(4, "big") + b"ab")
    with pytest.raises(ValueError, match="unknown IDX type code 0x07.*0x08 \\(uint8\\)"):
        read_idx(p)
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\x00\x00", "tiny")
    with pytest.raises(ValueError, match="needs 16 bytes"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]), "short-header")


def test_expected_ndim_and_dtype(tmp_path):
    p = write_idx(tmp_path / "x", np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="expected a 3-D array, got shape \\(2, 3\\)"):
        read_idx(p, ndim=3)
    with pytest.raises(ValueError, match="expected dtype float32"):
        read_idx(p, dtype=np.float32)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "missing")


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="int64 cannot be stored in IDX"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))


def test_pair_validation(tmp_path):
    imgs = write_idx(tmp_path / "imgs", np.zeros((5, 28, 28), dtype=np.uint8))
    labs = write_idx(tmp_path / "labs", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"5 images in .*imgs but 4 labels in .*labs"):
        read_idx_pair(imgs, labs)
    flat = write_idx(tmp_path / "flat", np.zeros((5, 784), dtype=np.uint8))
    with pytest.raises(ValueError, match="images must be 3-D"):
        read_idx_pair(flat, labs)
    labs2 = write_idx(tmp_path / "labs2", np.zeros((5, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match="labels must be 1-D"):
        read_idx_pair(imgs, labs2)
    with pytest.raises(ValueError, match=r"images must be \(32, 32\)"):
        read_idx_pair(imgs, write_idx(tmp_path / "l5", np.zeros(5, np.uint8)), image_shape=(32, 32))
