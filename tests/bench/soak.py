#!/usr/bin/env python3
"""tests/bench/soak.py - make soak's helpers (tests/soak.sh):
  inject ROOT USERS RATE STOPFILE COUNTFILE [UID]
      deliver messages Maildir-style (tmp/, then rename into new/) to random users'
      ROOT/USER/Maildir at RATE a second until STOPFILE exists; COUNTFILE gets the
      number delivered (rewritten after each), as UID when given (we are root).
  sample PID
      one line: the server's processes (PID and its descendants) from /proc: count,
      total RSS (kB), total open descriptors, and master / auth / workers apart.
  count ROOT
      messages in every ROOT/*/Maildir/{new,cur}."""
import os, random, sys, time


def inject(root, users, rate, stop, countfile, uid=None):
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    names = sorted(users.split(","))
    n = 0
    period = 1.0 / rate
    nxt = time.monotonic()
    body = b"".join(b"soak line %d of the body\n" % i for i in range(40))
    while not os.path.exists(stop):
        u = random.choice(names)
        md = os.path.join(root, u, "Maildir")
        base = "%d.M%dP%d.soak%d" % (int(time.time()), n, os.getpid(), n)
        tmp = os.path.join(md, "tmp", base)
        with open(tmp, "wb") as f:
            f.write(b"From: injector@kpop.test\nTo: %s@kpop.test\nMessage-ID: <soak-%d@kpop.test>\n"
                    b"Subject: soak %d\n\n" % (u.encode(), n, n) + body)
        os.rename(tmp, os.path.join(md, "new", base))
        n += 1
        with open(countfile + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.rename(countfile + ".tmp", countfile)
        nxt += period
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc(p):
    rss = 0
    try:
        with open("/proc/%d/status" % p) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = len(os.listdir("/proc/%d/fd" % p))
        with open("/proc/%d/cmdline" % p, "rb") as f:
            title = f.read().replace(b"\0", b" ").decode("latin-1")
    except OSError:
        return None
    return rss, fds, title


def sample(pid):
    tot = {"procs": 0, "rss_kb": 0, "fds": 0}
    part = {k: [0, 0, 0] for k in ("master", "auth", "workers")}
    for p in tree(pid):
        r = proc(p)
        if r is None:
            continue
        rss, fds, title = r
        k = "master" if p == pid else "auth" if "auth" in title else "workers"
        tot["procs"] += 1
        tot["rss_kb"] += rss
        tot["fds"] += fds
        part[k][0] += 1
        part[k][1] += rss
        part[k][2] += fds
    print("procs=%d\trss_kb=%d\tfds=%d\t%s" % (tot["procs"], tot["rss_kb"], tot["fds"], "\t".join(
        "%s_n=%d\t%s_rss_kb=%d\t%s_fds=%d" % (k, v[0], k, v[1], k, v[2]) for k, v in part.items())))


def count(root):
    n = 0
    for u in os.listdir(root):
        for d in ("new", "cur"):
            try:
                n += sum(1 for e in os.listdir(os.path.join(root, u, "Maildir", d)) if not e.startswith("."))
            except OSError:
                pass
    print(n)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "inject":
        inject(a[1], a[2], float(a[3]), a[4], a[5], int(a[6]) if len(a) > 6 else None)
    elif a[0] == "sample":
        sample(int(a[1]))
    elif a[0] == "count":
        count(a[1])
    else:
        sys.exit(__doc__)
