/*
 * A minimal TAP producer for runk's C unit tests.  Each check prints one
 * "ok N - name" or "not ok N - name" line; test_done() prints the plan and
 * returns the exit status for main().
 */
#ifndef RUNK_TESTLIB_H
#define RUNK_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int test_count;
static int test_failures;

static inline void test_result(int passed, const char *name, const char *file, int line)
{
	test_count++;
	if (!passed)
		test_failures++;
	printf("%sok %d - %s\n", passed ? "" : "not ", test_count, name);
	if (!passed)
		printf("# failed at %s:%d\n", file, line);
	fflush(stdout);
}

/* ok(cond, "name %s", args...) */
#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		char _name[512];                                                                   \
		snprintf(_name, sizeof(_name), __VA_ARGS__);                                       \
		test_result(!!(cond), _name, __FILE__, __LINE__);                                  \
	} while (0)

/* is_str(got, expected, "name") compares strings, NULL-safe, and shows both on failure. */
#define is_str(got, expected, ...)                                                                 \
	do {                                                                                       \
		const char *_g = (got), *_e = (expected);                                          \
		int _same = (_g == NULL && _e == NULL) ||                                          \
			    (_g != NULL && _e != NULL && strcmp(_g, _e) == 0);                     \
		ok(_same, __VA_ARGS__);                                                            \
		if (!_same)                                                                        \
			printf("#   got:      %s\n#   expected: %s\n", _g ? _g : "(null)",         \
			       _e ? _e : "(null)");                                                \
	} while (0)

static inline int test_done(void)
{
	printf("1..%d\n", test_count);
	return test_failures ? 1 : 0;
}

#endif
