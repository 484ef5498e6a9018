/* probe.h - kpop probe: test a POP3 server's Kerberos authentication, step by step,
 * without fetching or deleting anything. */
#ifndef KP_PROBE_H
#define KP_PROBE_H

/* `kpop probe HOST [options]`: argv[0] is "probe".  Connects on each relevant port
 * (1109 auto/KPOP, 110 STLS, 995 TLS, or the one given), reports every step on
 * standard output (or one JSON object with --json), and QUITs in AUTHORIZATION or
 * after STAT.  Returns 0 if at least one Kerberos mechanism worked, else the exit
 * status (enum kpop_exit) of the first failure. */
int probe_main(int argc, char **argv);

#endif
