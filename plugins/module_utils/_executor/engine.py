# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine: runs a plan's action graph as the plan says, and never faster.

Each action starts the moment every action in its ``after`` is done (graphlib's ready set), in a
thread of a pool, and never more at once than the plan has: when real durations drift from the
predicted ones so that more would run at once, the action planned to start first goes first. Every event
goes to the journal as it happens; the live state is read (concurrently) and checked before
anything acts; a failed action's dependents are not run, so a host keeps every VM that could not
leave it and is never powered off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import queue
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from graphlib import TopologicalSorter

from ansible_collections.wavedrain.kvm.plugins.module_utils._executor import live as live_state
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.backend import ActionError
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.journal import summarize
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.report import max_in_flight, run_report

# job statistics fetched at once (one virsh call each): enough to keep up with the migrations'
# ends over a run, few enough that they never compete with the actions for the controller's CPU
STATISTICS_LANE = 2


def describe(a):
    """What an action does, in words: 'vm1 h1 -> h3' or 'h3'."""
    if a["type"] == "migrate":
        return "%s %s -> %s" % (a["vm"], a["source"], a["destination"])
    return a["host"]


def _predicted(a):
    if a.get("start_s") is None or a.get("end_s") is None:
        return None
    return a["end_s"] - a["start_s"]


class RunResult:
    def __init__(self):
        self.refused = []       # reasons not to start at all (nothing was touched)
        self.failed = {}        # id -> message
        self.blocked = []       # ids not run because they depend on a failure
        self.report = None
        self.failed_boots = []  # hosts whose power_on failed (replan candidates)
        self.end_state = []     # VMs this run moved that do not run on their destination at the end

    @property
    def ok(self):
        return not (self.refused or self.failed or self.blocked or self.end_state)


class Engine:
    """One run of one plan. ``emit(line, verbosity)`` prints a progress line."""

    def __init__(self, plan, backend, settings, selected=None, journal=None, emit=None):
        self.plan = plan
        self.actions = plan["actions"]
        self.by_id = {a["id"]: a for a in self.actions}
        self.backend = backend
        self.settings = settings
        self.selected = set(self.by_id) if selected is None else set(selected)
        self.journal = journal
        self.emit = emit or (lambda line, verbosity=0: None)
        self.results = {}
        self.in_flight = set()  # actions a killed run left running: verified before they go on
        self.t0 = None

    # -- before acting ---------------------------------------------------------------------
    def prepare(self):
        """Read the journal and the live state; returns (done ids, refusals)."""
        done, in_flight = summarize(self.journal.read()) if self.journal else ({}, set())
        hosts = sorted({h for a in self.actions for h in (a.get("host"), a.get("source"), a.get("destination")) if h})
        t = time.monotonic()
        self.live = live_state.scan(self.backend.virsh, self.backend.uris(hosts), self.settings.scan_workers)
        self.emit("live state of %d hosts read in %.1f s (%d answer)"
                  % (len(hosts), time.monotonic() - t, sum(1 for v in self.live.values() if v is not None)), 1)
        for a in self.actions:  # a boot is done while its host answers, whatever the journal says
            if a["type"] == "power_on" and self.live.get(a["host"]) is None:
                done.pop(a["id"], None)
        for aid, outcome in live_state.done_from_live(self.actions, self.live).items():
            done.setdefault(aid, outcome)
        self.in_flight = in_flight - set(done)
        for aid in sorted(self.in_flight):
            self.emit("%s was in flight when the last run stopped: its state is verified again before it "
                      "continues (%s)" % (aid, describe(self.by_id[aid])))
        todo = [self.by_id[aid] for aid in self.selected if aid not in done]
        reasons = live_state.refusals(todo, self.live, self.in_flight)
        for a in todo:
            for dep in a.get("after", []):
                if dep not in done and dep not in self.selected:
                    reasons.append("%s depends on %s (wave %s), which is neither done nor selected: run "
                                   "that wave first" % (a["id"], dep, self.by_id[dep].get("wave")))
        reasons += self._access_problems(todo)
        return done, reasons

    def _access_problems(self, todo):
        out = []
        for host in sorted({a["host"] for a in todo if a["type"] != "migrate"}):
            bmc = self.backend.hosts[host].bmc
            out += bmc.problems() if bmc else ["host %s: no BMC settings (wavedrain_bmc_*)" % host]
        return out

    # -- acting ----------------------------------------------------------------------------
    def run(self, check_mode=False):
        result = RunResult()
        done, result.refused = self.prepare()
        if result.refused:
            return result
        if check_mode:
            for a in self.actions:
                state = "already done" if a["id"] in done else (
                    "not selected" if a["id"] not in self.selected else "would " + self.verb(a))
                self.emit("wave %s %s: %s" % (a.get("wave"), a["id"], state))
            return result
        self._execute(done, result)
        checked, result.end_state = self._end_state_problems()
        result.report = run_report(self.plan, self.results, self.t0, self.selected)
        result.report["summary"]["end_state"] = {"vms_checked": checked, "problems": result.end_state}
        if self.journal:
            self.journal.write("run_end", ok=result.ok, failed=sorted(result.failed), blocked=result.blocked,
                               end_state=result.end_state)
        return result

    def _end_state_problems(self):
        """(number of VMs checked, problems): every VM this run moved must run on its destination
        once the run is over. libvirt's success is checked once more against the hypervisors, so
        that a guest that stopped or paused after its move is reported, never silently counted."""
        moved = [a for a in self.actions if a["type"] == "migrate"
                 and self.results.get(a["id"], {}).get("outcome") in ("migrated", "non_live")]
        if not moved:
            return 0, []
        live = live_state.scan(self.backend.virsh, self.backend.uris({a["destination"] for a in moved}),
                               self.settings.scan_workers)
        problems = []
        for a in moved:
            domains = live.get(a["destination"])
            if domains is None:
                now = "cannot be checked there: its libvirt does not answer"
            elif domains.get(a["vm"]) != "running":
                now = "is %s there" % (domains.get(a["vm"]) or "not defined")
            else:
                continue
            problems.append("%s: %s was moved to %s but %s; look at it with virsh -c %s list --all"
                            % (a["id"], a["vm"], a["destination"], now, self.backend.hosts[a["destination"]].uri))
        for line in problems:
            self.emit("END STATE: " + line)
        return len(moved), problems

    @staticmethod
    def verb(a):
        if a["type"] == "power_on":
            return "boot %s through its BMC, wait for its libvirt" % a["host"]
        if a["type"] == "power_off":
            return "power off %s through its BMC if it holds no domain" % a["host"]
        cap = " (at most %s Mbit/s)" % a["bandwidth_mbps"] if a.get("bandwidth_mbps") else ""
        return "live-migrate %s from %s to %s%s" % (a["vm"], a["source"], a["destination"], cap)

    def _execute(self, done, result):
        """Run the selected actions. The thread whose action ends does the bookkeeping itself (under
        one lock) and goes on with an action that became ready, handing the others to idle threads:
        a chain of migrations on one lane runs on one thread without a wake-up between its links,
        where a dispatching thread would have to be woken (and get the CPU and the GIL) at every end.
        Under the lock the bookkeeping only notes its journal events, which the thread writes once
        it has let the lock go (see _write_noted), and queues its progress lines for a printing
        thread: no other thread's end waits behind a write, and no action's start behind a print
        (Ansible's display goes through a queue to another process, and a terminal or AWX may be slow)."""
        self._graph = TopologicalSorter({aid: [d for d in self.by_id[aid].get("after", []) if d in self.selected]
                                         for aid in self.selected})
        self._graph.prepare()
        self._done_before, self._result = done, result
        self._lock, self._settled, self._crash = threading.Lock(), threading.Event(), []
        self._running, self._fetching = 0, {}  # actions running; statistics future -> action id
        self._noted = []  # journal events noted under the lock, not yet written
        # never more at once than the plan (a plan without predicted times: no limit but the graph)
        self._room = self._planned_in_flight(done) or max(1, len(self.selected))
        self._queued, self._order = [], {aid: i for i, aid in enumerate(self.by_id)}  # ready, no room yet
        self._lines = queue.SimpleQueue()
        printer = threading.Thread(target=self._print_lines, name="progress")
        printer.start()
        try:
            self._run_pools(done)
        finally:
            self._lines.put(None)
            printer.join()
        if self._crash:
            raise self._crash[0]

    def _run_pools(self, done):
        # the job statistics have a lane of their own, a few at a time at a lower CPU priority:
        # no action waits for them, and a burst of them does not crowd out the actions' calls
        # a thread may still be writing the journal after its action's end let another start:
        # room beyond the plan's concurrency for those moments, never used by more actions
        with ThreadPoolExecutor(max_workers=max(1, len(self.selected))) as self._pool, \
                ThreadPoolExecutor(max_workers=STATISTICS_LANE, thread_name_prefix="statistics") as self._lane:
            _prestart(self._pool, self._room)
            _prestart(self._lane, STATISTICS_LANE)
            self.t0 = time.time()
            self.progress = _Progress(self, done)
            if self.journal:
                self.journal.write("run_start", plan_digest=self.journal.digest, selected=sorted(self.selected),
                                   done_before=sorted(done))
            with self._lock:
                ready = self._hand_over(self._admit(self._feed()))
                if not self._running:
                    self._settled.set()
                noted = self._take_noted()
            self._write_noted(noted)
            for a in ready:
                self._pool.submit(self._run_from, a)
            try:
                while not self._settled.wait(self.progress.wait_s()):
                    with self._lock:
                        self.progress.tick(self._running)
            except BaseException as exc:  # Ctrl-C: nothing more starts; what runs ends first
                self._crash.append(exc)
                raise
            self._drain_statistics()
        # leaving the pools drained the statistics lane: the report has every jobinfo

    def _run_from(self, a):
        """Run ``a``, then, on this same thread, one of the actions its end made ready, and so on."""
        try:
            while a is not None:
                outcome = self._act(a)
                with self._lock:
                    ready = self._settle(a, outcome)
                    noted = self._take_noted()
                self._write_noted(noted)  # before any of ``ready`` runs: its start is on disk first
                for other in ready[1:]:
                    self._pool.submit(self._run_from, other)
                a = ready[0] if ready else None
        except BaseException as exc:  # pylint: disable=broad-except
            # a bug in the bookkeeping must not leave the run waiting forever: the run fails with it
            self._crash.append(exc)
            self._settled.set()

    def _settle(self, a, outcome):
        """Under the lock: record ``a``'s end; returns the actions that start now (this thread
        goes on with the first)."""
        aid = a["id"]
        self._running -= 1
        self._finish(aid, outcome)
        self._graph.done(aid)
        if self.settings.migration_statistics and self.results[aid].get("outcome") == "migrated" \
                and "jobinfo" not in self.results[aid]:  # queued now, it runs after what follows
            self._fetching[self._lane.submit(self._fetch_statistics, aid)] = aid
        ready = [] if self._crash else self._hand_over(self._admit(self._feed()))
        if not self._running:  # the last: the run is over once the statistics lane is drained
            self._settled.set()
        return ready

    def _note(self, event, **fields):
        """Under the lock: a journal event to write once the lock is let go."""
        if self.journal:
            self._noted.append((event, fields))

    def _take_noted(self):
        noted, self._noted = self._noted, []
        return noted

    def _write_noted(self, noted):
        """Outside the lock, in one append. A thread writes an action's start before the action
        runs, and its end before what that end made ready runs; ends written by different threads
        may land in either order, which resume does not mind (it verifies every action that was
        in flight against the live state)."""
        if noted:
            self.journal.write_many(noted)

    def _line(self, line, verbosity=0):
        """Under the lock: a progress line for the printing thread (in the order of the events)."""
        self._lines.put((line, verbosity))

    def _print_lines(self):
        for line in iter(self._lines.get, None):
            self.emit(*line)

    def _planned_in_flight(self, done):
        """How many of the selected actions left the plan runs at once (None when one of them has
        no predicted times: the plan then says nothing about it)."""
        spans = [(self.by_id[aid].get("start_s"), self.by_id[aid].get("end_s")) for aid in self.selected
                 if aid not in done]
        if any(start is None or end is None for start, end in spans):
            return None
        return max_in_flight(spans)

    def _feed(self):
        """The ready actions to start; those already done or blocked are settled at once."""
        ready, starting = list(self._graph.get_ready()), []
        while ready:
            later = []
            for aid in ready:
                a = self.by_id[aid]
                if aid in self._done_before:
                    self.results[aid] = {"outcome": "done_before"}
                    self.progress.settled(a)
                elif any(d in self._result.failed or d in self._result.blocked for d in a.get("after", [])):
                    self._result.blocked.append(aid)
                    self.results[aid] = {"outcome": "not_run", "message": "depends on a failed action"}
                    self.progress.settled(a)
                else:
                    starting.append(a)
                    continue
                self._graph.done(aid)
                later += self._graph.get_ready()
            ready = later
        return starting

    def _admit(self, ready):
        """Of the ready actions (these and those queued before), the ones the plan's concurrency
        leaves room for now, planned start first."""
        for a in ready:
            start = a.get("start_s")
            heapq.heappush(self._queued, (float("inf") if start is None else start, self._order[a["id"]], a))
        room = self._room - self._running
        return [heapq.heappop(self._queued)[2] for dummy in range(min(room, len(self._queued)))]

    def _hand_over(self, actions):
        """Journal the start of every action of ``actions`` (a burst: hundreds of boots at the
        start) before their lines are printed, so the last does not wait for the others' lines."""
        for a in actions:
            now = time.time()
            self.results[a["id"]] = {"start": now, "ready_s": round(now - self.t0, 3)}
            self._note("start", id=a["id"])
        self._running += len(actions)
        for a in actions:
            self.progress.started(a)
        return actions

    def _act(self, a):
        start = time.time()
        try:
            return start, self.backend.run(a, careful=a["id"] in self.in_flight), None, time.time()
        except ActionError as exc:
            return start, exc.details, str(exc), time.time()
        except Exception as exc:  # pylint: disable=broad-except
            # a bug must not leave the graph waiting: the action fails, its dependents do not run
            return start, None, "internal error: %s: %s" % (type(exc).__name__, exc), time.time()

    def _finish(self, aid, outcome):
        start, out, error, end = outcome
        r = self.results[aid]
        r.update(start=start, end=end)
        if error:
            r.update(out or {})
            r.update(outcome="failed", message=error)
            self._result.failed[aid] = error
            if self.by_id[aid]["type"] == "power_on":
                self._result.failed_boots.append(self.by_id[aid]["host"])
        else:
            r.update(out)
            if self.by_id[aid]["type"] == "migrate":
                r["non_live"] = r["outcome"] == "non_live"
        self._note("end", id=aid, **{k: v for k, v in r.items() if k not in ("start", "end")})
        self.progress.finished(self.by_id[aid], r)

    def _drain_statistics(self):
        """Once every action has settled, nothing waits for the CPU: the statistics still queued
        in the lane are fetched scan_workers at a time, at the normal priority."""
        with self._lock:
            queued = [aid for future, aid in self._fetching.items() if future.cancel()]
        if queued:
            with ThreadPoolExecutor(max_workers=min(self.settings.scan_workers, len(queued))) as drain:
                for dummy in drain.map(lambda aid: self._fetch_statistics(aid, now=True), queued):
                    pass

    def _fetch_statistics(self, aid, now=False):
        """In the statistics lane: libvirt's figures of a finished migration, into its result."""
        try:
            jobinfo = self.backend.job_statistics(self.by_id[aid], now=now)
        except Exception as exc:  # pylint: disable=broad-except
            jobinfo = {"raw": {}, "error": "%s: %s" % (type(exc).__name__, exc)}  # the migration is done
        with self._lock:
            self.results[aid]["jobinfo"] = jobinfo
        if self.journal:
            self.journal.write("statistics", id=aid, jobinfo=jobinfo)


def _prestart(pool, workers):
    """Start ``workers`` threads of ``pool`` before the run: a thread started while actions run
    makes the dispatching thread wait until the new thread runs (Thread.start), which on a loaded
    controller delayed the last of 288 boots ready at once by seconds. Idle threads are reused."""
    gate = threading.Event()
    parked = [pool.submit(gate.wait) for dummy in range(workers)]
    gate.set()
    for future in parked:
        future.result()


class _Progress:
    """The live lines: action start/end, wave start/end, and every progress_interval_s a summary."""

    def __init__(self, engine, done):
        self.e = engine
        self.emit = engine._line  # pylint: disable=protected-access
        sel = [engine.by_id[aid] for aid in engine.selected]
        self.total = len(sel)
        self.count = 0
        self.wave_left = {}
        for a in sel:
            self.wave_left[a.get("wave")] = self.wave_left.get(a.get("wave"), 0) + 1
        self.waves = sorted(self.wave_left, key=lambda w: (w is None, w))
        self.started_waves = set()
        pending = [a for a in sel if a["id"] not in done and a.get("start_s") is not None]
        # predicted times count from the plan's start; a resumed run starts later in the plan
        self.offset = min((a["start_s"] for a in pending), default=0)
        self.predicted_end = max((a["end_s"] for a in pending if a.get("end_s") is not None), default=None)
        self.lateness = []
        self.next_line = time.monotonic() + engine.settings.progress_interval_s

    def wait_s(self):
        return max(0.0, self.next_line - time.monotonic())

    def _wave_started(self, a):
        w = a.get("wave")
        if w not in self.started_waves:
            self.started_waves.add(w)
            self.emit("wave %s of %s started (%d actions)" % (w, len(self.waves), self.wave_left[w]))

    def settled(self, a):
        """``a`` is finished, whatever its outcome: count it, and end its wave when it was the last."""
        self.count += 1
        w = a.get("wave")
        self.wave_left[w] -= 1
        if self.wave_left[w] == 0:
            self._wave_started(a)
            self.emit("wave %s of %s ended (%d of %d actions done)" % (w, len(self.waves), self.count, self.total))

    def started(self, a):
        self._wave_started(a)
        pred = _predicted(a)
        self.emit("start %s: %s%s" % (a["id"], describe(a), " (predicted %.1f s)" % pred if pred is not None else ""))

    def finished(self, a, r):
        took = r["end"] - r["start"]
        pred = _predicted(a)
        vs = " vs %.1f s predicted" % pred if pred is not None else ""
        if r["outcome"] == "failed":
            self.emit("FAILED %s: %s after %.1f s: %s" % (a["id"], describe(a), took, r["message"]))
        else:
            self.emit("done %s: %s %s in %.1f s%s" % (a["id"], describe(a), r["outcome"], took, vs))
            if a.get("end_s") is not None:
                self.lateness.append((r["end"] - self.e.t0) - (a["end_s"] - self.offset))
        self.settled(a)

    def tick(self, running):
        if time.monotonic() < self.next_line:
            return
        self.next_line = time.monotonic() + self.e.settings.progress_interval_s
        elapsed = time.time() - self.e.t0
        line = "progress: %d of %d done, %d running, %.0f s elapsed" % (self.count, self.total, running, elapsed)
        if self.lateness and self.predicted_end is not None:
            late = statistics.median(self.lateness[-20:])
            eta = max(0.0, self.predicted_end - self.offset + late - elapsed)
            line += ", ETA %.0f s, %.0f s %s plan" % (eta, abs(late), "behind" if late > 0 else "ahead of")
        self.emit(line)
