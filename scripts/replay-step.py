#!/usr/bin/env python3
"""Drives a replay at `--speed step` (docs/BACKTEST.md) in lock-step with a bot: advances the
simulated clock a fixed amount at a time through tinvestd.replay.v1.ReplayService/Advance and,
after each step, waits until the bot has acted on what the step produced — that is, until the
bot's output file (--watch) has not grown for --quiet-ms.

usage: scripts/replay-step.py --target HOST:PORT [--token T] [--step-ms 60000] [--steps N]
                              [--watch FILE] [--ready REGEX] [--quiet-ms 300]
                              [--descriptor-set FILE]

Before the first step it waits for a line matching --ready in the watched file (the bot's
subscription), so the bot misses nothing. It stops after --steps steps or when the replay has
reached its end, and prints where the clock stands. Needs grpcio and protobuf; the messages are
built at run time from proto/replay.proto (a descriptor set from the build's
gen/contract.desc, or made with protoc).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE = "/tinvestd.replay.v1.ReplayService/"
READY_TIMEOUT_S = 30
CALL_TIMEOUT_S = 60


def load_messages(descriptor_set):
    """The control service's message classes, from a FileDescriptorSet holding replay.proto."""
    if descriptor_set is None:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "replay.desc")
            subprocess.run(["protoc", "--include_imports", "--descriptor_set_out=" + out,
                            "-I", os.path.join(ROOT, "proto"), "replay.proto"], check=True)
            with open(out, "rb") as f:
                data = f.read()
    else:
        with open(descriptor_set, "rb") as f:
            data = f.read()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)

    def message(name):
        descriptor = pool.FindMessageTypeByName("tinvestd.replay.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    return message("AdvanceRequest"), message("ReplayState")


class Watch:
    """The bot's output file, seen from outside: its size and its lines."""

    def __init__(self, path):
        self.path = path

    def size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def wait_for(self, pattern, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with open(self.path, encoding="utf-8", errors="replace") as f:
                    if re.search(pattern, f.read(), re.MULTILINE):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def wait_quiet(self, quiet_s, limit_s):
        """Returns once the file has not grown for quiet_s (or after limit_s in all)."""
        start = time.monotonic()
        size, since = self.size(), start
        while True:
            time.sleep(0.02)
            now = time.monotonic()
            grown = self.size()
            if grown != size:
                size, since = grown, now
            elif now - since >= quiet_s or now - start >= limit_s:
                return


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--token", default=os.environ.get("INVEST_TOKEN", "t.demo.full"))
    parser.add_argument("--step-ms", type=int, default=60000)
    parser.add_argument("--steps", type=int, default=0, help="0: until the replay's end")
    parser.add_argument("--watch")
    parser.add_argument("--ready", default="^subscribed")
    parser.add_argument("--quiet-ms", type=int, default=300)
    parser.add_argument("--descriptor-set")
    args = parser.parse_args()
    if args.step_ms < 1 or args.steps < 0 or args.quiet_ms < 0:
        parser.error("--step-ms must be positive, --steps and --quiet-ms not negative")

    advance_request, replay_state = load_messages(args.descriptor_set)
    watch = Watch(args.watch) if args.watch else None
    if watch and not watch.wait_for(args.ready, READY_TIMEOUT_S):
        sys.exit(f"replay-step: no line matching {args.ready!r} in {args.watch} "
                 f"within {READY_TIMEOUT_S} s")

    metadata = (("authorization", "Bearer " + args.token),)
    with grpc.insecure_channel(args.target) as channel:
        advance = channel.unary_unary(SERVICE + "Advance",
                                      request_serializer=advance_request.SerializeToString,
                                      response_deserializer=replay_state.FromString)
        steps = 0
        state = None
        while args.steps == 0 or steps < args.steps:
            state = advance(advance_request(by_ms=args.step_ms), metadata=metadata,
                            timeout=CALL_TIMEOUT_S)
            steps += 1
            if watch:
                watch.wait_quiet(args.quiet_ms / 1000, CALL_TIMEOUT_S)
            if state.finished:
                break
    now = state.now.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ") if state else "?"
    print(f"replay-step: {steps} steps of {args.step_ms} ms, the clock at {now}"
          f"{', the replay finished' if state and state.finished else ''}")


if __name__ == "__main__":
    main()
