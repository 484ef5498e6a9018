#!/usr/bin/python3
"""bench.py - the reporting half of make bench (tests/bench.sh runs the servers and
tests/bench/kpbench the load):
  bench.py time -- COMMAND...   run COMMAND; print wall and CPU (user+system of it
                                and its children) as key=value; exit with its status
  bench.py report RAW OUT DATE MACHINE NOTE
                                medians of the raw runs per row and server, the
                                side-by-side table on stdout, OUT.tsv and OUT.json"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def cmd_time(argv):
    if argv[:1] == ["--"]:
        argv = argv[1:]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    rc = subprocess.call(argv, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print("wall_s=%.3f\tcpu_s=%.3f\trc=%d" % (wall, cpu, rc))
    return 0 if rc == 0 else 1


def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            d = {}
            for field in line.rstrip("\n").split("\t"):
                if "=" in field:
                    k, v = field.split("=", 1)
                    d[k] = v
            if d.get("row") and d.get("row") != "warmup":
                runs.append(d)
    return runs


def num(d, k, default=0.0):
    try:
        return float(d.get(k, default))
    except ValueError:
        return default


def med(xs):
    return statistics.median(xs) if xs else 0.0


def fmt_rate(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


def report(raw, out, date, machine, note):
    runs = parse(raw)
    rows, order = {}, []
    for d in runs:
        key = d["row"]
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key].setdefault(d["server"], []).append(d)
    servers = ["kpopd", "dovecot"]
    results = []  # (row, server, metric, value, runs, errors)
    lines = []
    w = lines.append

    def errs(rs):
        return sum(int(num(r, "errors")) for r in rs)

    w("kpop bench %s — %s" % (date, machine))
    w("(%s)" % note)
    w("")
    w("Session rates: median of rounds; sessions/s (MiB/s for RETR), p50/p99 latency in ms, "
      "server CPU per session in µs (sum over the server's processes)")
    hdr = "%-36s | %9s %7s %7s %7s | %9s %7s %7s %7s | %6s %6s %4s" % (
        "row", "kpopd", "p50", "p99", "cpu", "Dovecot", "p50", "p99", "cpu", "ratio", "cpu r",
        "st%")
    w(hdr)
    w("-" * len(hdr))
    plain = None
    for key in order:
        by = rows[key]
        kind = next(iter(by.values()))[0].get("kind")
        if kind not in ("capa", "gssapi", "kpop", "userpass", "retr") or key.startswith("login, "):
            continue
        metric = "mib_s" if kind == "retr" else "rate"
        cells, vals, cpus, steals = [], {}, {}, {}
        for s in servers:
            rs = by.get(s, [])
            if not rs:
                cells.append("%9s %7s %7s %7s" % ("-", "", "", ""))
                continue
            v = med([num(r, metric) for r in rs])
            p50 = med([num(r, "p50_ms") for r in rs])
            p99 = med([num(r, "p99_ms") for r in rs])
            cpu = med([num(r, "srv_cpu_us") for r in rs])
            e = errs(rs)
            vals[s], cpus[s] = v, cpu
            steals[s] = max(num(r, "steal_pct", -1) for r in rs)
            cells.append("%9s %7.2f %7.2f %7.0f" % (fmt_rate(v) + ("!" if e else ""), p50, p99, cpu))
            for m, x in ((metric, v), ("p50_ms", p50), ("p99_ms", p99), ("srv_cpu_us", cpu),
                         ("cli_cpu_us", med([num(r, "cli_cpu_us") for r in rs])),
                         ("steal_pct", max(steals[s], 0))):
                results.append((key, s, m, x, len(rs), e))
        extra = ""
        if kind == "retr":
            if "plaintext" in key:
                plain = (vals.get("kpopd"), cpus.get("kpopd"))
            elif plain and plain[0] and vals.get("kpopd"):
                extra = "   kpopd %.2fx plaintext MiB/s, %.1fx its CPU" % (
                    vals["kpopd"] / plain[0], cpus["kpopd"] / plain[1] if plain[1] else 0)
        st = max(steals.values(), default=-1)
        st = "%4.0f" % st if st >= 0 else "   -"
        w("%-36s | %s | %s | %6s %6s %s%s" % (
            key[:36], cells[0], cells[1], ratio(vals.get("kpopd"), vals.get("dovecot")),
            ratio(cpus.get("kpopd"), cpus.get("dovecot")), st, extra))
        if any(errs(by.get(s, [])) for s in servers):
            w("%-36s   ! errors: %s" % ("", ", ".join(
                "%s %d" % (s, errs(by.get(s, []))) for s in servers if by.get(s))))
    w("ratio = kpopd / Dovecot throughput (> 1: kpopd faster); cpu r = kpopd / Dovecot "
      "server CPU per session (< 1: kpopd cheaper)")
    tries = [int(num(r, "tries", 1)) for r in runs if "tries" in r]
    w("st%% = the most CPU time the hypervisor took (steal) in any run of the row; a run "
      "with more than %s %% was repeated after a pause (%d repeats in all)" % (
          os.environ.get("KPOP_BENCH_MAX_STEAL", "?"), sum(t - 1 for t in tries)))

    big = [k for k in order if k.startswith("login, ")]
    if big:
        w("")
        w("Login (AUTH GSSAPI + STAT + QUIT) to a big maildrop, one session, ms")
        for key in big:
            v = {s: num(rows[key][s][0], "p50_ms") for s in servers if rows[key].get(s)}
            bad = [s for s in servers if rows[key].get(s) and errs(rows[key][s])]
            w("  %-36s kpopd %9s   Dovecot %9s   ratio %s%s" % (
                key, "%.1f" % v["kpopd"] if "kpopd" in v else "-",
                "%.1f" % v["dovecot"] if "dovecot" in v else "-",
                ratio(v.get("dovecot"), v.get("kpopd")),
                "   ! errors: " + ", ".join(bad) if bad else ""))
            for s, x in v.items():
                results.append((key, s, "ms", x, 1, errs(rows[key][s])))
        w("  (ratio here = Dovecot ms / kpopd ms: > 1 means kpopd faster)")

    idle = [k for k in order if k.startswith("idle sessions")]
    if idle:
        w("")
        w("Memory per idle session (logged in, after STAT), from /proc/PID/smaps_rollup of "
          "the server's process tree")
        for key in idle:
            parts = []
            per = {}
            for s in servers:
                r = rows[key].get(s)
                if not r:
                    continue
                r = r[0]
                n = num(r, "sessions")
                if n <= 0:
                    parts.append("%s: no sessions held" % s)
                    continue
                pss = (num(r, "now_pss_kb") - num(r, "base_pss_kb")) / n
                dirty = (num(r, "now_private_dirty_kb") - num(r, "base_private_dirty_kb")) / n
                fds = (num(r, "now_fds") - num(r, "base_fds")) / n
                procs = num(r, "now_procs")
                per[s] = pss
                parts.append("%s %.0f held: Pss %.0f KiB, Private_Dirty %.0f KiB, fds %.1f "
                             "per session (%d procs)%s" % (
                                 s, n, pss, dirty, fds, procs,
                                 " ! %d errors" % num(r, "errors") if num(r, "errors") else ""))
                for m, x in (("pss_kb_per_session", pss), ("private_dirty_kb_per_session", dirty),
                             ("fds_per_session", fds)):
                    results.append((key, s, m, x, 1, int(num(r, "errors"))))
            w("  %s: %s" % (key, "; ".join(parts)))
            if len(per) == 2:
                w("  %s  Pss ratio kpopd/Dovecot %s" % (" " * len(key), ratio(per["kpopd"], per["dovecot"])))

    fetch = [k for k in order if k.startswith("fetch ")]
    if fetch:
        w("")
        w("Client side: fetching from kpopd (messages kept on the server), wall and CPU "
          "(client and its children)")
        for key in fetch:
            r = rows[key]["kpopd"][0]
            if num(r, "errors") or num(r, "rc"):
                w("  %-48s failed (see the kpbench log)" % key)
                results.append((key, "kpopd", "wall_s", 0.0, 1, 1))
                continue
            got = int(num(r, "delivered"))
            sync = r.get("syncs", "")
            if sync == "":
                g = "fsync calls not counted (no strace)"
            else:
                g = "%s fsync/fdatasync calls (%.1f per message)" % (sync, int(sync) / got if got else 0)
            w("  %-50s %7.2f s wall %6.2f s CPU  %5d delivered%s  %s" % (
                key, num(r, "wall_s"), num(r, "cpu_s"), got,
                "" if got == int(num(r, "expected", got)) else " !", g))
            results.append((key, "kpopd", "wall_s", num(r, "wall_s"), 1, 0))
            results.append((key, "kpopd", "cpu_s", num(r, "cpu_s"), 1, 0))
            results.append((key, "kpopd", "delivered", got, 1, 0))
            if sync != "":
                results.append((key, "kpopd", "fsyncs", int(sync), 1, 0))

    print("\n".join(lines))
    with open(out + ".tsv", "w") as f:
        f.write("date\trow\tserver\tmetric\tmedian\truns\terrors\n")
        for row, s, m, x, n, e in results:
            f.write("%s\t%s\t%s\t%s\t%.3f\t%d\t%d\n" % (date, row, s, m, x, n, e))
    with open(out + ".json", "w") as f:
        json.dump({"date": date, "machine": machine, "note": note,
                   "results": [{"row": row, "server": s, "metric": m, "median": round(x, 3),
                                "runs": n, "errors": e} for row, s, m, x, n, e in results]},
                  f, indent=1)
        f.write("\n")
    print("\nresults: %s.tsv, %s.json" % (out, out))
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "time":
        return cmd_time(sys.argv[2:])
    if len(sys.argv) == 7 and sys.argv[1] == "report":
        return report(*sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
