"""The device's registration: created on first use of an empty directory, loaded by every later instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from kkt_emulators import fiscal
from kkt_emulators.device import DOC_REGISTRATION, DeviceNotFound, EmulatedKKT
from kkt_emulators.device.store import Store

from .helpers import KKTFactory


def test_registration_inn_has_valid_check_digits(kkt: EmulatedKKT) -> None:
    """The owner's INN passes the INN check (fiscal notes, "Identifiers and their checks")."""
    assert fiscal.is_valid_inn(kkt.registration.inn)


def test_registration_number_carries_correct_crc_check(kkt: EmulatedKKT) -> None:
    """The RNM is 16 digits whose last 6 are the CRC-16/CCITT-FALSE check over ordinal, INN and serial."""
    reg = kkt.registration
    assert fiscal.is_valid_registration_number(reg.reg_number, reg.inn, reg.kkt_serial)


def test_fn_number_is_16_digits_and_ffd_is_1_2(kkt: EmulatedKKT) -> None:
    """The fiscal drive number is 16 digits (tag 1041) and the device speaks FFD 1.2."""
    assert fiscal.is_valid_fn_number(kkt.registration.fn_number)
    assert kkt.registration.ffd_version == "1.2"


def test_fn_secret_is_32_bytes_and_hidden_from_repr(kkt: EmulatedKKT) -> None:
    """The FN's secret is 32 random bytes that never appear in the registration's repr."""
    reg = kkt.registration
    assert len(reg.fn_secret) == 32
    assert "fn_secret" not in repr(reg)
    assert reg.fn_secret.hex() not in repr(reg)


def test_registration_report_is_fd_1_signed_with_the_fn_secret(kkt: EmulatedKKT) -> None:
    """The first document of an FN's life is its registration report, FD 1, with a verifiable fiscal sign."""
    doc = kkt.find_by_number(1)
    assert doc is not None
    assert doc.doc_type == DOC_REGISTRATION
    assert doc.tags["1040"] == 1
    assert doc.tags["1018"] == kkt.registration.inn
    assert fiscal.verify_fiscal_sign(doc.tags, kkt.registration.fn_secret)


def test_reopened_directory_keeps_the_same_registration(make_kkt: KKTFactory) -> None:
    """A later instance on the same directory loads the registration instead of registering again."""
    first = make_kkt()
    registration = first.registration
    first.close()
    second = make_kkt()
    assert second.registration == registration
    assert [doc.doc_type for doc in second.journal()] == [DOC_REGISTRATION]


def test_create_false_opens_a_registered_device(make_kkt: KKTFactory) -> None:
    """``create=False`` opens the device already in the directory, with its registration."""
    first = make_kkt()
    assert make_kkt(create=False).registration == first.registration


def test_create_false_refuses_a_directory_without_a_device_and_leaves_it_alone(tmp_path: Path) -> None:
    """``create=False`` on a missing or empty directory raises ``DeviceNotFound`` and creates nothing."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for directory in (tmp_path / "missing", empty):
        with pytest.raises(DeviceNotFound) as raised:
            EmulatedKKT(directory, print_delay_ms=0, create=False)
        assert raised.value.state_dir == directory
    assert not (tmp_path / "missing").exists()
    assert list(empty.iterdir()) == []


def test_create_false_refuses_a_database_never_registered(state_dir: Path, make_kkt: KKTFactory) -> None:
    """A drive file with no registration in it (a first start cut short) is not a device either."""
    state_dir.mkdir()
    Store(state_dir).close()
    with pytest.raises(DeviceNotFound):
        EmulatedKKT(state_dir, print_delay_ms=0, create=False)
    assert make_kkt().registration.fn_number  # the directory still takes a device when creating is allowed
