"""Every ioctl number, structure size, field offset and constant in drivers.dahdi.real.abi,
checked against the real <dahdi/user.h> by a C program generated from those definitions."""
from __future__ import annotations

import ctypes
import glob
import subprocess

import pytest

from drivers.dahdi import interface
from drivers.dahdi.real import abi

_SIMPLE_INTS = (ctypes.c_int, ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint, ctypes.c_short,
                ctypes.c_ushort, ctypes.c_char, ctypes.c_ubyte, ctypes.c_long, ctypes.c_ulong)


def _dahdi_include_dir() -> str:
    found = sorted(glob.glob("/usr/src/dahdi-*/include/dahdi/user.h"))
    assert found, ("no /usr/src/dahdi-*/include/dahdi/user.h: install the dahdi-dkms package "
                   "(make test does it: APT_TEST in the Makefile)")
    return found[-1].rsplit("/dahdi/user.h", 1)[0]


def _python_view() -> dict[str, int]:
    """What the Python definitions claim, keyed exactly as the C program prints it."""
    facts: dict[str, int] = {}
    for request in abi.IOCTLS:
        facts[f"ioctl {request.name}"] = int(request)
    for struct in abi.STRUCTS:
        facts[f"sizeof {struct.c_name}"] = ctypes.sizeof(struct)
        for field_name, ctype in struct._fields_:
            descriptor = getattr(struct, field_name)
            facts[f"offsetof {struct.c_name}.{field_name}"] = descriptor.offset
            facts[f"sizeof {struct.c_name}.{field_name}"] = descriptor.size
            if ctype in _SIMPLE_INTS:
                facts[f"signed {struct.c_name}.{field_name}"] = int(ctype(-1).value < 0)
    for enum_class, prefix in abi.ENUMS:
        for member_name, member in enum_class.__members__.items():
            facts[f"const {prefix}{member_name}"] = int(member)
    for name, value in abi.CONSTANTS.items():
        facts[f"const {name}"] = value
    for name in ("DAHDI_ALARM_LOS", "DAHDI_ALARM_LFA", "DAHDI_ALARM_LMFA"):   # the alarm detail bits
        facts[f"const {name}"] = getattr(interface, name)
    return facts


def _c_program(keys: list[str]) -> str:
    """A C program printing, for each key, ``key value`` as the header defines it."""
    lines = [
        "#include <stdio.h>", "#include <stddef.h>", "#include <sys/ioctl.h>",
        "#include <dahdi/user.h>", "int main(void) {",
    ]
    for key in keys:
        kind, _, what = key.partition(" ")
        if kind == "ioctl" or kind == "const":
            expr = f"(long long)({what})"
        elif kind == "sizeof" and "." in what:
            tag, field = what.split(".")
            expr = f"(long long)sizeof(((struct {tag} *)0)->{field})"
        elif kind == "sizeof":
            expr = f"(long long)sizeof(struct {what})"
        elif kind == "offsetof":
            tag, field = what.split(".")
            expr = f"(long long)offsetof(struct {tag}, {field})"
        elif kind == "signed":
            tag, field = what.split(".")
            expr = f"(long long)((__typeof__(((struct {tag} *)0)->{field}))-1 < 0)"
        else:  # pragma: no cover - a new kind of fact needs a C expression here
            raise AssertionError(f"no C expression for {key!r}")
        lines.append(f'  printf("%s %lld\\n", "{key}", {expr});')
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def header_view(tmp_path_factory) -> dict[str, int]:
    expected = _python_view()
    workdir = tmp_path_factory.mktemp("dahdi_abi")
    source = workdir / "abi_check.c"
    source.write_text(_c_program(sorted(expected)))
    binary = workdir / "abi_check"
    compiled = subprocess.run(
        ["cc", "-Wall", "-Werror", "-I", _dahdi_include_dir(), "-o", str(binary), str(source)],
        capture_output=True, text=True,
    )
    assert compiled.returncode == 0, compiled.stderr
    output = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout
    facts = {}
    for line in output.splitlines():
        key, _, value = line.rpartition(" ")
        facts[key] = int(value)
    return facts


def test_every_python_fact_matches_the_header(header_view):
    expected = _python_view()
    assert set(header_view) == set(expected)
    mismatched = {k: (expected[k], header_view[k]) for k in expected if expected[k] != header_view[k]}
    assert not mismatched, f"python != <dahdi/user.h> (python, C): {mismatched}"


def test_every_kind_of_fact_is_checked():
    """Guards the generator itself: each ioctl, struct field and enum member appears."""
    keys = _python_view()
    assert "ioctl DAHDI_SPECIFY" in keys and "ioctl DAHDI_SPANSTAT" in keys
    assert len([k for k in keys if k.startswith("ioctl ")]) == len(abi.IOCTLS) >= 14
    assert "offsetof dahdi_spaninfo.spantype" in keys
    assert "signed dahdi_params.chan_alarms" in keys
    assert "const DAHDI_EVENT_RINGBEGIN" in keys and "const DAHDI_ALARM_NONE" in keys


def test_a_wrong_python_number_would_be_caught(header_view):
    """The comparison can fail: a deliberately wrong definition disagrees with the header."""
    wrong = abi.ioc("W", 39, ctypes.sizeof(ctypes.c_int))  # DAHDI_SETLAW's number...
    assert wrong != header_view["ioctl DAHDI_SPECIFY"]      # ...is not DAHDI_SPECIFY's
    assert header_view["ioctl DAHDI_SETLAW"] == wrong


def test_old_style_ioctl_layout_matches_the_mips_powerpc_encoding():
    # _IOW(0xDA, 38, int) with 13 size bits and write=4 in the top three bits (asm/ioctl.h)
    old = abi._layout_for("mips64")
    assert abi.ioc("W", 38, 4, layout=old) == (4 << 29) | (4 << 16) | (0xDA << 8) | 38
    assert abi._layout_for("x86_64") is abi._GENERIC
    with pytest.raises(ValueError):
        abi.ioc("R", 1, 1 << 14)
