#!/usr/bin/env python3
"""Inlet under the benchmark's load in 5 s slices: what each thread did, slice by slice.

usage: bench/slices.py [BUILD] [SLICES] [ROUNDS] [PAUSE_S]
  BUILD    build folder with inlet and the github plugin (default: build-bench)
  SLICES   wrk runs of 5 s per round (default 9: the 45 s of a benchmark round)
  ROUNDS   rounds (default 3)
  PAUSE_S  idle seconds between rounds, as the nginx runs of bench/run.sh leave (default 45)

Per slice: requests/s and wrk's p90/p99; Inlet's RSS and its peak so far (VmHWM); the p99 of its
own request and journal-commit histograms; the sizes of the journal's WAL and of the claims
database and its WAL; how long the event loop, the writer and wrk's two threads waited for a core
(run-queue time, /proc/<pid>/task/<tid>/schedstat); CPU ticks (10 ms) of every thread that ran;
the machine's TCP counters that moved (retransmissions, delayed ACKs, connections opened). Set
SERVER_OPTIONS as for bench/run.sh. Where bench/run.sh gives a run's medians, this shows when
something happens (a merge, a filter rebuild) and what it costs the requests meanwhile. Run
bench/run.sh once first: it installs wrk and builds BUILD. Loopback only; bounded by SLICES x
ROUNDS.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "It's a Secret to Everybody"


def main():
    args = sys.argv[1:]
    build = args[0] if args else "build-bench"
    build = build if os.path.isabs(build) else os.path.join(ROOT, build)
    slices = int(args[1]) if len(args) > 1 else 9
    rounds = int(args[2]) if len(args) > 2 else 3
    pause = int(args[3]) if len(args) > 3 else 45
    tmp = tempfile.mkdtemp(prefix="inlet-slices.")
    subprocess.check_call(["python3", f"{ROOT}/bench/gen_requests.py", f"{tmp}/requests.lua",
                           SECRET, "256", "1536"])
    with open(f"{tmp}/inlet.yaml", "w") as f:
        options = os.environ.get("SERVER_OPTIONS", "")
        f.write(f"""server: {{ listen: 127.0.0.1:0{", " + options if options else ""} }}
journal: {{ path: {tmp}/journal.db }}
plugins: {{ path: [{build}/plugins] }}
secrets:
  github: {{ value: "{SECRET}" }}
sinks: {{ local: {{ type: journal }} }}
pipelines:
  github:
    path: /webhook/github
    auth: {{ provider: github, secrets: [github] }}
    dedup: {{ key: auto, window: 72h }}
    sinks: [local]
    table: github_events
""")
    log = open(f"{tmp}/inlet.log", "w")
    inlet = subprocess.Popen([f"{build}/inlet", "serve", "-c", f"{tmp}/inlet.yaml"], cwd=tmp,
                             stdout=subprocess.DEVNULL, stderr=log)
    try:
        port = None
        for _ in range(300):
            m = re.search(r"listening on [0-9.]*:(\d+)", open(f"{tmp}/inlet.log").read())
            if m:
                port = m.group(1)
                break
            time.sleep(0.1)
        if not port:
            sys.exit("slices: inlet did not start:\n" + open(f"{tmp}/inlet.log").read())
        run(inlet.pid, port, tmp, slices, rounds, pause)
    finally:
        inlet.send_signal(signal.SIGTERM)
        inlet.wait()
        subprocess.call(["rm", "-rf", tmp])


def per_thread(pid, file, field):
    """{thread name: sum of `field` of /proc/<pid>/task/*/<file>} (names repeat: summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            text = open(f"/proc/{pid}/task/{tid}/{file}").read()
        except OSError:
            continue  # a thread that ended meanwhile
        fields = text.rsplit(")", 1)[-1].split() if file == "stat" else text.split()
        out[name] = out.get(name, 0) + sum(int(fields[i]) for i in field)
    return out


def tcp_counters():
    """TCP counters of /proc/net/snmp and /proc/net/netstat, by name."""
    out = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = open(path).read().split("\n")
        for names, values in zip(lines[0::2], lines[1::2]):
            if names.split(":")[0] not in ("Tcp", "TcpExt"):
                continue
            for k, v in zip(names.split()[1:], values.split()[1:]):
                out[k] = int(v)
    return out


TCP_SHOWN = ("RetransSegs", "TCPTimeouts", "TCPLossProbes", "ListenOverflows", "ListenDrops",
             "TCPBacklogDrop", "TCPRcvQDrop", "DelayedACKs", "DelayedACKLost", "TCPAbortOnData",
             "TCPMemoryPressures", "TCPOFOQueue", "PruneCalled", "TCPZeroWindowDrop",
             "TCPWantZeroWindowAdv", "TCPToZeroWindowAdv", "TCPFromZeroWindowAdv", "EstabResets",
             "ActiveOpens", "PassiveOpens")


def metrics(port, path):
    subprocess.run(["curl", "-s", "-o", path, f"http://127.0.0.1:{port}/_inlet/metrics"])


def run(pid, port, tmp, slices, rounds, pause):
    n = 0
    for r in range(1, rounds + 1):
        for s in range(1, slices + 1):
            n += 1
            metrics(port, f"{tmp}/before")
            cpu0, wait0 = per_thread(pid, "stat", (11, 12)), per_thread(pid, "schedstat", (1,))
            tcp0 = tcp_counters()
            proc = subprocess.Popen(
                ["wrk", "-t2", "-c64", "-d5s", "--timeout", "5s", "--latency", "-s",
                 f"{ROOT}/bench/github.lua", f"http://127.0.0.1:{port}", "--",
                 f"{tmp}/requests.lua", "/webhook/github", "random", str(n)],
                stdout=subprocess.PIPE, text=True)
            wrk_waits = {}  # wrk's threads: the last run-queue time read before it ended
            while proc.poll() is None:
                for tid in os.listdir(f"/proc/{proc.pid}/task") if os.path.isdir(
                        f"/proc/{proc.pid}/task") else []:
                    try:
                        wrk_waits[tid] = int(
                            open(f"/proc/{proc.pid}/task/{tid}/schedstat").read().split()[1])
                    except (OSError, IndexError, ValueError):
                        pass
                time.sleep(0.05)
            wrk = proc.stdout.read()
            cpu1, wait1 = per_thread(pid, "stat", (11, 12)), per_thread(pid, "schedstat", (1,))
            tcp1 = tcp_counters()
            tcp = " ".join(f"{k}={tcp1[k] - tcp0[k]}" for k in TCP_SHOWN
                           if k in tcp1 and tcp1[k] != tcp0.get(k))
            metrics(port, f"{tmp}/after")
            own = subprocess.run(["python3", f"{ROOT}/bench/histograms.py", f"{tmp}/before",
                                  f"{tmp}/after"], capture_output=True, text=True).stdout
            p99s = dict(re.findall(r"^inlet_(request|journal_commit)\S* .*?p99 ([0-9.]+) ms", own,
                                   re.M))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
            # Anchored: "99%" also ends the "+/- Stdev" column of wrk's thread stats.
            p99 = re.search(r"^\s+99%\s+(\S+)", wrk, re.M).group(1)
            status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
            rss, hwm = (int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM"))
            wal = os.path.getsize(f"{tmp}/journal.db-wal") >> 20
            claims = " ".join(str(os.path.getsize(f) >> 20) for f in
                              (f"{tmp}/journal-claims.db", f"{tmp}/journal-claims.db-wal")
                              if os.path.exists(f))
            waits = " ".join(f"{t}={(wait1.get(t, 0) - wait0.get(t, 0)) // 1_000_000}ms"
                             for t in ("inlet-loop-0", "inlet-writer"))
            waits += " wrk=" + "/".join(f"{v // 1_000_000}" for k, v in sorted(
                wrk_waits.items(), key=lambda kv: int(kv[0]))[1:]) + "ms"
            p90 = re.search(r"^\s+90%\s+(\S+)", wrk, re.M).group(1)
            busy = sorted(((cpu1[t] - cpu0.get(t, 0), t) for t in cpu1), reverse=True)
            ticks = " ".join(f"{t}={v}" for v, t in busy if v > 0)
            print(f"round {r} slice {s}: {rps:7.0f} req/s p90/p99 {p90}/{p99}  rss {rss} MiB "
                  f"(peak {hwm})  own p99 {p99s.get('request', '?')} ms commit p99 "
                  f"{p99s.get('journal_commit', '?')} ms  wal {wal} MiB  claims db/wal {claims} "
                  f"MiB  run-queue {waits} | ticks {ticks} | tcp {tcp}", flush=True)
        if r < rounds:
            cpu0 = per_thread(pid, "stat", (11, 12))
            time.sleep(pause)
            cpu1 = per_thread(pid, "stat", (11, 12))
            ticks = " ".join(f"{t}={cpu1[t] - cpu0.get(t, 0)}" for t in cpu1
                             if cpu1[t] > cpu0.get(t, 0))
            print(f"pause {pause} s | ticks {ticks}", flush=True)


if __name__ == "__main__":
    main()
