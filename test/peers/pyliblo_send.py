"""Sends OSC packets built by liblo (through Debian's pyliblo) to 127.0.0.1:PORT.

Reads one JSON packet per line on stdin:
  {"path": "/x", "args": [["i", 1], ["b", [1, 2]], ["t", 1.5], ["T", null]]}
  {"bundle": 1.5 | null, "messages": [<message>, ...]}
and prints "sent N" when done. Used by aiolo's tests as a real liblo peer.
"""
import json
import sys

import liblo

NO_DATA = {"T": True, "F": False, "N": None, "I": ("I",)}


def arg(tag, value):
    if tag in NO_DATA:
        return NO_DATA[tag]
    if tag in ("m", "b"):
        value = tuple(value) if tag == "m" else list(value)
    return (tag, value)


def message(spec):
    return liblo.Message(spec["path"], *[arg(t, v) for t, v in spec["args"]])


def main():
    target = liblo.Address("127.0.0.1", int(sys.argv[1]))
    sent = 0
    for line in sys.stdin:
        spec = json.loads(line)
        if "bundle" in spec:
            msgs = [message(m) for m in spec["messages"]]
            packet = liblo.Bundle(spec["bundle"], *msgs) if spec["bundle"] is not None else liblo.Bundle(*msgs)
        else:
            packet = message(spec)
        liblo.send(target, packet)
        sent += 1
    print("sent", sent)


main()
