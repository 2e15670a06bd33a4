"""Verification codes: entropy from ``secrets``, readable groups, forgiving look-up."""

from __future__ import annotations

import math

from certificates import codes


def test_codes_carry_at_least_128_bits():
    assert codes.CODE_LENGTH * math.log2(len(codes.ALPHABET)) >= 128
    assert codes.CODE_BITS >= 128
    many = {codes.new_code() for _ in range(2000)}
    assert len(many) == 2000
    assert all(len(c) == codes.CODE_LENGTH and set(c) <= set(codes.ALPHABET) for c in many)
    # every symbol of the alphabet shows up: draws are spread over all 32
    assert set("".join(many)) == set(codes.ALPHABET)


def test_alphabet_has_no_ambiguous_letters():
    assert not set("ILOU") & set(codes.ALPHABET)
    assert len(codes.ALPHABET) == 32


def test_grouped_and_normalised_forms():
    code = codes.new_code()
    shown = codes.grouped(code)
    assert shown.count("-") == codes.CODE_LENGTH // 4 - 1
    assert all(len(group) == 4 for group in shown.split("-"))
    assert codes.normalise(shown) == code
    assert codes.normalise(shown.lower().replace("-", " ")) == code
    misread = code.replace("0", "O").replace("1", "l")
    assert codes.normalise(misread) == code
    assert codes.normalise("too-short") is None
    assert codes.normalise(code + "U") is None


def test_serials():
    assert codes.serial_for("MI", 2026, 123) == "MI-2026-000123"
    assert codes.reissue_serial("MI-2026-000123", 1) == "MI-2026-000123-R1"
    assert codes.reissue_serial("MI-2026-000123-R1", 2) == "MI-2026-000123-R2"
