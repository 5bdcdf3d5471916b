/*
 * linux.seccomp with libseccomp, converted the way runc converts it:
 *
 *   - SCMP_ACT_ERRNO and SCMP_ACT_TRACE return errnoRet (a rule's, or
 *     defaultErrnoRet for the default action), EPERM when it is unset;
 *   - a syscall name libseccomp does not know is skipped (a profile lists
 *     syscalls of newer kernels and other architectures);
 *   - a rule whose action is the default action is skipped (libseccomp
 *     refuses it and it changes nothing);
 *   - a rule's args are ANDed in one rule, unless one argument index
 *     appears more than once: then each arg is a rule of its own (ORed);
 *   - SCMP_ACT_NOTIFY is refused: the guest has no seccomp agent to
 *     hand the listener to.
 *
 * The filter is built before the container's process is forked (so every
 * mistake fails create with the field's name) and loaded in the process:
 * right before exec with noNewPrivileges, otherwise while it still has
 * CAP_SYS_ADMIN.
 */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "ocispec.h"

int seccomp_action_parse(const char *name, bool has_errno, uint64_t errno_ret, uint32_t *action,
			 runk_error_t *err)
{
	uint32_t ret = has_errno ? (uint32_t)errno_ret : EPERM;

	if (has_errno && errno_ret > 0xffff)
		return runk_error(err, "errnoRet %llu is out of range",
				  (unsigned long long)errno_ret);
	if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*action = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*action = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*action = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*action = SCMP_ACT_ERRNO(ret);
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*action = SCMP_ACT_TRACE(ret);
	else if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*action = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*action = SCMP_ACT_LOG;
	else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return runk_error(err,
				  "SCMP_ACT_NOTIFY is not supported: a seccomp agent cannot be "
				  "reached inside the VM");
	else
		return runk_error(err, "unknown seccomp action `%s`", name);
	return 0;
}

int seccomp_op_parse(const char *name, int *op)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE},
		{"SCMP_CMP_LT", SCMP_CMP_LT},
		{"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ},
		{"SCMP_CMP_GE", SCMP_CMP_GE},
		{"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(name, ops[i].name) == 0) {
			*op = (int)ops[i].op;
			return 0;
		}
	return -1;
}

uint32_t seccomp_arch_parse(const char *name)
{
	char lower[32];
	size_t n;

	/* SCMP_ARCH_X86_64 -> "x86_64", the name libseccomp resolves. */
	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	n = strlen(name + 10);
	if (n == 0 || n >= sizeof(lower))
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char ch = name[10 + i];

		lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	return seccomp_arch_resolve_name(lower);
}

int seccomp_flag_parse(const char *name, int *attr)
{
	if (strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
		*attr = SCMP_FLTATR_CTL_TSYNC;
	else if (strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0)
		*attr = SCMP_FLTATR_CTL_LOG;
	else if (strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
		*attr = SCMP_FLTATR_CTL_SSB;
	else
		return -1;
	return 0;
}

static int rule_add(scmp_filter_ctx ctx, const struct oci_linux_syscall *sc, size_t idx,
		    const char *name, int nr, uint32_t action, runk_error_t *err)
{
	struct scmp_arg_cmp conds[16];
	unsigned int count[6] = {0};
	bool separate = false;
	int r;

	if (sc->args_len > sizeof(conds) / sizeof(conds[0]))
		return runk_error(err, "linux.seccomp.syscalls[%zu].args: more than %zu", idx,
				  sizeof(conds) / sizeof(conds[0]));
	for (size_t i = 0; i < sc->args_len; i++) {
		const struct oci_linux_seccomp_arg *a = sc->args[i];
		int op;

		if (a->index > 5)
			return runk_error(err,
					  "linux.seccomp.syscalls[%zu].args[%zu].index: %llu is "
					  "not an argument index (0-5)",
					  idx, i, (unsigned long long)a->index);
		if (a->op == NULL || seccomp_op_parse(a->op, &op) < 0)
			return runk_error(err,
					  "linux.seccomp.syscalls[%zu].args[%zu].op: unknown "
					  "operator `%s`",
					  idx, i, a->op ? a->op : "");
		conds[i] = (struct scmp_arg_cmp){.arg = (unsigned int)a->index,
						 .op = (enum scmp_compare)op,
						 .datum_a = a->value,
						 .datum_b = a->value_two};
		if (++count[a->index] > 1)
			separate = true;
	}
	if (!separate) {
		r = seccomp_rule_add_array(ctx, action, nr, (unsigned int)sc->args_len, conds);
	} else {
		r = 0;
		for (size_t i = 0; i < sc->args_len && r == 0; i++)
			r = seccomp_rule_add_array(ctx, action, nr, 1, &conds[i]);
	}
	if (r < 0)
		return runk_error_errno(err, -r, "linux.seccomp.syscalls[%zu]: add the rule for %s",
					idx, name);
	return 0;
}

static int syscalls_add(scmp_filter_ctx ctx, const struct oci_linux_seccomp *s,
			uint32_t default_action, runk_error_t *err)
{
	for (size_t i = 0; i < s->syscalls_len; i++) {
		const struct oci_linux_syscall *sc = s->syscalls[i];
		uint32_t action;

		if (sc->action == NULL || seccomp_action_parse(sc->action, sc->has_errno_ret,
							       sc->errno_ret, &action, err) < 0)
			return runk_error_prefix(err, "linux.seccomp.syscalls[%zu].action", i);
		if (action == default_action)
			continue;
		for (size_t j = 0; j < sc->names_len; j++) {
			int nr = seccomp_syscall_resolve_name(sc->names[j]);

			if (nr == __NR_SCMP_ERROR)
				continue; /* not a syscall here: runc skips it too */
			if (rule_add(ctx, sc, i, sc->names[j], nr, action, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int filter_setup(scmp_filter_ctx ctx, const struct oci_linux_seccomp *s,
			uint32_t default_action, runk_error_t *err)
{
	int r;

	/* no_new_privs is the config's own field, set (or not) by the agent. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
		return runk_error_errno(err, -r, "seccomp: clear the NNP attribute");
	for (size_t i = 0; i < s->architectures_len; i++) {
		uint32_t arch = seccomp_arch_parse(s->architectures[i]);

		if (arch == 0)
			return runk_error(err, "linux.seccomp.architectures[%zu]: unknown `%s`", i,
					  s->architectures[i]);
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST)
			return runk_error_errno(err, -r, "linux.seccomp.architectures[%zu]: `%s`",
						i, s->architectures[i]);
	}
	for (size_t i = 0; i < s->flags_len; i++) {
		int attr;

		if (seccomp_flag_parse(s->flags[i], &attr) < 0)
			return runk_error(err, "linux.seccomp.flags[%zu]: unknown flag `%s`", i,
					  s->flags[i]);
		if ((r = seccomp_attr_set(ctx, (enum scmp_filter_attr)attr, 1)) < 0)
			return runk_error_errno(err, -r, "linux.seccomp.flags[%zu]: `%s`", i,
						s->flags[i]);
	}
	return syscalls_add(ctx, s, default_action, err);
}

void *seccomp_build(const struct oci_linux_seccomp *s, runk_error_t *err)
{
	uint32_t default_action;
	scmp_filter_ctx ctx;

	if (s->listener_path && s->listener_path[0]) {
		runk_error(err, "linux.seccomp.listenerPath: a seccomp agent cannot be reached "
				"inside the VM");
		return NULL;
	}
	if (s->default_action == NULL ||
	    seccomp_action_parse(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
				 &default_action, err) < 0) {
		runk_error_prefix(err, "linux.seccomp.defaultAction");
		return NULL;
	}
	ctx = seccomp_init(default_action);
	if (ctx == NULL) {
		runk_error(err, "linux.seccomp: seccomp_init failed");
		return NULL;
	}
	if (filter_setup(ctx, s, default_action, err) < 0) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

int seccomp_apply(void *filter, runk_error_t *err)
{
	int r;

	if (filter == NULL)
		return 0;
	r = seccomp_load(filter);
	if (r < 0)
		return runk_error_errno(err, -r, "load the seccomp filter");
	return 0;
}

void seccomp_free(void *filter)
{
	if (filter)
		seccomp_release(filter);
}
