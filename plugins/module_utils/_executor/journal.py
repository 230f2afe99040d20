# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run journal: one JSON event per line, appended and flushed as it happens, so a controller
killed at any instant leaves a journal that tells what finished and what was in flight.
A lock file next to it lets one run at a time work on a plan (flock: released by the kernel when
the process dies, so a killed run never leaves a stale lock)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import json
import os
import threading
import time

_ENCODER = json.JSONEncoder(default=str)  # one for every event: thousands a minute at scale
DONE_OUTCOMES = ("booted", "already_on", "migrated", "non_live", "already_done", "halted",
                 "already_off", "done_before")


class JournalError(Exception):
    pass


def plan_digest(plan):
    """Identifies the plan a journal belongs to: the action graph, not the predictions."""
    graph = [(a.get("id"), a.get("type"), a.get("host"), a.get("vm"), a.get("source"),
              a.get("destination"), sorted(a.get("after", []))) for a in plan.get("actions", [])]
    return hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest()[:16]


class Journal:
    def __init__(self, path, digest):
        self.path = path
        self.digest = digest
        self._lock_fd = None
        self._file = None
        self._appending = threading.Lock()  # the engine's threads append side by side
        self.write_error = None  # the first failed write (disk full...): the run goes on

    def lock(self):
        lock_path = self.path + ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError("cannot create the run lock %s: %s (set wavedrain_journal_file to a "
                               "writable path)" % (lock_path, exc))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 200).decode(errors="replace").strip()
            os.close(fd)
            raise JournalError("another run of this plan is in progress (%s; lock %s): wait for it to "
                               "end, or stop it - a new run resumes where it stopped" % (holder or "unknown", lock_path))
        os.ftruncate(fd, 0)
        os.write(fd, ("pid %d since %s" % (os.getpid(), time.strftime("%Y-%m-%d %H:%M:%S"))).encode())
        self._lock_fd = fd

    def read(self):
        """Events of earlier runs of the same plan (other plans' events are ignored)."""
        events = []
        try:
            with open(self.path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return events
        except OSError as exc:
            raise JournalError("cannot read the run journal %s: %s" % (self.path, exc))
        current = None
        for line in lines:
            try:
                ev = json.loads(line)
            except ValueError:
                continue  # a line cut by a killed run
            if not isinstance(ev, dict):
                continue
            if ev.get("event") == "run_start":
                current = ev.get("plan_digest")
            if current == self.digest:
                events.append(ev)
        return events

    def open(self):
        try:
            self._file = open(self.path, "a", buffering=1)
        except OSError as exc:
            raise JournalError("cannot write the run journal %s: %s (set wavedrain_journal_file to a "
                               "writable path)" % (self.path, exc))

    def write(self, event, **fields):
        self.write_many([(event, fields)])

    def write_many(self, events):
        """Append [(event, fields)] in one write, flushed (not fsynced: a killed controller's
        last lines are in the page cache; a power cut may lose them, which resume tolerates)."""
        now = round(time.time(), 3)
        text = "".join(_ENCODER.encode(dict(fields, t=now, event=event)) + "\n" for event, fields in events)
        with self._appending:
            try:
                self._file.write(text)
                self._file.flush()
            except OSError as exc:  # resume then relies on the live state alone
                self.write_error = self.write_error or "cannot append to the run journal %s: %s" % (self.path, exc)

    def close(self):
        if self._file:
            self._file.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def summarize(events):
    """(done {id: outcome}, in_flight set of ids) from a journal's events."""
    done, in_flight = {}, set()
    for ev in events:
        aid = ev.get("id")
        if ev.get("event") == "start":
            in_flight.add(aid)
        elif ev.get("event") == "end":
            in_flight.discard(aid)
            if ev.get("outcome") in DONE_OUTCOMES:
                done[aid] = ev["outcome"]
    return done, in_flight - set(done)
