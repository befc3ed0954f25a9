"""What the Python tests share to talk to a daemon's control socket."""


def read_answer(sock):
    """One answer from a control socket: the bytes up to and including its
    newline, or whatever came before the daemon closed the connection."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
