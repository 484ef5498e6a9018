/* conf.h - kpopd's configuration: defaults, the config file, -o overrides. */
#ifndef KP_SERVER_CONF_H
#define KP_SERVER_CONF_H

#include <stddef.h>

#include "kp_limits.h"
#include "server/proxyproto.h"

#define KP_CONF_MAX_LISTEN 16
#define KP_CONF_MAX_REALMS 16

/* How a listener greets a new connection (DESIGN.md, "Ports and listeners"). */
enum kp_listen_mode {
	KP_MODE_AUTO = 0, /* sniff: KPOP if the client speaks first, else POP3 */
	KP_MODE_KPOP,     /* legacy KPOP only */
	KP_MODE_POP3,     /* POP3, greet at once */
	KP_MODE_POP3S     /* implicit TLS */
};

struct kp_listen {
	char addr[64];     /* numeric address or "*" for all */
	char port[16];
	enum kp_listen_mode mode;
	int proxy;         /* "proxy": every connection starts with a PROXY header */
	/* "proxy=NET,NET": this listener's trusted proxies (0: proxy_trusted's) */
	struct kp_cidr trusted[KP_PROXY_TRUSTED_MAX];
	int ntrusted;
};

struct kp_conf {
	struct kp_listen listen[KP_CONF_MAX_LISTEN];
	int nlisten;
	int listen_set;        /* a listen setting replaced the default */
	char *keytab;          /* acceptor keytab; NULL: KRB5_KTNAME or the default */
	char *service;         /* GSS service name, "pop" */
	char *server_principal;/* pin one acceptor principal; NULL: any service key */
	char *hostname;        /* our host name for the greeting and SASL serverFQDN */
	char *realms[KP_CONF_MAX_REALMS]; /* realms whose principals may log in */
	int nrealms;           /* 0: the default realm only */
	int allow_instances;   /* realm mode: alice/admin@REALM may log in as alice */
	enum { KP_USERMAP_REALM, KP_USERMAP_ANAME, KP_USERMAP_FILE } usermap;
	char *usermap_file;    /* file mode: "principal user" lines */
	char *maildir;         /* template: %u user, %h home, %% percent; with
				* mailbox_format maildir or mbox it starts with
				* that format's prefix (maildrop.h KP_MAILBOX_*),
				* which kp_maildrop_open strips */
	enum { KP_MAILBOX_AUTO, KP_MAILBOX_FMT_MAILDIR, KP_MAILBOX_FMT_MBOX }
		mailbox_format;  /* auto: a regular file is an mbox spool */
	char *mbox_journal_dir;/* mbox UPDATE journals when the spool's directory is
				* not writable for the user; NULL: none */
	int log_syslog;        /* 1 syslog, 0 stderr */
	int log_level;         /* KP_LOG_* */
	int syslog_facility;   /* syslog.h LOG_* (LOG_MAIL) */
	int idle_timeout;      /* seconds */
	int max_sessions;
	int max_bad_commands;
	int sniff_ms;          /* auto mode: wait for a KPOP client to speak first */
	int auth_failure_delay_ms; /* pause before answering a failed authentication */
	int kpop_timeout;      /* KPOP: seconds for the whole handshake */
	int kpop_pop3;         /* KPOP: also accept tickets for pop3/HOST (movemail) */
	char *rcache_dir;      /* Kerberos replay cache directory */
	char *pidfile;
	char *control_socket;  /* UNIX socket for kpopd -s; NULL: none */
	char *greeting;        /* text after "+OK " */
	char *tls_cert;        /* PEM certificate (chain may follow); NULL: no TLS */
	char *tls_key;         /* PEM private key */
	char *tls_chain;       /* extra PEM CA certificates to send (optional) */
	int tls_min_protocol;  /* lowest TLS version accepted: 0x0301 (TLS 1.0) to
				* 0x0304 (TLS 1.3), the wire numbers OpenSSL uses */
	int plaintext_login;   /* USER/PASS checked against the KDC, only over TLS */
	/* RFC 2449 policies (README "LOGIN-DELAY and EXPIRE"); per user in policy_file: */
	int login_delay;       /* seconds between two logins to one maildrop (0: none) */
	int expire_days;       /* retrieved messages older than this are removed at
				* UPDATE; 0: every retrieved one; KP_CONF_EXPIRE_NEVER */
	char *policy_file;     /* "user login_delay=S expire_days=N|never" lines */
	int sasl_min_ssf;      /* GSSAPI security layer: 0 none, 1 integrity, >1 privacy */
	int sasl_max_ssf;
	int sasl_layers_over_tls; /* also offer layers inside TLS */
	/* Whose uid a session runs as (README "Security"): */
	char *mail_uid;        /* virtual users: every session as this uid (name or
				* number); NULL: the mapped user's passwd entry */
	char *mail_gid;        /* with mail_uid: its group (name or number); NULL:
				* the primary group of mail_uid's passwd entry */
	int min_uid;           /* users with a lower uid are refused */
	int allow_root;        /* uid 0 may log in (also needs min_uid = 0) */
	int passwd_cache_sec;  /* the auth service keeps passwd answers this long */
	int max_messages;      /* larger maildrops: the oldest max_messages are served */
	int max_preauth_per_ip;/* connections per address not logged in yet */
	int max_conn_per_ip;   /* all connections per address */
	int login_timeout;     /* seconds from connect to login; commands do not extend it */
	int preauth_idle_timeout; /* idle seconds allowed before login */
	/* load balancers that may send PROXY headers to "proxy" listeners */
	struct kp_cidr proxy_trusted[KP_PROXY_TRUSTED_MAX];
	int nproxy_trusted;
	int pool_spare;        /* idle pre-started session workers */
	/* The process model (README "Processes"): */
	char *auth_user;       /* the auth service runs as this user */
	char *worker_user;     /* system-user mode: the network workers' user */
	char *worker_chroot;   /* system-user mode: workers chroot here ("" none) */
	int worker_max_sessions; /* virtual-user mode: a worker is replaced after this
				  * many sessions */
};

#define KP_CONF_EXPIRE_NEVER (-1)

/* The value forms of login_delay and expire_days, for the config file and
 * policy_file alike: 0 (*out set) or KP_E_SYNTAX. */
int kp_conf_parse_login_delay(const char *v, int *out);
int kp_conf_parse_expire(const char *v, int *out);

/* Fill c with the built-in defaults (everything owned by c). */
void kp_conf_defaults(struct kp_conf *c);

/* Apply one "key = value" setting (also used for -o key=value).  where names the
 * source for error messages ("kpopd.conf:12").  Returns 0 or KP_E_CONFIG after
 * printing the reason to stderr. */
int kp_conf_set(struct kp_conf *c, const char *key, const char *value, const char *where);

/* Read a config file of "key = value" lines ('#' comments).  Returns 0, KP_E_CONFIG
 * or KP_E_NOTFOUND (the file does not exist). */
int kp_conf_load(struct kp_conf *c, const char *path);

/* Consistency checks after all settings are in; prints problems. 0 or KP_E_CONFIG. */
int kp_conf_check(const struct kp_conf *c);

/* The files a starting (or reloading) daemon needs: keytab and usermap_file
 * readable, rcache_dir writable; prints problems.  0 or KP_E_CONFIG.  (kpopd -t
 * checks them in depth instead: keytab_check.h.) */
int kp_conf_check_paths(const struct kp_conf *c);

/* Print the effective configuration in config-file syntax (kpopd -t -v). */
void kp_conf_dump(const struct kp_conf *c);

void kp_conf_free(struct kp_conf *c);

const char *kp_listen_mode_name(enum kp_listen_mode m);

/* The networks a listener accepts PROXY headers from: its own list, else the
 * global proxy_trusted.  *n_out gets the count. */
const struct kp_cidr *kp_conf_proxy_trusted(const struct kp_conf *c,
					    const struct kp_listen *l, int *n_out);

/* The configuration's log flags for kp_log_open (KP_LOG_SYSLOG, KP_LOG_STAMP); also
 * sets the syslog facility. */
int kp_conf_log_flags(const struct kp_conf *c);

#endif
