"""Process statistics for the relay bench, read from /proc: CPU, memory, open-file limits.

The bench reports what the server costs, so it measures the server's whole process tree
(uvicorn and anything it forks) rather than trusting the server to report on itself.
"""

from __future__ import annotations

import os
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_seconds(pid: int | None) -> float | None:
    """User+system CPU seconds of a process tree."""
    if pid is None:
        return None
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK


def machine_busy() -> float:
    """CPU seconds spent busy by all cores since boot (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLK


def rss_mb(pid: int | None) -> float | None:
    """Resident memory (VmRSS) of a process tree, in MB."""
    if pid is None:
        return None
    kb = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kb += int(line.split()[1])
        except OSError:
            continue
    return kb / 1024


def nofile_limit(pid: int | None) -> int | None:
    """Soft open-files limit of a process."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    except (OSError, ValueError):
        pass
    return None
