#!/usr/bin/python3
"""samba-provision.py ARGS... - "samba-tool domain provision ARGS..." for the AD tier
(tests/e2e/samba.sh), without setting the NT ACLs of the sysvol share: that step
chowns files to root and so needs root, and a domain controller that serves only
its KDC never shares sysvol.  Everything else is samba-tool's own code."""
import runpy
import sys

import samba.provision

samba.provision.setsysvolacl = lambda *args, **kwargs: None
sys.argv = ["samba-tool", "domain", "provision"] + sys.argv[1:]
runpy.run_path("/usr/bin/samba-tool", run_name="__main__")
