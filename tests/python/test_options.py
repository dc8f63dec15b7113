"""Options (SPEC §2, §6): client options as one value set by name in the core, `ca_file` and
`proxy`."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

import mixerlead
from conftest import KEY, Emulator


def client(url: str, **options: Any) -> mixerlead.Client:
    return mixerlead.Client(KEY, base_url=url, **options)


# --- client options: one value, each set by name in the core -----------------------------------


def test_an_unknown_option_is_a_configuration_error_naming_it() -> None:
    from mixerlead import _native

    with pytest.raises(mixerlead.ConfigurationError, match="colour"):
        _native.NativeClient({"api_key": KEY, "colour": "blue"})


def test_option_types_are_checked_naming_the_option(emu: Emulator) -> None:
    # A type the option does not take at all: TypeError; a bad value of its type: ValueError.
    for name, value in [("timeout", "60"), ("max_retries", "2"), ("base_url", 5), ("allow_insecure_http", 1)]:
        with pytest.raises(TypeError, match=name):
            client(emu.url(), **{name: value})
    for name, value in [("timeout", [60]), ("project_id", object()), ("proxy", b"http://p")]:
        with pytest.raises(TypeError, match=name):
            client(emu.url(), **{name: value})
    with pytest.raises(ValueError, match="max_retries"):
        client(emu.url(), max_retries=1.5)
    with pytest.raises(ValueError, match="timeout"):
        client(emu.url(), timeout=-1)
    # bool is checked before int: True is not a number of seconds.
    with pytest.raises(TypeError, match="timeout"):
        client(emu.url(), timeout=True)
    client(emu.url(), timeout=5, max_retries=2.0, allow_insecure_http=False)  # ints and whole floats


def test_ca_file_takes_a_path_and_a_bad_one_names_it(emu: Emulator, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(mixerlead.ConfigurationError, match="ca_file"):
        client(emu.url(), ca_file=missing)  # os.PathLike
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(mixerlead.ConfigurationError, match="ca_file"):
        client(emu.url(), ca_file=str(garbage))


def test_proxy_is_checked(emu: Emulator) -> None:
    with pytest.raises(mixerlead.ConfigurationError, match="proxy"):
        mixerlead.Client(KEY, proxy="not a url")
    with pytest.raises(mixerlead.ConfigurationError, match="proxy"):
        client(emu.url(), proxy="http://127.0.0.1:3128")  # plain http never goes through a proxy
    mixerlead.Client(KEY, proxy="http://127.0.0.1:3128")
