"""Rendezvous: how the processes of a group find each other, and the connections they keep.

``init_method`` says where rank 0 listens: ``"env://"`` reads MASTER_ADDR and MASTER_PORT
(and RANK and WORLD_SIZE unless given), as torchrun and ``python -m ember.distributed.run``
set them; ``"tcp://host:port"`` names it directly.

Rank 0 listens on MASTER_PORT (all IPv4 interfaces). Every other rank opens a listening
socket of its own on a free port, connects to rank 0 (retrying until the timeout, since rank
0 may start later) and says hello: its rank, the world size it expects and its port. Once
all have arrived, rank 0 checks that the ranks are distinct and agree on the world size,
and sends everyone the table of addresses, each as rank 0 saw it (so it works across
machines without knowing their names). Then rank k connects to ranks 1 … k−1 and accepts
ranks k+1 … W−1: a full mesh of W(W−1)/2 connections. Collectives run through rank 0 (a
star, see group.py); the other connections carry ``send``/``recv`` between any two ranks.

A subgroup (``new_group``) gets a mesh of its own among its members, so its frames never
share a connection with another group's and two groups can run at once (``connect_group``):
each member listens on a free port, the ports travel in one all_gather on the default group,
and each member connects to the members below it, at the address its default-group
connection to them has, and accepts the members above it.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

from .wire import HELLO, WELCOME, DistBackendError, DistError, DistNetworkError, Frame, Link

_RETRY_S = 0.1  # pause between attempts to reach a rank that is not listening yet


def resolve_init(init_method: str | None, world_size: int, rank: int) -> tuple[str, int, int, int]:
    """(master host, port, world size, rank) from ``init_method`` and the environment."""
    method = "env://" if init_method is None else str(init_method)
    env = os.environ
    if method.startswith("env://"):
        names = ["MASTER_ADDR", "MASTER_PORT"]
        names += ["RANK"] if rank < 0 else []
        names += ["WORLD_SIZE"] if world_size < 0 else []
        missing = [n for n in names if not env.get(n, "").strip()]
        if missing:
            raise ValueError(
                "init_process_group(init_method='env://') reads MASTER_ADDR, MASTER_PORT, RANK"
                f" and WORLD_SIZE from the environment, but {', '.join(missing)}"
                f" {'is' if len(missing) == 1 else 'are'} not set; launch with"
                " `python -m ember.distributed.run --nproc-per-node N script.py` (or torchrun),"
                " or pass init_method='tcp://host:port', rank= and world_size="
            )
        host = env["MASTER_ADDR"].strip()
        port = _int("MASTER_PORT", env["MASTER_PORT"])
        rank = _int("RANK", env["RANK"]) if rank < 0 else rank
        world_size = _int("WORLD_SIZE", env["WORLD_SIZE"]) if world_size < 0 else world_size
    elif method.startswith("tcp://"):
        parts = urlsplit(method)
        if not parts.hostname or parts.port is None:
            raise ValueError(f"init_method={method!r}: expected 'tcp://host:port'")
        host, port = parts.hostname, parts.port
        if rank < 0 or world_size < 0:
            raise ValueError(
                f"init_method={method!r} needs rank= and world_size= (got rank={rank},"
                f" world_size={world_size})"
            )
    else:
        raise ValueError(
            f"init_method={method!r}: ember.distributed supports 'env://' (the default) and"
            " 'tcp://host:port'"
        )
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"expected 0 <= rank < world_size, got {rank=}, {world_size=}")
    if not 0 < port < 65536:
        raise ValueError(f"expected a TCP port in 1 … 65535, got {port}")
    return host, port, world_size, rank


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r}: expected an integer") from None


def connect_mesh(host: str, port: int, rank: int, world_size: int, timeout: float) -> dict:
    """Every other rank's ``Link``, by rank, once all ``world_size`` processes have met."""
    deadline = time.monotonic() + timeout
    if world_size == 1:
        return {}
    if rank == 0:
        return _rank0(port, world_size, timeout, deadline)
    return _peer(host, port, rank, world_size, timeout, deadline)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.01)


def _listen(port: int, backlog: int) -> socket.socket:
    try:
        return socket.create_server(("", port), family=socket.AF_INET, backlog=backlog)
    except OSError as e:
        raise DistNetworkError(
            f"could not listen on TCP port {port} ({e}); is another job using it? pick another"
            " MASTER_PORT"
        ) from e


def _accept(server: socket.socket, me: int, timeout: float, deadline: float, what: str):
    """The next connection that says an ember hello (strays that do not are dropped)."""
    while True:
        server.settimeout(_left(deadline))
        try:
            conn, addr = server.accept()
        except TimeoutError:
            raise DistNetworkError(f"rank {me}: timed out after {timeout:g} s {what}") from None
        link = Link(conn, me, -1, _left(deadline))
        try:
            hello = link.recv()
        except DistError:  # not ember's protocol, or gone: someone else knocked on the port
            link.close()
            continue
        if hello.kind != HELLO:
            link.close()
            continue
        link.peer = hello.root
        return link, addr[0], hello


def _rank0(port: int, world_size: int, timeout: float, deadline: float) -> dict:
    server = _listen(port, world_size)
    links, table = {}, {}
    try:
        while len(links) < world_size - 1:
            waiting = sorted(set(range(1, world_size)) - set(links))
            what = f"waiting for rank(s) {', '.join(map(str, waiting))} to join on port {port}"
            link, addr, hello = _accept(server, 0, timeout, deadline, what)
            problem = ""
            if hello.tag != world_size:
                problem = f"rank {hello.root} expects world_size {hello.tag}, rank 0 {world_size}"
            elif not 0 < hello.root < world_size:
                problem = f"a process joined with rank {hello.root}, outside 1 … {world_size - 1}"
            elif hello.root in links:
                problem = f"two processes joined as rank {hello.root}"
            if problem:
                for other in [*links.values(), link]:
                    _tell_error(other, problem)
                raise DistBackendError(f"rendezvous failed: {problem}")
            links[hello.root] = link
            table[hello.root] = f"{addr}:{hello.seq}"
    except BaseException:
        for link in links.values():
            link.close()
        raise
    finally:
        server.close()
    listing = ",".join(table.get(r, ":0") for r in range(world_size))
    for link in links.values():
        link.send(Frame(WELCOME, message=listing))
        link.sock.settimeout(timeout)
        link.timeout = timeout
    return links


def _tell_error(link: Link, message: str) -> None:
    try:
        link.send(Frame(WELCOME, status=1, message=message))
    except Exception:  # best effort: the peer may be gone already
        pass
    link.close()


def _peer(host, port, rank, world_size, timeout, deadline) -> dict:
    listener = _listen(0, world_size) if rank < world_size - 1 else None
    my_port = listener.getsockname()[1] if listener is not None else 0
    links = {}
    try:
        links[0] = _connect(host, port, rank, 0, timeout, deadline, first=True)
        links[0].send(Frame(HELLO, root=rank, tag=world_size, seq=my_port))
        links[0].sock.settimeout(_left(deadline))
        welcome = links[0].recv()
        if welcome.kind != WELCOME or welcome.status:
            raise DistBackendError(f"rendezvous failed: {welcome.message or 'no welcome'}")
        table = welcome.message.split(",")
        for j in range(1, rank):
            peer_host, _, peer_port = table[j].rpartition(":")
            links[j] = _connect(peer_host, int(peer_port), rank, j, timeout, deadline)
            links[j].send(Frame(HELLO, root=rank, tag=world_size))
        for _ in range(rank + 1, world_size):
            what = f"waiting for ranks above {rank} to connect"
            link, _, hello = _accept(listener, rank, timeout, deadline, what)
            if not rank < hello.root < world_size or hello.root in links:
                raise DistBackendError(f"rendezvous failed: unexpected rank {hello.root}")
            links[hello.root] = link
    except BaseException:
        for link in links.values():
            link.close()
        raise
    finally:
        if listener is not None:
            listener.close()
    for link in links.values():
        link.sock.settimeout(timeout)
        link.timeout = timeout
    return links


def _connect(host, port, me, peer, timeout, deadline, first=False) -> Link:
    """A Link to ``peer`` at host:port, retrying while nothing listens there yet."""
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=min(_left(deadline), 5.0))
            return Link(sock, me, peer, _left(deadline))
        except OSError as e:
            if time.monotonic() >= deadline:
                hint = " (is rank 0 running, and MASTER_ADDR/MASTER_PORT right?)" if first else ""
                raise DistNetworkError(
                    f"rank {me}: could not connect to rank {peer} at {host}:{port} within"
                    f" {timeout:g} s: {e}{hint}"
                ) from e
            time.sleep(_RETRY_S)


def listen_any(backlog: int) -> socket.socket:
    """A listening socket on a free port of every IPv4 interface."""
    return _listen(0, backlog)


def connect_group(listener: socket.socket, me: int, members: list[int], addresses: list,
                  timeout: float, group_id: int) -> dict:  # fmt: skip
    """The Links of a subgroup's mesh by group rank: ``members`` are the global ranks (sorted),
    ``addresses`` their (host, port); this member (global rank ``me``) connects to those
    below it and accepts those above it on ``listener`` (which it closes)."""
    deadline = time.monotonic() + timeout
    i, links = members.index(me), {}
    try:
        for j in range(i):
            host, port = addresses[j]
            links[j] = _connect(host, port, me, members[j], timeout, deadline)
            links[j].send(Frame(HELLO, root=me, tag=group_id))
        for _ in range(i + 1, len(members)):
            what = f"waiting for ranks {members[i + 1 :]} of new_group({members}) to connect"
            link, _, hello = _accept(listener, me, timeout, deadline, what)
            k = members.index(hello.root) if hello.root in members else -1
            if k <= i or k in links or hello.tag != group_id:
                link.close()
                raise DistBackendError(
                    f"new_group({members}): rank {me} was reached by rank {hello.root} for"
                    f" group #{hello.tag}, expected one of {members[i + 1 :]} for #{group_id}"
                )
            links[k] = link
    except BaseException:
        for link in links.values():
            link.close()
        raise
    finally:
        listener.close()
    for link in links.values():
        link.sock.settimeout(timeout)
        link.timeout = timeout
    return links
