/* bigticket.c - a test helper: a real service ticket as large as an Active
 * Directory ticket with a big PAC.  The MIT KDC of the test realm cannot make a PAC,
 * but it copies the authorization data of a TGS request into the ticket it issues
 * (RFC 4120 5.4.1, enc-authorization-data): we ask for pop/HOST with OCTETS of
 * opaque authorization data, and store the ticket in a new ccache that kpop (or
 * any client) then uses as it would use a ticket from an AD domain controller.
 *
 * usage: bigticket CCACHE_WITH_TGT SERVICE_PRINCIPAL OCTETS OUT_CCACHE
 * Prints the ticket's size in octets.  OCTETS 0 adds nothing: the ticket as the
 * KDC makes it (an AD DC's, with its PAC), to measure it.  Exit 0, or 1 with the
 * reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krb5.h>

/* An authorization-data type no implementation interprets (RFC 4120 7.5.4 leaves
 * unregistered types to be ignored): the data is only there for its size. */
#define AD_TYPE_OPAQUE 600

static int
fail(krb5_context ctx, const char *what, krb5_error_code k)
{
	const char *m = krb5_get_error_message(ctx, k);

	fprintf(stderr, "bigticket: %s: %s\n", what, m);
	krb5_free_error_message(ctx, m);
	return 1;
}

int
main(int argc, char **argv)
{
	krb5_context ctx;
	krb5_ccache in = NULL, out = NULL;
	krb5_creds want, *got = NULL;
	krb5_principal me = NULL, server = NULL;
	krb5_authdata ad, *adlist[2];
	krb5_error_code k;
	char *end;
	unsigned long octets;

	if (argc != 5) {
		fprintf(stderr, "usage: bigticket CCACHE SERVICE OCTETS OUT_CCACHE\n");
		return 2;
	}
	octets = strtoul(argv[3], &end, 10);
	if (*end != '\0' || argv[3][0] == '\0' || octets > 16UL * 1024 * 1024) {
		fprintf(stderr, "bigticket: bad size %s\n", argv[3]);
		return 2;
	}
	if (krb5_init_context(&ctx) != 0)
		return 1;
	if ((k = krb5_cc_resolve(ctx, argv[1], &in)) != 0)
		return fail(ctx, argv[1], k);
	if ((k = krb5_cc_get_principal(ctx, in, &me)) != 0)
		return fail(ctx, "the ccache's principal", k);
	if ((k = krb5_parse_name(ctx, argv[2], &server)) != 0)
		return fail(ctx, argv[2], k);
	memset(&ad, 0, sizeof(ad));
	ad.magic = KV5M_AUTHDATA;
	ad.ad_type = AD_TYPE_OPAQUE;
	ad.length = (unsigned int)octets;
	ad.contents = calloc(1, octets > 0 ? octets : 1);
	if (ad.contents == NULL)
		return 1;
	memset(ad.contents, 'G', octets);
	adlist[0] = &ad;
	adlist[1] = NULL;
	memset(&want, 0, sizeof(want));
	want.client = me;
	want.server = server;
	want.authdata = octets > 0 ? adlist : NULL;
	/* not stored in the source ccache: other tests use it */
	if ((k = krb5_get_credentials(ctx, KRB5_GC_NO_STORE, in, &want, &got)) != 0)
		return fail(ctx, "TGS request with authorization data", k);
	/* The data now sits inside the ticket; the ccache entry is an ordinary one, so
	 * that a client finds it for pop/HOST without asking for authorization data
	 * itself (and does not also copy it into its authenticator). */
	krb5_free_authdata(ctx, got->authdata);
	got->authdata = NULL;
	if ((k = krb5_cc_resolve(ctx, argv[4], &out)) != 0)
		return fail(ctx, argv[4], k);
	if ((k = krb5_cc_initialize(ctx, out, me)) != 0 ||
	    (k = krb5_cc_store_cred(ctx, out, got)) != 0)
		return fail(ctx, "storing the ticket", k);
	printf("%u\n", got->ticket.length);
	krb5_cc_close(ctx, out);
	krb5_cc_close(ctx, in);
	krb5_free_creds(ctx, got);
	krb5_free_principal(ctx, me);
	krb5_free_principal(ctx, server);
	free(ad.contents);
	krb5_free_context(ctx);
	return 0;
}
