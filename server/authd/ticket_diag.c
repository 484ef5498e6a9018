/* ticket_diag.c - why a ticket was not accepted: the AP-REQ read without its key
 * (RFC 4120 5.5.1; the ticket through krb5_decode_ticket), held against the
 * keytab and the krb5 error code, as one line with the fix. */
#include "config.h"
#include "server/authd/ticket_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <krb5.h>

#include "kp_krb.h"

/* --- a minimal DER reader: only what an AP-REQ needs ------------------------------ */

struct der {
	const unsigned char *p, *end;
};

/* The next TLV of d: its tag (low tag numbers only, as in every Kerberos message)
 * and its value.  0, or -1 if d is not well-formed there. */
static int
der_next(struct der *d, unsigned *tag_out, struct der *val_out)
{
	size_t len, n, i;

	if (d->end - d->p < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	*tag_out = *d->p++;
	n = *d->p++;
	len = n;
	if (n & 0x80) {
		n &= 0x7f;
		if (n == 0 || n > 4 || (size_t)(d->end - d->p) < n)
			return -1;
		for (len = 0, i = 0; i < n; i++)
			len = len << 8 | *d->p++;
	}
	if ((size_t)(d->end - d->p) < len)
		return -1;
	val_out->p = d->p;
	val_out->end = d->p + len;
	d->p += len;
	return 0;
}

/* The value of the element tagged tag in d (a SEQUENCE's contents), or -1. */
static int
der_find(struct der d, unsigned tag, struct der *val_out)
{
	unsigned t;

	while (d.p < d.end) {
		if (der_next(&d, &t, val_out) != 0)
			return -1;
		if (t == tag)
			return 0;
	}
	return -1;
}

/* Step into one TLV of the given tag that fills d exactly. */
static int
der_enter(struct der *d, unsigned tag)
{
	struct der v;
	unsigned t;

	if (der_next(d, &t, &v) != 0 || t != tag || d->p != d->end)
		return -1;
	*d = v;
	return 0;
}

static int
der_int(struct der d, long *out)
{
	struct der v;
	unsigned t;
	long x;

	if (der_next(&d, &t, &v) != 0 || t != 0x02 || v.p == v.end || v.end - v.p > 4)
		return -1;
	x = (v.p[0] & 0x80) ? -1 : 0;
	for (; v.p < v.end; v.p++)
		x = (long)((unsigned long)x << 8) | *v.p;
	*out = x;
	return 0;
}

/* The krb5 mechanism's OID, 1.2.840.113554.1.2.2, as DER contents. */
static const unsigned char krb5_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02,
					  0x02 };

/* The AP-REQ inside token: a GSS initial context token (0x60, the mechanism OID,
 * TOK_ID 01 00), or the bare AP-REQ KPOP sends. */
static int
ap_req_of(const void *token, size_t len, struct der *out)
{
	struct der d = { token, (const unsigned char *)token + len }, v;
	unsigned t;

	if (len > 0 && d.p[0] == 0x60) {
		if (der_enter(&d, 0x60) != 0 || der_next(&d, &t, &v) != 0 || t != 0x06 ||
		    (size_t)(v.end - v.p) != sizeof(krb5_oid) ||
		    memcmp(v.p, krb5_oid, sizeof(krb5_oid)) != 0 || d.end - d.p < 2 ||
		    d.p[0] != 0x01 || d.p[1] != 0x00)
			return -1;
		d.p += 2;
	}
	if (der_enter(&d, 0x6e) != 0 || der_enter(&d, 0x30) != 0)
		return -1;
	*out = d;
	return 0;
}

/* --- what the keytab holds for the ticket's server ---------------------------------- */

struct held {
	int princ, kvno, key;  /* entries for the principal / its kvno / and its enctype */
	char kvnos[64];        /* the principal's kvnos in the keytab */
	char enctypes[200];    /* the enctypes of the ticket's kvno */
	char others[300];      /* other principals the keytab holds (the first few) */
};

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

static void
enctype_name(krb5_enctype e, char *out, size_t cap)
{
	if (krb5_enctype_to_name(e, FALSE, out, cap) != 0)
		snprintf(out, cap, "enctype %d", (int)e);
}

static int
scan_keytab(krb5_context ctx, const struct kp_conf *c, const krb5_ticket *t, struct held *h)
{
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_kvno last = 0;
	int nothers = 0;

	memset(h, 0, sizeof(*h));
	if ((c->keytab != NULL ? krb5_kt_resolve(ctx, c->keytab, &kt) : krb5_kt_default(ctx, &kt))
	    != 0)
		return -1;
	if (krb5_kt_start_seq_get(ctx, kt, &cur) != 0) {
		krb5_kt_close(ctx, kt);
		return -1;
	}
	while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
		char name[64];

		if (krb5_principal_compare(ctx, e.principal, t->server)) {
			h->princ = 1;
			if (h->kvnos[0] == '\0' || e.vno != last)
				append(h->kvnos, sizeof(h->kvnos), "%s%u", h->kvnos[0] ? ", " : "",
				       (unsigned)e.vno);
			last = e.vno;
			if (e.vno == t->enc_part.kvno) {
				h->kvno = 1;
				h->key |= e.key.enctype == t->enc_part.enctype;
				enctype_name(e.key.enctype, name, sizeof(name));
				append(h->enctypes, sizeof(h->enctypes), "%s%s",
				       h->enctypes[0] ? ", " : "", name);
			}
		} else if (nothers < 4) {
			char *p = NULL;

			if (krb5_unparse_name(ctx, e.principal, &p) == 0 &&
			    strstr(h->others, p) == NULL) {
				append(h->others, sizeof(h->others), "%s%s",
				       h->others[0] ? ", " : "", p);
				nothers++;
			}
			krb5_free_unparsed_name(ctx, p);
		}
		krb5_free_keytab_entry_contents(ctx, &e);
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
	krb5_kt_close(ctx, kt);
	return 0;
}

static int
permitted(krb5_context ctx, krb5_enctype e)
{
	krb5_enctype *list = NULL;
	int i, ok = 0;

	if (krb5_get_permitted_enctypes(ctx, &list) != 0)
		return 1; /* cannot tell: not the cause we report */
	for (i = 0; list[i] != 0; i++)
		ok |= list[i] == e;
	krb5_free_enctypes(ctx, list);
	return ok;
}

/* --- the clock skew, from the authenticator -------------------------------------------- */

/* "YYYYMMDDHHMMSSZ" (RFC 4120 5.2.3) as seconds since the epoch, or -1. */
static long long
kerberos_time(struct der v)
{
	struct tm tm;
	int f[6], i, k;
	const int w[6] = { 4, 2, 2, 2, 2, 2 };
	const unsigned char *p = v.p;

	if (v.end - v.p != 15 || v.p[14] != 'Z')
		return -1;
	for (i = 0; i < 6; i++) {
		f[i] = 0;
		for (k = 0; k < w[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			f[i] = f[i] * 10 + (*p - '0');
		}
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	return (long long)timegm(&tm);
}

/* The authenticator's time minus ours, in seconds: the ticket opened with our key,
 * the authenticator with its session key.  0 and *skew_out, or -1. */
static int
client_skew(krb5_context ctx, const struct kp_conf *c, krb5_ticket *t, struct der ap,
	    long long *skew_out)
{
	krb5_keytab kt = NULL;
	krb5_enc_data enc;
	krb5_data plain = { 0 };
	struct der auth, v, tv;
	long etype;
	unsigned tag;
	long long ctime;
	int rc = -1;

	if (der_find(ap, 0xa4, &auth) != 0 || der_enter(&auth, 0x30) != 0 ||
	    der_find(auth, 0xa0, &v) != 0 || der_int(v, &etype) != 0 ||
	    der_find(auth, 0xa2, &v) != 0 || der_next(&v, &tag, &tv) != 0 || tag != 0x04)
		return -1;
	if ((c->keytab != NULL ? krb5_kt_resolve(ctx, c->keytab, &kt) : krb5_kt_default(ctx, &kt))
	    != 0)
		return -1;
	if (krb5_server_decrypt_ticket_keytab(ctx, kt, t) != 0)
		goto cleanup;
	memset(&enc, 0, sizeof(enc));
	enc.enctype = (krb5_enctype)etype;
	enc.ciphertext.data = (char *)tv.p;
	enc.ciphertext.length = (unsigned int)(tv.end - tv.p);
	plain.length = enc.ciphertext.length;
	plain.data = malloc(plain.length > 0 ? plain.length : 1);
	if (plain.data == NULL ||
	    krb5_c_decrypt(ctx, t->enc_part2->session, KRB5_KEYUSAGE_AP_REQ_AUTH, NULL, &enc,
			   &plain) != 0)
		goto cleanup;
	/* Authenticator ::= [APPLICATION 2] SEQUENCE { ..., ctime [5] KerberosTime } */
	v.p = (const unsigned char *)plain.data;
	v.end = v.p + plain.length;
	if (der_next(&v, &tag, &auth) != 0 || tag != 0x62 || der_enter(&auth, 0x30) != 0 ||
	    der_find(auth, 0xa5, &v) != 0 || der_next(&v, &tag, &tv) != 0 || tag != 0x18 ||
	    (ctime = kerberos_time(tv)) < 0)
		goto cleanup;
	*skew_out = ctime - (long long)time(NULL);
	rc = 0;
cleanup:
	if (plain.data != NULL) {
		explicit_bzero(plain.data, plain.length);
		free(plain.data);
	}
	krb5_kt_close(ctx, kt);
	return rc;
}

/* --- the verdict ----------------------------------------------------------------------- */

enum kp_ticket_cause
kp_ticket_diag(const struct kp_conf *c, const void *token, size_t len, long code,
	       char *out, size_t cap)
{
	krb5_context ctx = NULL;
	krb5_ticket *t = NULL;
	krb5_data td;
	struct der ap, tk;
	struct held h;
	char *sname = NULL, etname[64], head[400];
	long long skew;
	enum kp_ticket_cause found = KP_TICKET_OTHER;

	if (cap == 0)
		return KP_TICKET_NONE;
	out[0] = '\0';
	if (ap_req_of(token, len, &ap) != 0 || der_find(ap, 0xa3, &tk) != 0) {
		snprintf(out, cap, "the token is truncated or garbled (%zu octets that are not a "
			 "complete Kerberos AP-REQ): a broken client, or something on the way "
			 "cutting it short", len);
		return KP_TICKET_GARBLED;
	}
	if (krb5_init_context(&ctx) != 0)
		return KP_TICKET_NONE;
	td.data = (char *)tk.p;
	td.length = (unsigned int)(tk.end - tk.p);
	if (krb5_decode_ticket(&td, &t) != 0) {
		snprintf(out, cap, "the ticket inside the token is garbled (%zu octets): a "
			 "broken client", len);
		found = KP_TICKET_GARBLED;
		goto cleanup;
	}
	if (krb5_unparse_name(ctx, t->server, &sname) != 0) {
		found = KP_TICKET_NONE;
		goto cleanup;
	}
	enctype_name(t->enc_part.enctype, etname, sizeof(etname));
	snprintf(head, sizeof(head), "ticket for %s kvno %u %s", sname,
		 (unsigned)t->enc_part.kvno, etname);

	if (code == KRB5_NOPERM_ETYPE || !permitted(ctx, t->enc_part.enctype)) {
		snprintf(out, cap, "%s: enctype %s is not permitted on this host "
			 "(permitted_enctypes in krb5.conf): give the service account AES keys "
			 "(AD: msDS-SupportedEncryptionTypes, then export the keytab again) or "
			 "permit %s", head, etname, etname);
		found = KP_TICKET_ENCTYPE;
		goto cleanup;
	}
	if (c->server_principal != NULL && strcmp(sname, c->server_principal) != 0) {
		snprintf(out, cap, "%s: the ticket is for %s, not for the pinned "
			 "server_principal %s", head, sname, c->server_principal);
		found = KP_TICKET_PINNED;
		goto cleanup;
	}
	if (scan_keytab(ctx, c, t, &h) == 0) {
		if (!h.princ) {
			snprintf(out, cap, "%s: principal %s is not in the keytab (it holds "
				 "%s): add its key, or have clients use a name the keytab holds",
				 head, sname, h.others[0] ? h.others : "no keys at all");
			found = KP_TICKET_NOPRINC;
			goto cleanup;
		}
		if (!h.kvno) {
			snprintf(out, cap, "%s: kvno %u not found in keytab (it has kvno %s); "
				 "keytab is likely out of date: export the current key again "
				 "(kadmin ktadd -norandkey, samba-tool domain exportkeytab, ktpass)", head,
				 (unsigned)t->enc_part.kvno, h.kvnos);
			found = KP_TICKET_KVNO;
			goto cleanup;
		}
		if (!h.key) {
			snprintf(out, cap, "%s: the keytab has no %s key for kvno %u (it has %s): "
				 "export a key of that enctype, or have the KDC use one the keytab "
				 "holds", head, etname, (unsigned)t->enc_part.kvno, h.enctypes);
			found = KP_TICKET_NOKEY;
			goto cleanup;
		}
	}
	switch (code) {
	case KRB5KRB_AP_ERR_SKEW:
	case KRB5KRB_AP_ERR_TKT_NYV:
		if (client_skew(ctx, c, t, ap, &skew) == 0)
			snprintf(out, cap, "%s: clock skew: the client's clock is %lld s %s this "
				 "host's (krb5.conf clockskew allows 300 s by default): fix time "
				 "synchronisation (NTP) on the client, this host or the KDC", head,
				 skew < 0 ? -skew : skew, skew < 0 ? "behind" : "ahead of");
		else
			snprintf(out, cap, "%s: clock skew: the client's and this host's clocks "
				 "differ too much: fix time synchronisation (NTP)", head);
		break;
	case KRB5KRB_AP_ERR_REPEAT:
		snprintf(out, cap, "%s: replay: this authenticator was already used (replay cache "
			 "in rcache_dir): a client sent the same request twice, or someone "
			 "replayed it", head);
		break;
	case KRB5KRB_AP_ERR_TKT_EXPIRED:
		snprintf(out, cap, "%s: the ticket has expired: the client must get a new one "
			 "(kinit)", head);
		break;
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KRB_AP_ERR_MODIFIED:
		snprintf(out, cap, "%s: the keytab's key for kvno %u does not open the ticket: the "
			 "key changed without a new kvno (AD: a password reset; or a keytab from "
			 "another KDC): export it again", head, (unsigned)t->enc_part.kvno);
		break;
	default:
		snprintf(out, cap, "%s", head);
		found = KP_TICKET_NONE;
	}
cleanup:
	if (sname != NULL)
		krb5_free_unparsed_name(ctx, sname);
	if (t != NULL)
		krb5_free_ticket(ctx, t);
	krb5_free_context(ctx);
	return found;
}

enum kp_ticket_cause
kp_ticket_why(const struct kp_conf *c, const void *token, size_t len, long code,
	      const char *what, const char *detail, char *out, size_t cap)
{
	char cause[768];
	const char *hint;
	enum kp_ticket_cause found = kp_ticket_diag(c, token, len, code, cause, sizeof(cause));

	if (found != KP_TICKET_NONE) {
		snprintf(out, cap, "%s [%s: %s]", cause, what, detail);
		return found;
	}
	hint = kp_krb_why_text(kp_krb5_classify(code));
	if (hint == NULL)
		hint = kp_krb_why_text(kp_krb5_classify_text(detail));
	snprintf(out, cap, "%s%s%s: %s%s%s", cause, cause[0] != '\0' ? ": " : "", what, detail,
		 hint != NULL ? " -- " : "", hint != NULL ? hint : "");
	return KP_TICKET_NONE;
}
