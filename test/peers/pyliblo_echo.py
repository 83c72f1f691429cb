"""A liblo far side for aiolo's bridge tests (Debian's pyliblo): a UDP server that answers every
message with /echo and the same arguments, sent from its own port (as scsynth answers) to the
address the message came from. Prints its port, then serves until it is killed.
"""
import liblo

server = liblo.Server()


def echo(path, args, types, src):
    server.send(src, liblo.Message("/echo", *zip(types, args)))


server.add_method(None, None, echo)
print(server.port, flush=True)
while True:
    server.recv(1000)
