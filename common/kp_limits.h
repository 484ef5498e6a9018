/* kp_limits.h - every limit kpop enforces, with the reason for its value. */
#ifndef KP_LIMITS_H
#define KP_LIMITS_H

/* RFC 2449 section 4: a command line is at most 255 octets including CRLF. */
#define KP_CMD_LINE_MAX 255

/* The largest GSS token (AUTH GSSAPI) and KPOP AP-REQ we accept, decoded.  Active
 * Directory tickets carry a PAC that grows by about 8 octets per group of the user:
 * Windows' default MaxTokenSize is 48,000 octets and admins raise it to 65,535, the
 * largest value Microsoft supports, so that is our cap.  Memory per session stays
 * bounded: cmd_auth holds a token and its base64 once each (about 150 KiB during
 * AUTH, freed after), the session's line buffer is one AUTH line. */
#define KP_AUTH_TOKEN_MAX 65535

/* The wrapped RFC 4752 layer offer the auth service sends ahead with its last
 * accept token (4 octets in a gss_wrap token: 32 with AES, 45 with RC4); the cap
 * leaves room for any enctype. */
#define KP_GSS_NEXT_MAX 1024

/* base64 of a KP_AUTH_TOKEN_MAX token (87,380 octets), without the NUL. */
#define KP_AUTH_TOKEN_B64 (((KP_AUTH_TOKEN_MAX + 2) / 3) * 4)

/* An AUTH line: a continuation line is one base64 token and CRLF; some clients
 * (Perl's Net::POP3) put the initial response on the AUTH line itself, against
 * RFC 5034, as Dovecot allows, so the cap is "AUTH GSSAPI " + token + CRLF: 87,394
 * octets.  RFC 5034 sets no limit. */
#define KP_AUTH_LINE_MAX (12 + KP_AUTH_TOKEN_B64 + 2)

/* Client: the largest GSS token kpop sends.  A server may accept more than we do,
 * so kpop does not refuse its own ticket at our cap: it sends it, and a server that
 * refuses it says so (kpop then says how large the ticket was).  4 times the
 * server cap bounds the buffer. */
#define KP_CLIENT_TOKEN_MAX (4 * (KP_AUTH_TOKEN_MAX + 1))

/* Client: the longest line kpop sends, one such token in base64 and CRLF. */
#define KP_CLIENT_SEND_MAX (((KP_CLIENT_TOKEN_MAX + 2) / 3) * 4 + 2)

/* RFC 2449 section 4: a response line is at most 512 octets including CRLF. */
#define KP_REPLY_LINE_MAX 512

/* A client reading a reply line accepts a little slack over RFC 2449's 512 octets
 * (some servers send long IMPLEMENTATION strings); anything beyond is an error. */
#define KP_CLIENT_REPLY_MAX 1024

/* An over-long line is drained so the next command can be parsed; a peer sending
 * more than this without a line feed is not a POP3 client and is dropped. */
#define KP_LINE_DRAIN_MAX (1024 * 1024)

/* Read-ahead and write buffers of one connection.  16 KiB of read-ahead is one TLS
 * record; the 64 KiB write buffer is one SASL security-layer packet (RETR through
 * the privacy layer ran 12% faster than with 16 KiB, make bench) and still keeps a
 * session's memory small. */
#define KP_IO_RBUF 16384
#define KP_IO_WBUF 65536

/* RFC 1939 section 3: the autologout timer is at least 10 minutes. */
#define KP_IDLE_TIMEOUT_SEC 600

/* Bad commands tolerated per session before disconnecting (RFC 2449 lets a server
 * close after repeated errors); 10 is what popa3d and Dovecot use. */
#define KP_BAD_CMD_MAX 10

/* A failed authentication is answered after this pause: with three tries per
 * session it caps password guessing (USER/PASS over TLS) at a few per second per
 * connection, at no cost to honest clients. */
#define KP_AUTH_FAIL_DELAY_MS 1000

/* Failed AUTH attempts per session before disconnecting. */
#define KP_AUTH_FAIL_MAX 3

/* RFC 2449 LOGIN-DELAY and EXPIRE (login_delay, expire_days): a week between
 * logins and a century of retention are beyond any policy a site sets, and keep the
 * arithmetic on times far from overflow. */
#define KP_LOGIN_DELAY_MAX 604800
#define KP_EXPIRE_DAYS_MAX 36500

/* The maildrop state file (.kpopd.state, server/mdstate.c): one line per message
 * retrieved, "retr SECONDS UIDL", at most 20 + KP_UIDL_MAX + 7 bytes; a bigger
 * file is not ours to trust. */
#define KP_MDSTATE_LINE_MAX 128

/* RFC 1939 section 7: a unique-id is 1 to 70 characters in 0x21-0x7E. */
#define KP_UIDL_MAX 70

/* Messages served from one maildrop (max_messages' default and ceiling): bounds the
 * per-session table.  Measured at about 200-290 bytes an entry with its name (100k
 * messages: 19 MiB first login, 29 MiB with the size cache).  A larger maildrop is
 * not refused (anyone who can send mail could then deny POP access): the oldest
 * messages up to the limit are served. */
#define KP_MAILDROP_MSGS_MAX 1000000

/* Size cache (.kpopd.sizes): at most one entry per message served, each line at
 * most four 20-digit numbers, a name of NAME_MAX and separators; a bigger file is
 * ignored, so a crafted cache cannot cost more than the mailbox itself. */
#define KP_SIZECACHE_LINE_MAX (4 * 21 + 255 + 1)

/* Users with a uid below this are system accounts and may not log in (Debian's
 * FIRST_UID); root needs allow_root on top of min_uid = 0. */
#define KP_MIN_UID_DEFAULT 1000

/* passwd_cache_sec: how long the auth service keeps a passwd answer (found or not)
 * for a login name; 0 looks every login up.  nscd keeps passwd entries 600 s. */
#define KP_PASSWD_CACHE_SEC_DEFAULT 60

/* Before login, per client address: a campus NAT puts many users behind one
 * address, so all connections are capped loosely and unauthenticated ones tightly
 * (a handful of idle sockets must not lock everyone out of max_sessions). */
#define KP_PREAUTH_PER_IP_DEFAULT 10
#define KP_CONN_PER_IP_DEFAULT 100

/* From connect to login, whatever the client sends (NOOP/CAPA do not extend it);
 * real clients log in within a second, a slow KDC round trip included. */
#define KP_LOGIN_TIMEOUT_SEC 60

/* Idle time allowed before login: a client that has not authenticated has no
 * RFC 1939 autologout guarantee to keep. */
#define KP_PREAUTH_IDLE_SEC 30

/* Client: a multi-line answer (CAPA, LIST, UIDL) has at most one line per message,
 * and kpop refuses message numbers above KP_MAILDROP_MSGS_MAX anyway: a server that
 * sends more lines is not listing a real maildrop, and must not grow kpop's message
 * table (24 bytes an entry: 24 MB at this limit) or keep it printing without end. */
#define KP_CLIENT_LINES_MAX KP_MAILDROP_MSGS_MAX

/* Client: slack over the LIST size before a RETR body is cut off, for small
 * messages (kpop.c retr_limit says why twice the size, and at least this). */
#define KP_RETR_SLACK_MIN (1024ULL * 1024)

/* Server: idle pre-started session workers kept ready (pool_spare); a burst beyond
 * them forks on demand.  A few cover a second of a busy campus's logins. */
#define KP_POOL_SPARE_DEFAULT 4

/* Server: the process model's users (README "Processes").  When the default user
 * does not exist (no package created it), "nobody" stands in, with a warning. */
#define KP_AUTH_USER_DEFAULT "kpopd-auth"
#define KP_WORKER_USER_DEFAULT "kpopd"

/* Server, virtual-user mode: a worker serves this many sessions, then exits and is
 * replaced, so that a slow leak or fragmentation cannot build up. */
#define KP_WORKER_SESSIONS_DEFAULT 1000

/* SIGTERM: seconds sessions get to finish (they end without UPDATE, so nothing is
 * removed) before they are killed. */
#define KP_SHUTDOWN_GRACE_SEC 10

/* mbox spools: a dotlock older than this is stale (a crashed MDA): liblockfile and
 * procmail use the same five minutes. */
#define KP_DOTLOCK_STALE_SEC 300
/* How long we wait for an MDA's fresh dotlock (seconds, one try per second): a
 * delivery holds it for well under a second; longer means "in use". */
#define KP_DOTLOCK_TRIES 5
/* Client, mbox delivery: how long kpop waits for somebody else's dotlock (seconds,
 * one try per second) before the delivery fails; the message stays on the server. */
#define KP_DOTLOCK_WAIT_SEC 30
/* Header bytes of an mbox message that go into its UIDL: enough for Message-ID,
 * Date and Received. */
#define KP_MBOX_UIDL_HEADER_MAX 8192

/* Turn a numeric limit into a string for messages. */
#define KP_STR_(x) #x
#define KP_STR(x) KP_STR_(x)

/* A local user name or principal: longer names are refused, never truncated. */
#define KP_NAME_MAX 256

/* Client: outstanding pipelined commands; bounded so that neither side can block
 * writing while the other blocks writing too. */
#define KP_PIPELINE_WINDOW 32

/* Client, Maildir: threads that fsync a batch's files side by side while the next
 * messages arrive.  Concurrent fsyncs share the file system's journal commits
 * (ext4 group commit); measured on ext4 here, 4 threads cut the time per file
 * about in half against one-by-one fsyncs, and more gained nothing. */
#define KP_SYNC_THREADS 4

/* Server: concurrent sessions in standalone mode (fork per connection). */
#define KP_MAX_SESSIONS_DEFAULT 256

/* KPOP: the whole sendauth handshake must finish within this many seconds; a client
 * that stalls mid-handshake is dropped (fetchmail completes it in milliseconds). */
#define KP_KPOP_HANDSHAKE_SEC 30

/* KPOP: an AP-REQ announced longer than KP_AUTH_TOKEN_MAX is read and thrown away
 * up to this many octets, so that the KRB-ERROR we answer reaches the client (a
 * socket closed with unread input sends a reset, and the client sees "connection
 * reset" instead of the reason); a longer one is answered without waiting for it. */
#define KP_KPOP_DRAIN_MAX KP_LINE_DRAIN_MAX

/* SASL security layer: the largest packet we accept from the peer (RFC 4752's
 * maxbufsize); 64 KiB keeps wrap/unwrap cheap and memory per session bounded. */
#define KP_SASL_MAXBUF 65536

/* Config file: longest line. */
#define KP_CONF_LINE_MAX 1024

/* IPC between kpopd's processes (common/kp_ipc_msg.h has the message set).
 * Peer and local addresses travel as numeric "address port" text: an IPv6 address
 * with a scope (INET6_ADDRSTRLEN 46 + "%" + IFNAMSIZ 16) and a port fit in 80;
 * 128 leaves room and is still small.  Sizes of string fields include the NUL. */
#define KP_IPC_ADDR_MAX 128

/* Why an authentication failed or a connection was refused, for the log: the same
 * size as the server's why[] texts. */
#define KP_IPC_REASON_MAX 512

/* A password comes from one PASS command line of at most KP_CMD_LINE_MAX octets,
 * "PASS " and CRLF included, so an array of that size (NUL included) holds any
 * password the line reader lets through. */
#define KP_IPC_PASSWORD_MAX KP_CMD_LINE_MAX

/* An exported GSS context (gss_export_sec_context).  MIT krb5 1.20 exports an
 * established acceptor context as about 1.2 KB, but it serialises the ticket's and
 * the authenticator's authorization data too (ser_sctx.c), and an AD ticket's PAC
 * twice: once as authorization data and once in the authdata context of the mspac
 * plugin.  A Samba DC's 40,528-octet ticket (4,930 groups) exported as 81,275
 * bytes (tests/e2e/samba.sh), so twice the largest token, KP_AUTH_TOKEN_MAX, plus
 * 8 KiB for keys, names, sequence state and framing. */
#define KP_IPC_GSSCTX_MAX (2 * KP_AUTH_TOKEN_MAX + 8192)

/* One IPC message (one SOCK_SEQPACKET packet), header included.  The largest is a
 * VERDICT with every field at its cap: 8 bytes of header, principal and user
 * (KP_NAME_MAX each), a maildrop path (PATH_MAX), six u32 and an exported context
 * of KP_IPC_GSSCTX_MAX, about 144 KB (a full GSS_STEP: 65,551); kp_ipc.c checks
 * the largest at compile time, test-ipc every message.  160 KiB leaves room for
 * a new field and stays under the AF_UNIX send buffer (net.core.wmem_default,
 * 208 KiB on Linux: a SEQPACKET message must fit it whole), so one send() of a
 * valid message never fails with EMSGSIZE.
 * A receiver reads into KP_IPC_MSG_MAX + 1 bytes: a longer packet is refused. */
#define KP_IPC_MSG_MAX 163840

/* PROXY protocol headers (HAProxy's spec, server/proxyproto.c).  A v1 line is at
 * most 107 octets by the spec ("PROXY TCP6" with two full IPv6 addresses and
 * ports, CRLF included).  A v2 header is 16 octets plus an address block (at most
 * 216, AF_UNIX) plus TLVs: HAProxy sends none unless proxy-v2-options asks, and
 * with every option (ALPN, authority, unique id <= 128, SSL version, cipher,
 * algorithms and client CN, netns) stays far under 1 KiB; 4 KiB bounds it with
 * room, on the stack of the one function that reads it. */
#define KP_PROXY_V1_MAX 107
#define KP_PROXY_V2_MAX 4096

/* The whole PROXY header must arrive within this time.  A load balancer writes it
 * with the connection, before any client byte; only trusted peers get this far,
 * so a short wait costs nobody but a broken proxy. */
#define KP_PROXY_TIMEOUT_MS 3000

/* Trusted networks of one proxy_trusted list. */
#define KP_PROXY_TRUSTED_MAX 16

/* kpopd -t -k: principals of the service checked from one keytab, and keys listed
 * for each.  A host with more pop/ names than this is unusual; a key per kvno and
 * enctype, a few kvnos kept during a rekey. */
#define KP_SELFCHECK_PRINCIPALS_MAX 64
#define KP_SELFCHECK_KEYS_MAX 32

#endif
