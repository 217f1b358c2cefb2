"""Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M, Palm) in closed form.

Rates are per second: ``lam`` arrivals, ``mu = 1 / aht`` services per agent, ``theta =
1 / patience`` abandonments per waiting caller.  Erlang A follows Mandelbaum and
Zeltyn ("The Palm/Erlang-A queue, with applications to call centers", 2007): with
``x = n mu / theta``, ``y = lam / theta`` and

    A(x, y) = 1 + sum_{j>=1} y^j / ((x+1)(x+2)...(x+j))   (= x e^y y^-x gamma(x, y))

the probability that all agents are busy and nobody waits is
``pi_n = E_B / (1 + (A - 1) E_B)`` (``E_B`` Erlang B with n agents), ``P(W > 0) = A pi_n``,
``P(Ab | W > 0) = 1 / (rho A) + 1 - 1 / rho`` with ``rho = lam / (n mu)``, and the offered
wait ``V`` (the wait of a caller who would never hang up) has the tail
``P(V > t) = pi_n A(x, y e^-theta t) exp(y (1 - e^-theta t) - n mu t)``.  Service level
(answered within T among answered) and ASA follow from that tail by integration.
Everything is computed in logarithms, so large ``x`` and ``y`` do not overflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["erlang_b", "erlang_c", "ErlangC", "ErlangA", "erlang_c_metrics", "erlang_a_metrics"]


def erlang_b(n: int, load: float) -> float:
    """Blocking probability of n servers offered ``load`` erlangs (stable recursion)."""
    b = 1.0
    for k in range(1, n + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(n: int, load: float) -> float:
    """Probability of waiting in M/M/n with ``load`` erlangs (1 when load >= n)."""
    if load >= n:
        return 1.0
    b = erlang_b(n, load)
    return n * b / (n - load * (1 - b))


@dataclass(frozen=True)
class ErlangC:
    p_wait: float
    service_level: float     # answered within the threshold / answered
    asa: float               # mean wait of answered calls, seconds
    occupancy: float


@dataclass(frozen=True)
class ErlangA:
    p_wait: float
    p_abandon: float
    service_level: float     # answered within the threshold / answered
    asa: float               # mean wait of answered calls, seconds
    occupancy: float


def erlang_c_metrics(agents: int, calls_per_hour: float, aht: float, threshold: float) -> ErlangC:
    lam, mu = calls_per_hour / 3600.0, 1.0 / aht
    load = lam / mu
    if load >= agents:
        return ErlangC(1.0, 0.0, math.inf, 1.0)
    c = erlang_c(agents, load)
    drain = agents * mu - lam
    return ErlangC(c, 1 - c * math.exp(-drain * threshold), c / drain, load / agents)


def _log_a(x: float, y: float) -> float:
    """log A(x, y) by its series, summed in log space."""
    if y <= 0:
        return 0.0
    log_y = math.log(y)
    terms = [0.0]
    log_term, peak, j = 0.0, 0.0, 0
    while True:
        j += 1
        log_term += log_y - math.log(x + j)
        terms.append(log_term)
        peak = max(peak, log_term)
        # past the peak (x + j > y) the terms fall at least geometrically
        if x + j > y and log_term < peak - 40:
            break
    return peak + math.log(sum(math.exp(t - peak) for t in terms))


def _simpson(f, a: float, b: float, steps: int = 400) -> float:
    if b <= a:
        return 0.0
    h = (b - a) / steps
    total = f(a) + f(b)
    for k in range(1, steps):
        total += (4 if k % 2 else 2) * f(a + k * h)
    return total * h / 3


def erlang_a_metrics(agents: int, calls_per_hour: float, aht: float, patience: float,
                     threshold: float) -> ErlangA:
    lam, mu, theta = calls_per_hour / 3600.0, 1.0 / aht, 1.0 / patience
    n = agents
    x, y = n * mu / theta, lam / theta
    rho = lam / (n * mu)
    e_b = erlang_b(n, lam / mu)
    log_a = _log_a(x, y)
    # P(W > 0) = A pi_n = 1 / ((1/E_B - 1) / A + 1)
    p_wait = 1.0 / (math.exp(math.log(1.0 / e_b - 1.0) - log_a) + 1.0) if e_b < 1 else 1.0
    log_pi_n = math.log(p_wait) - log_a
    p_ab_given_wait = math.exp(-math.log(rho) - log_a) + 1 - 1 / rho
    p_abandon = min(1.0, max(0.0, p_ab_given_wait * p_wait))

    def tail(t: float) -> float:             # P(V > t)
        u = math.exp(-theta * t)
        return math.exp(log_pi_n + _log_a(x, y * u) + y * (1 - u) - n * mu * t)

    served = 1 - p_abandon
    within = 1 - math.exp(-theta * threshold) * tail(threshold) - theta * _simpson(
        lambda v: math.exp(-theta * v) * tail(v), 0.0, threshold)
    horizon = max(threshold, 1.0)
    while tail(horizon) > 1e-12 * max(p_wait, 1e-300) and horizon < 1e7:
        horizon *= 2
    wait_served = _simpson(lambda v: math.exp(-theta * v) * (1 - theta * v) * tail(v), 0.0, horizon, 1000)
    return ErlangA(p_wait, p_abandon, min(1.0, max(0.0, within / served)), wait_served / served,
                   lam * served / (n * mu))
