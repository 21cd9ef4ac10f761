"""The pace of an import's writes (``core.importer.pace``): how long it pauses, which shares it
takes."""
from __future__ import annotations

import pytest

from core.importer.pace import FULL_SPEED, Pace


@pytest.mark.parametrize("share, wrote, paused", [
    (0.5, 2.0, 2.0),     # half the time writing: a pause as long as the slice
    (0.25, 1.0, 3.0),
    (0.8, 0.4, 0.1),
    (0.05, 0.1, 1.9),
])
def test_the_pause_makes_the_writing_its_share_of_the_time(share, wrote, paused):
    pauses = []
    Pace(share, sleep=pauses.append).pause_after(wrote)
    assert pauses == [pytest.approx(paused)]
    assert wrote / (wrote + pauses[0]) == pytest.approx(share)


def test_full_speed_never_pauses_and_writes_in_one_statement():
    pauses = []
    pace = Pace(1, sleep=pauses.append)
    pace.pause_after(5.0)
    assert pauses == [] and not pace.sliced and not FULL_SPEED.sliced
    assert Pace(0.99).sliced


@pytest.mark.parametrize("share", [0, 0.049, -0.5, 1.01, 2, float("nan"), float("inf")])
def test_a_share_outside_0_05_to_1_is_refused(share):
    with pytest.raises(ValueError, match="a share of the time from 0.05 to 1"):
        Pace(share)
