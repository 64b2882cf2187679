"""Sends the official T-Invest Python SDK (package `tinkoff.invest`) to a server of your choice,
without a change to the program that uses it.

A program written for the real broker makes its client with `Client(token)`: the SDK then opens a
TLS channel to its built-in production address (`tinkoff.invest.constants.INVEST_GRPC_API`).
Python imports a module named `sitecustomize` at start-up from the first directory of its path
that holds one; put this file's directory first on PYTHONPATH and set

    INVEST_TARGET=127.0.0.1:50061   where the SDK's production address is to lead instead
    INVEST_INSECURE=1               plaintext gRPC to it (otherwise TLS, trusting the roots that
                                    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names, as grpc does)
    INVEST_SANDBOX_TARGET=HOST:PORT optional: where the SDK's sandbox address is to lead

When the SDK's channel module is imported, its `create_channel` is replaced by one that swaps
those addresses and keeps everything else the SDK asked for (options, compression, interceptors,
the async flavour). A channel the program opens to an address of its own choosing (a `target`
it passed) is left alone. Without INVEST_TARGET this file does nothing.
"""

import importlib.abc
import importlib.machinery
import os
import sys

_CHANNELS_MODULE = "tinkoff.invest.channels"
_MAX_RECEIVE_OPTION = "grpc.max_receive_message_length"


def _redirected(channels, target):
    """Where a channel the SDK asked for goes instead, or None to leave it."""
    constants = sys.modules.get("tinkoff.invest.constants")
    production = getattr(channels, "INVEST_GRPC_API", None)
    sandbox = getattr(constants, "INVEST_GRPC_API_SANDBOX", None)
    if target is None or target == production:
        return os.environ["INVEST_TARGET"]
    if target == sandbox and os.environ.get("INVEST_SANDBOX_TARGET"):
        return os.environ["INVEST_SANDBOX_TARGET"]
    return None


def _install(channels):
    import grpc  # the SDK's own dependency, already imported by the module

    sdk_create_channel = channels.create_channel
    insecure = os.environ.get("INVEST_INSECURE", "") not in ("", "0")
    max_receive = getattr(channels, "MAX_RECEIVE_MESSAGE_LENGTH", None)

    def create_channel(
        *, target=None, options=None, force_async=False, compression=None, interceptors=None
    ):
        address = _redirected(channels, target)
        if address is None or not insecure:
            return sdk_create_channel(
                target=address or target,
                options=options,
                force_async=force_async,
                compression=compression,
                interceptors=interceptors,
            )
        options = list(options or [])
        if max_receive is not None and all(name != _MAX_RECEIVE_OPTION for name, _ in options):
            options.append((_MAX_RECEIVE_OPTION, max_receive))
        if force_async:
            return grpc.aio.insecure_channel(address, options, compression, interceptors)
        return grpc.insecure_channel(address, options, compression)

    channels.create_channel = create_channel


class _Loader(importlib.abc.Loader):
    """Runs the SDK's module as usual, then replaces its channel factory."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _install(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _CHANNELS_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(spec.loader)
        return spec


if os.environ.get("INVEST_TARGET"):
    sys.meta_path.insert(0, _Finder())
