#!/usr/bin/python3
"""samba-populate.py - fills a freshly provisioned Samba AD domain (tests/e2e/samba.sh)
with the accounts the AD tier needs, through Samba's own database modules
(samba.samdb, the code samba-tool runs) in one process, which is many times
faster than one samba-tool run per object.

usage: samba-populate.py SMB_CONF SAM_LDB LEAVES BUCKETS SPEC...
SPEC is one of
  user:NAME:PASSWORD:NBUCKETS[:NEXTRA]
      a user, member of the first NBUCKETS bucket groups (and so, nested, of every
      leaf group in them) and of NEXTRA groups of their own
  svc:NAME:PASSWORD:ENCTYPES:SPN[,SPN...]
      a service account with these SPNs; ENCTYPES is msDS-SupportedEncryptionTypes
      (24 = AES128 + AES256; "-" leaves it unset, AD's default: RC4 service tickets)
  grp:NAME:COUNT:PREFIX
      COUNT more groups PREFIX000.. with the existing user NAME as their member
Groups: BUCKETS bucket groups b000.., LEAVES leaf groups g00000.. spread over
organizational units; leaf i has bucket (i mod BUCKETS) as its member.  A user in
k buckets is thus in about k * (1 + LEAVES / BUCKETS) groups, and no object
collects thousands of links (which makes Samba's database slow).  Prints, for each
user, "NAME GROUPS" (the groups its PAC will list, besides Domain Users).
"""
import sys
import time

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

PER_OU = 100   # leaf groups per organizational unit
PER_TXN = 100  # objects per transaction (one big one slows down as it grows)


def main():
    conf, url, leaves, buckets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    specs = [s.split(":") for s in sys.argv[5:]]
    lp = LoadParm()
    lp.load(conf)
    db = SamDB(url=url, session_info=system_session(), lp=lp, flags=ldb.FLG_NOSYNC)
    base = str(db.domain_dn())
    users_dn = "CN=Users," + base
    started = time.time()

    counts = {}
    for s in specs:
        if s[0] == "user":
            db.newuser(s[1], s[2])
            counts[s[1]] = 0
        elif s[0] == "svc":
            db.newuser(s[1], s[2])
            m = ldb.Message(ldb.Dn(db, "CN=%s,%s" % (s[1], users_dn)))
            m["servicePrincipalName"] = ldb.MessageElement(s[4].split(","),
                                                           ldb.FLAG_MOD_ADD,
                                                           "servicePrincipalName")
            if s[3] != "-":
                m["msDS-SupportedEncryptionTypes"] = ldb.MessageElement(
                    s[3], ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
            db.modify(m)
        elif s[0] != "grp":
            raise SystemExit("bad spec " + ":".join(s))

    def user_dn(name):
        return "CN=%s,%s" % (name, users_dn)

    pending = [0]

    def add(msg):
        if pending[0] == 0:
            db.transaction_start()
        db.add(msg)
        pending[0] += 1
        if pending[0] == PER_TXN:
            db.transaction_commit()
            pending[0] = 0

    # Buckets first, holding their users; then the leaves, each holding a bucket.
    bucket_dn = []
    for b in range(buckets):
        dn = "CN=b%03d,%s" % (b, users_dn)
        members = [user_dn(s[1]) for s in specs if s[0] == "user" and b < int(s[3])]
        msg = {"dn": dn, "objectClass": "group", "sAMAccountName": "b%03d" % b}
        if members:
            msg["member"] = members
        add(msg)
        bucket_dn.append(dn)
    for o in range((leaves + PER_OU - 1) // PER_OU):
        add({"dn": "OU=o%03d,%s" % (o, base), "objectClass": "organizationalUnit"})
    for i in range(leaves):
        add({"dn": "CN=g%05d,OU=o%03d,%s" % (i, i // PER_OU, base), "objectClass": "group",
             "sAMAccountName": "g%05d" % i, "member": [bucket_dn[i % buckets]]})
    # Each user's own extra groups (fine tuning of a ticket's size).
    for s in specs:
        if s[0] != "user" or len(s) < 5:
            continue
        for j in range(int(s[4])):
            add({"dn": "CN=x%s%03d,%s" % (s[1], j, users_dn), "objectClass": "group",
                 "sAMAccountName": "x%s%03d" % (s[1], j), "member": [user_dn(s[1])]})
    for s in specs:
        if s[0] == "grp":
            for j in range(int(s[2])):
                add({"dn": "CN=%s%03d,%s" % (s[3], j, users_dn), "objectClass": "group",
                     "sAMAccountName": "%s%03d" % (s[3], j), "member": [user_dn(s[1])]})
    if pending[0]:
        db.transaction_commit()

    for s in specs:
        if s[0] != "user":
            continue
        k = int(s[3])
        n = k + sum(1 for i in range(leaves) if i % buckets < k) if k else 0
        n += int(s[4]) if len(s) > 4 else 0
        print("%s %d" % (s[1], n))
    print("populated in %.1f s" % (time.time() - started), file=sys.stderr)


if __name__ == "__main__":
    main()
