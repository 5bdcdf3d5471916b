/*
 * process.capabilities: the five sets of the OCI spec, by name, as bit
 * masks, and applied with libcap in the process just before it execs.
 *
 * Names are checked when the container (or exec) is set up, so a typo
 * fails create with the field's name; a capability libcap knows but the
 * guest kernel does not is dropped with a log line, as runc does.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "agent.h"
#include "ocispec.h"

static const char *const set_names[CAPSET_COUNT] = {"bounding", "effective", "inheritable",
						    "permitted", "ambient"};

int cap_parse_name(const char *name, int *value)
{
	char lower[64];
	cap_value_t v;
	size_t n = strlen(name);

	/* libcap knows "cap_sys_admin"; the spec writes "CAP_SYS_ADMIN". */
	if (n == 0 || n >= sizeof(lower) || strncasecmp(name, "CAP_", 4) != 0)
		return -1;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	/* cap_from_name also takes numbers: the spec has names only. */
	if (isdigit((unsigned char)lower[4]) || cap_from_name(lower, &v) < 0)
		return -1;
	*value = v;
	return 0;
}

static int set_parse(char **names, size_t len, const char *set, uint64_t *mask, runk_error_t *err)
{
	int last = (int)cap_max_bits() - 1;

	*mask = 0;
	for (size_t i = 0; i < len; i++) {
		int v;

		if (cap_parse_name(names[i], &v) < 0)
			return runk_error(err,
					  "process.capabilities.%s[%zu]: unknown capability `%s`",
					  set, i, names[i]);
		if (v > last || v > 63) {
			log_info("capability %s is not known to the guest kernel: ignored",
				 names[i]);
			continue;
		}
		*mask |= 1ULL << v;
	}
	return 0;
}

int caps_parse(const struct oci_linux_capabilities *c, struct cap_sets *out, runk_error_t *err)
{
	char **const lists[CAPSET_COUNT] = {c->bounding, c->effective, c->inheritable, c->permitted,
					    c->ambient};
	const size_t lens[CAPSET_COUNT] = {c->bounding_len, c->effective_len, c->inheritable_len,
					   c->permitted_len, c->ambient_len};

	for (int i = 0; i < CAPSET_COUNT; i++)
		if (set_parse(lists[i], lens[i], set_names[i], &out->mask[i], err) < 0)
			return -1;
	out->set = true;
	return 0;
}

int caps_drop_bounding(const struct cap_sets *c, runk_error_t *err)
{
	int last = (int)cap_max_bits() - 1;

	if (!c->set)
		return 0;
	for (int v = 0; v <= last && v < 64; v++) {
		if (c->mask[CAPSET_BOUNDING] & (1ULL << v))
			continue;
		if (cap_drop_bound((cap_value_t)v) < 0 && errno != EINVAL)
			return runk_error_errno(err, errno,
						"drop capability %d from the bounding set", v);
	}
	return 0;
}

int caps_apply(const struct cap_sets *c, runk_error_t *err)
{
	static const cap_flag_t flags[] = {CAP_EFFECTIVE, CAP_INHERITABLE, CAP_PERMITTED};
	static const int sets[] = {CAPSET_EFFECTIVE, CAPSET_INHERITABLE, CAPSET_PERMITTED};
	int last = (int)cap_max_bits() - 1;
	cap_t caps;

	if (!c->set)
		return 0;
	caps = cap_init();
	if (caps == NULL)
		return runk_error_errno(err, errno, "cap_init");
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
		for (int v = 0; v <= last && v < 64; v++) {
			cap_value_t value = v;

			if ((c->mask[sets[f]] & (1ULL << v)) &&
			    cap_set_flag(caps, flags[f], 1, &value, CAP_SET) < 0) {
				cap_free(caps);
				return runk_error_errno(err, errno, "cap_set_flag");
			}
		}
	if (cap_set_proc(caps) < 0) {
		int e = errno;

		cap_free(caps);
		return runk_error_errno(err, e, "set the process's capabilities");
	}
	cap_free(caps);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int v = 0; v <= last && v < 64; v++) {
		if (!(c->mask[CAPSET_AMBIENT] & (1ULL << v)))
			continue;
		/* Only a capability both permitted and inheritable can be ambient: runc warns too.
		 */
		if (cap_set_ambient((cap_value_t)v, CAP_SET) < 0)
			log_info("ambient capability %d not raised: %s", v, strerror(errno));
	}
	return 0;
}
