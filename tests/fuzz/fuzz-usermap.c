/* fuzz-usermap.c - principal -> local user (server/usermap.c), the one
 * authorization mapping: input is a principal line, then a usermap file.  In every
 * mode a mapped name is a safe path element; in file mode it is the user of the
 * first line naming exactly that principal; in realm mode it is the principal's
 * first component, and only for an allowed realm. */
#include "config.h"
#include "fuzz.h"

#include "kp_err.h"
#include "kp_limits.h"
#include "server/conf.h"
#include "server/usermap.h"

static char mapfile[4200];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char krb5conf[4200];
	static const char conf[] = "[libdefaults]\n default_realm = KPOP.TEST\n"
		"[realms]\n KPOP.TEST = {\n auth_to_local = RULE:[1:$1@$0](.*@KPOP\\.TEST)s/@.*//\n"
		" auth_to_local = RULE:[2:$1;$2](^.*;admin$)s/;admin$//\n auth_to_local = DEFAULT\n }\n";

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(krb5conf, sizeof(krb5conf), "%s/krb5.conf", fuzz_scratch());
	fuzz_write_file(krb5conf, conf, sizeof(conf) - 1);
	setenv("KRB5_CONFIG", krb5conf, 1);
	snprintf(mapfile, sizeof(mapfile), "%s/usermap", fuzz_scratch());
	return 0;
}

/* The user of the first "principal user" line for principal, by the file's rules
 * as kpopd.conf(5) states them; NULL if none (or the file is broken). */
static const char *
model_file(const char *file, const char *principal, char *user, size_t cap)
{
	const char *p = file;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *f1, *f2;
		size_t l1, l2, len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > KP_CONF_LINE_MAX)
			return NULL;
		f1 = p + strspn(p, " \t");
		l1 = strcspn(f1, " \t\r\n");
		if (*f1 != '#' && l1 > 0 && f1[l1] != '\0' && f1[l1] != '\r' && f1[l1] != '\n') {
			f2 = f1 + l1;
			f2 += strspn(f2, " \t");
			l2 = strcspn(f2, " \t\r\n");
			/* a line with the principal and no user ("alice@KPOP.TEST " with
			 * trailing white space) is no entry: kpopd skips it */
			if (l1 == strlen(principal) && memcmp(f1, principal, l1) == 0 && l2 > 0) {
				if (l2 >= cap)
					return NULL;
				memcpy(user, f2, l2);
				user[l2] = '\0';
				/* the rest of the file must still be free of long lines */
				for (p = eol; p != NULL; p = strchr(p + 1, '\n'))
					if ((strchr(p + 1, '\n') != NULL ?
					     (size_t)(strchr(p + 1, '\n') - p - 1) : strlen(p + 1)) >
					    KP_CONF_LINE_MAX)
						return NULL;
				return user;
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *file, user[KP_NAME_MAX], why[512], want[KP_NAME_MAX];
	struct kp_conf c;
	const char *mode;
	int rc;

	if (size < 2)
		return 0;
	text = fuzz_strdup(data + 1, size - 1);
	file = strchr(text, '\n');
	if (file == NULL) {
		free(text);
		return 0;
	}
	*file++ = '\0';
	fuzz_write_file(mapfile, file, strlen(file));
	kp_conf_defaults(&c);
	mode = (const char *[]){ "realm", "file", "aname2lname" }[data[0] % 3];
	FUZZ_CHECK(kp_conf_set(&c, "usermap", mode, "fuzz") == 0, "kp_conf_set", "usermap");
	FUZZ_CHECK(kp_conf_set(&c, "usermap_file", mapfile, "fuzz") == 0, "kp_conf_set",
		   "usermap_file");
	if (data[0] & 8)
		FUZZ_CHECK(kp_conf_set(&c, "realms", "KPOP.TEST OTHER.TEST", "fuzz") == 0,
			   "kp_conf_set", "realms");
	if (data[0] & 16)
		FUZZ_CHECK(kp_conf_set(&c, "allow_instances", "yes", "fuzz") == 0, "kp_conf_set",
			   "allow_instances");
	rc = kp_usermap_map(&c, text, user, (data[0] & 32) ? 8 : sizeof(user), why, sizeof(why));
	FUZZ_CHECK(rc == 0 || rc == KP_E_AUTH, "kp_usermap_map", "unexpected return code");
	if (rc == 0) {
		FUZZ_CHECK(kp_usermap_valid_user(user), "kp_usermap_map",
			   "mapped to an unsafe user name");
		if (data[0] % 3 == 1) {
			FUZZ_CHECK(model_file(file, text, want, sizeof(want)) != NULL &&
				   strcmp(want, user) == 0, "kp_usermap_map",
				   "file mode mapped to a user no line gives");
		} else if (data[0] % 3 == 0 && strchr(text, '\\') == NULL) {
			/* (the model reads the text; with krb5 escapes such as \l the
			 * component is what krb5_parse_name makes of them) */
			size_t n = strlen(user);

			FUZZ_CHECK(strncmp(text, user, n) == 0 && (text[n] == '@' ||
				   (text[n] == '/' && (data[0] & 16))), "kp_usermap_map",
				   "realm mode mapped to something else than the first component");
		}
	}
	kp_conf_free(&c);
	free(text);
	return 0;
}
