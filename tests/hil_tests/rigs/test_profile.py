"""The traffic profile: the market-open curve, speed, seeded Poisson arrivals, scripts."""
from __future__ import annotations

import random

import pytest

from hil_tests.rigs.profile import MARKET_OPEN, ArrivalProcess, Script, TrafficProfile, parse_script


def test_curve_is_joined_by_straight_lines_and_flat_outside():
    profile = TrafficProfile(peak_per_minute=60, curve=((0, 0.2), (5, 1.0), (10, 0.5)))
    assert profile.fraction_at(-1) == 0.2 and profile.fraction_at(30) == 0.5
    assert profile.fraction_at(2.5) == pytest.approx(0.6)
    assert profile.rate_at(5 * 60) == pytest.approx(1.0)        # 60 a minute at the peak: 1 a second
    assert max(f for _, f in MARKET_OPEN) == 1.0


def test_speed_compresses_the_profile_clock_and_the_habits():
    slow, fast = TrafficProfile(peak_per_minute=60), TrafficProfile(peak_per_minute=60, speed=10)
    assert fast.rate_at(30) == pytest.approx(10 * slow.rate_at(300))
    assert fast.scaled(40.0) == pytest.approx(4.0) and slow.scaled(40.0) == 40.0


def test_arrivals_follow_the_rate_and_repeat_with_the_seed():
    profile = TrafficProfile(peak_per_minute=120, curve=((0, 1.0), (10, 1.0)))

    def arrivals(seed):
        process, t, out = ArrivalProcess(profile, random.Random(seed)), 0.0, []
        while (t := process.next_after(t, horizon=600.0)) is not None:
            out.append(t)
        return out

    first = arrivals(7)
    assert first == arrivals(7) and first != arrivals(8)
    # 2 a second for 600 s: 1200 expected, a Poisson count within 6 standard deviations
    assert abs(len(first) - 1200) < 6 * 1200 ** 0.5
    assert all(0 < a < b < 600 for a, b in zip(first, first[1:]))


def test_the_rush_at_the_open_gets_more_calls_than_the_start():
    profile = TrafficProfile(peak_per_minute=60, speed=20)          # 20 profile minutes in 60 s
    process, t, times = ArrivalProcess(profile, random.Random(3)), 0.0, []
    while (t := process.next_after(t, horizon=60.0)) is not None:
        times.append(t)
    before_open = sum(1 for t in times if t < 9)          # profile minutes 0-3
    at_open = sum(1 for t in times if 15 <= t < 24)       # profile minutes 5-8, the peak
    assert at_open > 2 * before_open


def test_scripts_parse_render_and_refuse_nonsense():
    script = parse_script("0.3:2,{account}#")
    assert script == Script(("2", "{account}#"), 0.3)
    steps = script.render(random.Random(1), 8)
    assert steps[0] == "2" and len(steps[1]) == 9 and steps[1].endswith("#") and steps[1][:-1].isdigit()
    assert parse_script("1") == Script(("1",), 1.0)
    with pytest.raises(ValueError, match="weight"):
        parse_script("x:1")
    with pytest.raises(ValueError, match="DTMF keys"):
        parse_script("1:12e")
    with pytest.raises(ValueError, match="speed"):
        TrafficProfile(speed=0)
    with pytest.raises(ValueError, match="ring_delay"):
        TrafficProfile(ring_delay=(3.0, 1.0))


def test_rig_options_give_the_profile_its_habits_and_refuse_nonsense(capsys):
    from hil_tests.rigs.__main__ import build_parser, profile_from
    parser = build_parser()
    args = parser.parse_args(["--config", "x.yaml", "--dir", "d", "--ring-delay", "0.2,0.6", "--barge-in", "0.5"])
    profile = profile_from(args)
    assert (profile.ring_delay, profile.barge_in) == ((0.2, 0.6), 0.5)
    assert profile_from(parser.parse_args(["--config", "x.yaml", "--dir", "d"])).ring_delay == (1.0, 4.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["--config", "x.yaml", "--dir", "d", "--ring-delay", "fast"])
    assert "give LOW,HIGH in seconds" in capsys.readouterr().err
    with pytest.raises(ValueError, match="ring_delay"):
        profile_from(parser.parse_args(["--config", "x.yaml", "--dir", "d", "--ring-delay", "3,1"]))
