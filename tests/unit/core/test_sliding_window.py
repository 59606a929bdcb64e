from cityos.core.ratelimit import SlidingWindow


def test_a_key_gets_its_share_per_window_and_then_waits_for_the_oldest() -> None:
    window = SlidingWindow(2, window=60)
    assert window.take("a", now=0) == 0 and window.take("a", now=10) == 0
    assert window.take("a", now=20) == 40  # the event of t=0 leaves at t=60
    assert window.take("b", now=20) == 0  # other keys are counted apart
    assert window.take("a", now=60) == 0


def test_wait_only_looks_and_hit_only_counts() -> None:
    window = SlidingWindow(1, window=60)
    assert window.wait("a", now=0) == 0 and window.wait("a", now=1) == 0
    window.hit("a", now=2)
    assert window.wait("a", now=3) == 59
