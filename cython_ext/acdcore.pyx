# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The ACD routing core: who is offered to whom, over compact C arrays.

The Python engine (:mod:`appliance.acd.engine`) owns timers, events and records; it
mirrors the few facts routing needs into this core and asks it two questions:

* ``best_caller(agent)``: an agent has just become free; which waiting caller does it
  take?  Across all the agent's queues: highest queue weight first, then highest
  caller priority, then the caller who joined first (longest wait).  Only callers
  whose penalty window ``[min_penalty, max_penalty]`` holds the agent's penalty in
  that queue, raised to the caller's ``raise_penalty`` if below it (app_queue's
  QUEUE_RAISE_PENALTY), and who are not blocked (being rung, or waiting out ``retry``).
* ``select_agents(caller)``: a caller can be offered; which agents ring, by the
  queue's strategy?  Usable agents only (free, not paused in the queue, penalty in
  the caller's window, device not busy unless the queue rings in use).  Agents this
  caller already rang in the current round go last (a new round starts when every
  usable agent has been tried).

Each queue keeps its callers in one sorted array (priority descending, join order
ascending) with a moving start, so the head is O(1), a join at the tail is O(1), and a
position is a binary search.  Entities are small integers handed out here; the engine
maps its string ids onto them.  Nothing in this module allocates Python objects on
the hot path (``best_caller`` returns an int).
"""
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memmove, memset

__all__ = ["RoutingCore", "STRATEGY_CODES", "NO_LIMIT"]

# Strategy codes; appliance.acd.strategies maps names and aliases onto them.
STRATEGY_CODES = {
    "ringall": 0, "leastrecent": 1, "fewestcalls": 2, "least-talk-time": 3,
    "random": 4, "wrandom": 5, "rrmemory": 6, "rrordered": 7, "linear": 8,
    "ring-progressively": 9,
}
cdef enum:
    S_RINGALL = 0
    S_LEASTRECENT = 1
    S_FEWESTCALLS = 2
    S_LEASTTALK = 3
    S_RANDOM = 4
    S_WRANDOM = 5
    S_RRMEMORY = 6
    S_RRORDERED = 7
    S_LINEAR = 8
    S_RINGPROG = 9

NO_LIMIT = 1 << 30
cdef int C_NO_LIMIT = 1 << 30


cdef struct IntList:
    int *items
    int n
    int cap


cdef int _list_push(IntList *lst, int value) except -1:
    cdef int *grown
    if lst.n == lst.cap:
        grown = <int *>realloc(lst.items, sizeof(int) * (lst.cap * 2 + 4))
        if grown == NULL:
            raise MemoryError()
        lst.items = grown
        lst.cap = lst.cap * 2 + 4
    lst.items[lst.n] = value
    lst.n += 1
    return 0


cdef void _list_remove(IntList *lst, int value):
    cdef int i
    for i in range(lst.n):
        if lst.items[i] == value:
            memmove(&lst.items[i], &lst.items[i + 1], sizeof(int) * (lst.n - i - 1))
            lst.n -= 1
            return


cdef bint _list_has(IntList *lst, int value):
    cdef int i
    for i in range(lst.n):
        if lst.items[i] == value:
            return True
    return False


cdef struct Agent:
    bint free            # logged in, idle (not reserved/ringing/talking/wrap-up), not paused everywhere
    bint device_busy     # busy outside the ACD: only queues with ringinuse may offer
    double last_end      # when its last ACD call ended (leastrecent)
    double talk          # talk seconds so far (least-talk-time)
    IntList members


cdef struct Member:
    int agent
    int queue
    int penalty
    int order            # configured order (linear, rrordered, ring-progressively)
    long long added      # order of addition (rrmemory)
    long long calls      # calls answered in this queue (fewestcalls)
    bint paused          # paused in this queue
    bint alive


cdef struct Queue:
    int weight
    int strategy
    bint ringinuse
    long long rr_last    # key of the member last offered (rrmemory / rrordered)
    IntList members
    int *buf             # caller ids, sorted; live range [start, end)
    int start
    int end
    int cap


cdef struct Caller:
    int queue
    int priority
    long long seq
    int min_penalty       # on members' own penalties, raise included (see _set_window)
    int max_penalty
    int raise_penalty     # members below it rank as if at it (app_queue's QUEUE_RAISE_PENALTY)
    bint blocked
    bint alive
    IntList tried


cdef inline bint _before(Caller *a, Caller *b):
    """True if caller a is served before caller b in the same queue."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return a.seq < b.seq


cdef inline int _raised(int penalty, Caller *cl):
    """A member's penalty as caller ``cl`` sees it: below its raise_penalty counts as at it."""
    return penalty if penalty >= cl.raise_penalty else cl.raise_penalty


cdef inline void _set_window(Caller *cl, int min_penalty, int max_penalty, int raise_penalty):
    """Store the caller's window as a test on members' own penalties that admits exactly
    those whose raised penalty is in ``[min_penalty, max_penalty]``, so the hot loops
    compare without raising: a raise inside the window lets every lower member in; a raise
    above it shuts the window."""
    cl.raise_penalty = raise_penalty
    if raise_penalty < min_penalty:
        cl.min_penalty, cl.max_penalty = min_penalty, max_penalty
    elif raise_penalty <= max_penalty:
        cl.min_penalty, cl.max_penalty = 0, max_penalty
    else:
        cl.min_penalty, cl.max_penalty = C_NO_LIMIT, 0


cdef class RoutingCore:
    """Compact routing state plus the two routing decisions (see the module doc)."""

    cdef Agent *agents
    cdef int n_agents, cap_agents
    cdef Member *members
    cdef int n_members, cap_members
    cdef Queue *queues
    cdef int n_queues, cap_queues
    cdef Caller *callers
    cdef int n_callers, cap_callers
    cdef IntList free_callers
    cdef long long member_seq
    cdef unsigned long long rng
    cdef IntList scratch

    def __cinit__(self, unsigned long long seed=0x9E3779B97F4A7C15):
        self.rng = seed or 0x9E3779B97F4A7C15

    def __dealloc__(self):
        cdef int i
        for i in range(self.n_agents):
            free(self.agents[i].members.items)
        for i in range(self.n_queues):
            free(self.queues[i].members.items)
            free(self.queues[i].buf)
        for i in range(self.n_callers):
            free(self.callers[i].tried.items)
        free(self.agents)
        free(self.members)
        free(self.queues)
        free(self.callers)
        free(self.free_callers.items)
        free(self.scratch.items)

    cdef void *_grow(self, void *ptr, int *cap, int need, size_t size) except NULL:
        cdef int new_cap
        cdef void *grown
        if need <= cap[0] and ptr != NULL:
            return ptr
        new_cap = cap[0] * 2 + 8
        if new_cap < need:
            new_cap = need
        grown = realloc(ptr, size * new_cap)
        if grown == NULL:
            raise MemoryError()
        memset(<char *>grown + size * cap[0], 0, size * (new_cap - cap[0]))
        cap[0] = new_cap
        return grown

    cdef unsigned long long _random(self):
        # xorshift64*: deterministic per seed, so simulations repeat exactly.
        self.rng ^= self.rng >> 12
        self.rng ^= self.rng << 25
        self.rng ^= self.rng >> 27
        return self.rng * 2685821657736338717ULL

    # ---- structure -------------------------------------------------------------------

    def add_queue(self, int weight, int strategy, bint ringinuse):
        """A new queue; returns its id."""
        if strategy < 0 or strategy > S_RINGPROG:
            raise ValueError(f"unknown strategy code {strategy}")
        self.queues = <Queue *>self._grow(self.queues, &self.cap_queues, self.n_queues + 1, sizeof(Queue))
        cdef Queue *q = &self.queues[self.n_queues]
        q.weight = weight
        q.strategy = strategy
        q.ringinuse = ringinuse
        q.rr_last = -1
        self.n_queues += 1
        return self.n_queues - 1

    def set_queue(self, int q, int weight, int strategy, bint ringinuse):
        self._check_queue(q)
        self.queues[q].weight = weight
        self.queues[q].strategy = strategy
        self.queues[q].ringinuse = ringinuse

    def add_agent(self):
        """A new agent (not free until ``set_agent``); returns its id."""
        self.agents = <Agent *>self._grow(self.agents, &self.cap_agents, self.n_agents + 1, sizeof(Agent))
        self.agents[self.n_agents].last_end = -1e300
        self.n_agents += 1
        return self.n_agents - 1

    def set_agent(self, int a, bint free, bint device_busy):
        self._check_agent(a)
        self.agents[a].free = free
        self.agents[a].device_busy = device_busy

    def set_agent_history(self, int a, double last_end, double talk):
        """What leastrecent and least-talk-time look at."""
        self._check_agent(a)
        self.agents[a].last_end = last_end
        self.agents[a].talk = talk

    def add_member(self, int a, int q, int penalty, int order):
        """Agent ``a`` serves queue ``q`` with ``penalty``; returns the membership id."""
        self._check_agent(a)
        self._check_queue(q)
        if penalty < 0:
            raise ValueError("penalty must be >= 0")
        self.members = <Member *>self._grow(self.members, &self.cap_members, self.n_members + 1, sizeof(Member))
        cdef int m = self.n_members
        cdef Member *mem = &self.members[m]
        mem.agent = a
        mem.queue = q
        mem.penalty = penalty
        mem.order = order
        mem.added = self.member_seq
        self.member_seq += 1
        mem.calls = 0
        mem.paused = False
        mem.alive = True
        _list_push(&self.agents[a].members, m)
        _list_push(&self.queues[q].members, m)
        self.n_members += 1
        return m

    def remove_member(self, int m):
        self._check_member(m)
        cdef Member *mem = &self.members[m]
        _list_remove(&self.agents[mem.agent].members, m)
        _list_remove(&self.queues[mem.queue].members, m)
        mem.alive = False

    def set_member(self, int m, int penalty, bint paused, long long calls):
        self._check_member(m)
        if penalty < 0:
            raise ValueError("penalty must be >= 0")
        self.members[m].penalty = penalty
        self.members[m].paused = paused
        self.members[m].calls = calls

    def set_member_paused(self, int m, bint paused):
        self._check_member(m)
        self.members[m].paused = paused

    def count_call(self, int m):
        """One more call answered through membership ``m`` (fewestcalls)."""
        self._check_member(m)
        self.members[m].calls += 1

    # ---- callers ---------------------------------------------------------------------

    def add_caller(self, int q, int priority, long long seq, int min_penalty, int max_penalty,
                   int raise_penalty=0):
        """Queue a caller; ``seq`` orders equal priorities (smaller joined first).  A
        member below ``raise_penalty`` counts as at it, for the window and the ranking."""
        self._check_queue(q)
        cdef int c
        if self.free_callers.n:
            self.free_callers.n -= 1
            c = self.free_callers.items[self.free_callers.n]
        else:
            self.callers = <Caller *>self._grow(self.callers, &self.cap_callers, self.n_callers + 1, sizeof(Caller))
            c = self.n_callers
            self.n_callers += 1
        cdef Caller *cl = &self.callers[c]
        cl.queue = q
        cl.priority = priority
        cl.seq = seq
        _set_window(cl, min_penalty, max_penalty, raise_penalty)
        cl.blocked = False
        cl.alive = True
        cl.tried.n = 0
        self._insert(c)
        return c

    def remove_caller(self, int c):
        self._check_caller(c)
        self._unlink(c)
        self.callers[c].alive = False
        _list_push(&self.free_callers, c)

    def set_priority(self, int c, int priority):
        self._check_caller(c)
        self._unlink(c)
        self.callers[c].priority = priority
        self._insert(c)

    def set_penalty_window(self, int c, int min_penalty, int max_penalty, int raise_penalty=0):
        self._check_caller(c)
        _set_window(&self.callers[c], min_penalty, max_penalty, raise_penalty)

    def set_blocked(self, int c, bint blocked):
        self._check_caller(c)
        self.callers[c].blocked = blocked

    def mark_tried(self, int c, int a):
        self._check_caller(c)
        if not _list_has(&self.callers[c].tried, a):
            _list_push(&self.callers[c].tried, a)

    def position(self, int c):
        """1-based place of caller ``c`` in its queue."""
        self._check_caller(c)
        cdef Queue *q = &self.queues[self.callers[c].queue]
        return self._find(q, c) - q.start + 1

    def length(self, int q):
        self._check_queue(q)
        return self.queues[q].end - self.queues[q].start

    def callers_of(self, int q):
        """Caller ids of queue ``q`` in service order."""
        self._check_queue(q)
        cdef Queue *qu = &self.queues[q]
        return [qu.buf[i] for i in range(qu.start, qu.end)]

    cdef int _find(self, Queue *q, int c) except -1:
        cdef int lo = q.start, hi = q.end, mid
        cdef Caller *target = &self.callers[c]
        while lo < hi:
            mid = (lo + hi) >> 1
            if _before(&self.callers[q.buf[mid]], target):
                lo = mid + 1
            else:
                hi = mid
        if lo >= q.end or q.buf[lo] != c:
            raise RuntimeError(f"caller {c} is not in its queue")
        return lo

    cdef int _insert(self, int c) except -1:
        cdef Caller *cl = &self.callers[c]
        cdef Queue *q = &self.queues[cl.queue]
        cdef int lo, hi, mid, length
        if q.end == q.cap:
            length = q.end - q.start
            if q.start > 0 and q.start >= q.cap // 4:
                memmove(q.buf, &q.buf[q.start], sizeof(int) * length)
                q.start = 0
                q.end = length
            else:
                q.buf = <int *>self._grow(q.buf, &q.cap, q.cap + 1, sizeof(int))
        # Fast path: most callers join behind everyone.
        if q.end == q.start or _before(&self.callers[q.buf[q.end - 1]], cl):
            q.buf[q.end] = c
            q.end += 1
            return 0
        lo = q.start
        hi = q.end
        while lo < hi:
            mid = (lo + hi) >> 1
            if _before(&self.callers[q.buf[mid]], cl):
                lo = mid + 1
            else:
                hi = mid
        memmove(&q.buf[lo + 1], &q.buf[lo], sizeof(int) * (q.end - lo))
        q.buf[lo] = c
        q.end += 1
        return 0

    cdef int _unlink(self, int c) except -1:
        cdef Queue *q = &self.queues[self.callers[c].queue]
        cdef int i = self._find(q, c)
        if i == q.start:
            q.start += 1
        else:
            memmove(&q.buf[i], &q.buf[i + 1], sizeof(int) * (q.end - i - 1))
            q.end -= 1
        if q.start == q.end:
            q.start = 0
            q.end = 0
        return 0

    # ---- decisions -------------------------------------------------------------------

    cdef inline bint _usable(self, Member *mem, Agent *ag):
        return ag.free and not mem.paused and (not ag.device_busy or self.queues[mem.queue].ringinuse)

    cdef int _best_caller(self, int a):
        cdef Agent *ag = &self.agents[a]
        cdef Member *mem
        cdef Queue *q
        cdef Caller *cl
        cdef Caller *best_cl = NULL
        cdef int best = -1, best_weight = 0, i, j, c, pen
        if not ag.free:
            return -1
        for i in range(ag.members.n):
            mem = &self.members[ag.members.items[i]]
            if not self._usable(mem, ag):
                continue
            q = &self.queues[mem.queue]
            if best >= 0 and q.weight < best_weight:
                continue
            pen = mem.penalty
            for j in range(q.start, q.end):
                c = q.buf[j]
                cl = &self.callers[c]
                if cl.blocked or pen < cl.min_penalty or pen > cl.max_penalty:
                    continue
                if (best < 0 or q.weight > best_weight
                        or (q.weight == best_weight and _before(cl, best_cl))):
                    best = c
                    best_cl = cl
                    best_weight = q.weight
                break
        return best

    def best_caller(self, int a):
        """The caller agent ``a`` takes now, or -1 (see the module doc for the order)."""
        self._check_agent(a)
        return self._best_caller(a)

    def select_agents(self, int c):
        """Agent ids to offer caller ``c`` to now, by its queue's strategy (may be empty).

        ringall returns every usable agent at the best penalty; every other strategy
        returns at most one agent.  A fresh round (tried list cleared) starts when all
        usable agents have been tried.
        """
        self._check_caller(c)
        cdef Caller *cl = &self.callers[c]
        cdef Queue *q = &self.queues[cl.queue]
        cdef Member *mem
        cdef Agent *ag
        cdef int i, m, n_usable = 0, n_untried = 0, best_m = -1, strategy = q.strategy, penalty
        cdef double k1, k2, k3, b1 = 0, b2 = 0, b3 = 0
        cdef long long key
        cdef bint untried_only
        self.scratch.n = 0
        for i in range(q.members.n):
            m = q.members.items[i]
            mem = &self.members[m]
            ag = &self.agents[mem.agent]
            if not self._usable(mem, ag):
                continue
            if mem.penalty < cl.min_penalty or mem.penalty > cl.max_penalty:
                continue
            _list_push(&self.scratch, m)
            if not _list_has(&cl.tried, mem.agent):
                n_untried += 1
        n_usable = self.scratch.n
        if n_usable == 0:
            return []
        if n_untried == 0:
            cl.tried.n = 0           # every usable agent had its turn: a new round
        untried_only = True
        for i in range(n_usable):
            m = self.scratch.items[i]
            mem = &self.members[m]
            ag = &self.agents[mem.agent]
            if cl.tried.n and _list_has(&cl.tried, mem.agent):
                continue
            penalty = _raised(mem.penalty, cl)
            k2 = 0
            k3 = mem.order
            if strategy == S_RINGALL:
                k1 = penalty
            elif strategy == S_LINEAR or strategy == S_RINGPROG:
                k1 = penalty
                k2 = mem.order
            elif strategy == S_RRMEMORY or strategy == S_RRORDERED:
                key = mem.added if strategy == S_RRMEMORY else mem.order
                k1 = penalty
                k2 = 1 if key <= q.rr_last else 0      # wrapped past the last offered
                k3 = key
            elif strategy == S_LEASTRECENT:
                k1 = penalty
                k2 = ag.last_end
            elif strategy == S_FEWESTCALLS:
                k1 = penalty
                k2 = mem.calls
            elif strategy == S_LEASTTALK:
                k1 = penalty
                k2 = ag.talk
            elif strategy == S_RANDOM:
                k1 = penalty
                k2 = self._random() % 1000
            else:  # S_WRANDOM: app_queue's metric, random % ((1 + penalty) * 1000)
                k1 = self._random() % ((1 + <unsigned long long>penalty) * 1000)
            if (best_m < 0 or k1 < b1 or (k1 == b1 and (k2 < b2 or (k2 == b2 and k3 < b3)))):
                best_m = m
                b1 = k1
                b2 = k2
                b3 = k3
        if strategy == S_RINGALL:
            result = []
            for i in range(n_usable):
                mem = &self.members[self.scratch.items[i]]
                penalty = _raised(mem.penalty, cl)
                if penalty == <int>b1 and not (cl.tried.n and _list_has(&cl.tried, mem.agent)):
                    result.append(mem.agent)
            return result
        if strategy == S_RRMEMORY or strategy == S_RRORDERED:
            q.rr_last = <long long>b3
        return [self.members[best_m].agent]

    def churn(self, int[:] agent_ids, long long rounds, long long first_seq):
        """Benchmark kernel: each round, the next agent takes its best caller, who is
        requeued as a new arrival at the tail.  Returns the decisions made."""
        cdef long long r, decisions = 0, seq = first_seq
        cdef int n = agent_ids.shape[0], a, c, q, lo, hi
        cdef Caller *cl
        for r in range(rounds):
            a = agent_ids[r % n]
            c = self._best_caller(a)
            decisions += 1
            if c < 0:
                continue
            self._unlink(c)
            self.callers[c].seq = seq
            seq += 1
            self._insert(c)
        return decisions

    # ---- checks ----------------------------------------------------------------------

    cdef int _check_agent(self, int a) except -1:
        if a < 0 or a >= self.n_agents:
            raise IndexError(f"no agent {a}")
        return 0

    cdef int _check_queue(self, int q) except -1:
        if q < 0 or q >= self.n_queues:
            raise IndexError(f"no queue {q}")
        return 0

    cdef int _check_member(self, int m) except -1:
        if m < 0 or m >= self.n_members or not self.members[m].alive:
            raise IndexError(f"no member {m}")
        return 0

    cdef int _check_caller(self, int c) except -1:
        if c < 0 or c >= self.n_callers or not self.callers[c].alive:
            raise IndexError(f"no caller {c}")
        return 0
