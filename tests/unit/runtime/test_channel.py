"""The JSON-lines channel between the runtime and its children, over a real socketpair."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from dockyard.runtime.channel import Channel


@pytest.fixture
def pair() -> Iterator[tuple[Channel, Channel]]:
    a, b = Channel.pair()
    yield a, b
    a.close()
    b.close()


def test_round_trip_both_ways(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    a.send(stage="go", pid=42, nested={"x": [1, "two"]})
    assert b.recv() == {"stage": "go", "pid": 42, "nested": {"x": [1, "two"]}}
    b.send(stage="maps")
    assert a.recv() == {"stage": "maps"}


def test_several_messages_in_one_read_are_split(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    for i in range(3):
        a.send(n=i)
    assert [b.recv() for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_message_split_across_writes_is_joined(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    a.sock.sendall(b'{"stage": "for')
    a.sock.sendall(b'ked", "pid": 7}\n{"a": 1}\n')
    assert b.recv() == {"stage": "forked", "pid": 7}
    assert b.recv() == {"a": 1}


def test_large_message_arrives_whole(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    text = "x" * 500_000
    # Bigger than the socket buffer: the sender blocks until the reader drains it.
    sender = threading.Thread(target=a.send, kwargs={"blob": text})
    sender.start()
    assert b.recv() == {"blob": text}
    sender.join()


def test_eof_without_a_word_is_empty(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    a.close()
    assert b.recv() == {}


def test_eof_after_messages_returns_them_then_empty(pair: tuple[Channel, Channel]) -> None:
    a, b = pair
    a.send(stage="error", message="boom")
    a.sock.sendall(b'{"partial"')
    a.close()
    assert b.recv() == {"stage": "error", "message": "boom"}
    assert b.recv() == {}


def test_fileno_is_the_sockets(pair: tuple[Channel, Channel]) -> None:
    a, _ = pair
    assert a.fileno() == a.sock.fileno()
