"""Health's device rules (the pure rules of ``status/health.py``): one device is judged as a list of one, and its
reasons read as they always did; labelled devices are named in theirs."""

from __future__ import annotations

from health_support import inputs

from kkt_adapter.status.health import DeviceHealth, assess

SHIFT_REFUSED = "shift open for more than 24 hours: close the shift (Z report); sales are refused until then"


def test_one_device_that_cannot_print_is_unhealthy_unnamed() -> None:
    main = DeviceHealth("main", usable=False, problem="paper out")
    assert assess(inputs(main)) == ("unhealthy", ["device: paper out"])


def test_one_device_with_an_expired_shift_under_refuse_is_its_own_reason() -> None:
    expired = DeviceHealth("main", shift_expired=True)
    assert assess(inputs(expired, shift_policy="refuse")) == ("unhealthy", [SHIFT_REFUSED])
    assert assess(inputs(expired, shift_policy="auto")) == ("healthy", [])
    both = DeviceHealth("main", usable=False, problem="device offline", shift_expired=True)
    assert assess(inputs(both, shift_policy="refuse")) == ("unhealthy", ["device: device offline", SHIFT_REFUSED])


def test_one_devices_fn_warnings_are_unnamed() -> None:
    warned = DeviceHealth("main", fn_warnings=("replace_soon", "custom"))
    assert assess(inputs(warned)) == (
        "degraded",
        ["fiscal drive: validity ends within 30 days: order a replacement fiscal drive", "fiscal drive: custom"],
    )


def test_one_device_without_a_problem_text_adds_no_reason() -> None:
    assert assess(inputs(DeviceHealth("main", usable=False, problem=""))) == ("healthy", [])


def test_labelled_devices_are_named_and_degrade_while_another_prints() -> None:
    main = DeviceHealth("main", usable=False, problem="paper out", fn_warnings=("replace_soon",))
    second = DeviceHealth("second", shift_expired=True)
    verdict, reasons = assess(inputs(main, second, DeviceHealth("third"), shift_policy="refuse"))
    assert verdict == "degraded"
    assert reasons == [
        "device main: paper out (sales go to the other devices)",
        "device second: shift open for more than 24 hours: close it (Z report) (sales go to the other devices)",
        "device main: fiscal drive: validity ends within 30 days: order a replacement fiscal drive",
    ]


def test_no_labelled_device_can_print() -> None:
    main = DeviceHealth("main", usable=False, problem="paper out")
    second = DeviceHealth("second", usable=False, problem="")
    assert assess(inputs(main, second)) == ("unhealthy", ["no device can print: main: paper out; second: error"])
