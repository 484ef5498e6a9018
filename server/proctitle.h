/* proctitle.h - process titles ("kpopd: worker 127.0.0.5:4711 alice") so that ps tells
 * who is connected.  Linux: the argv area (and the environment after it, moved
 * away first) is rewritten; the command name (comm) is set too. */
#ifndef KP_SERVER_PROCTITLE_H
#define KP_SERVER_PROCTITLE_H

/* Once, at the start of main, before anything keeps pointers into argv or environ
 * strings (getopt's optarg: call it after option parsing and copy what you keep). */
void kp_proctitle_init(int argc, char **argv);

/* Set the title to "kpopd: " + the formatted text (cut to the space there is). */
void kp_proctitle(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
