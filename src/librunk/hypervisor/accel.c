/* Which accelerator to run QEMU with, and the host facts a TCG guest needs (TSC rate). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"
#include "hypervisor/hypervisor.h"

#define CPUINFO_MAX (4 * 1024 * 1024)

int vm_accel_parse(const char *text, enum vm_accel *accel, runk_error_t *err)
{
	if (text == NULL || strcmp(text, "auto") == 0)
		*accel = VM_ACCEL_AUTO;
	else if (strcmp(text, "kvm") == 0)
		*accel = VM_ACCEL_KVM;
	else if (strcmp(text, "tcg") == 0)
		*accel = VM_ACCEL_TCG;
	else
		return runk_error(err, "unknown accelerator `%s` (auto, kvm or tcg)", text);
	return 0;
}

const char *vm_accel_name(enum vm_accel accel)
{
	switch (accel) {
	case VM_ACCEL_KVM:
		return "kvm";
	case VM_ACCEL_TCG:
		return "tcg";
	case VM_ACCEL_AUTO:
		break;
	}
	return "auto";
}

/* Does line (up to its newline) start with key followed by blanks and a colon?  Returns the value.
 */
static const char *cpuinfo_value(const char *line, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(line, key, len) != 0)
		return NULL;
	line += len;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != ':')
		return NULL;
	line++;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* Each line of text in turn: for (line = text; line; line = next_line(line)). */
static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

static bool has_word(const char *text, size_t len, const char *word)
{
	size_t wlen = strlen(word);

	for (size_t i = 0; i + wlen <= len; i++) {
		if (memcmp(text + i, word, wlen) != 0)
			continue;
		if ((i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t') &&
		    (i + wlen == len || text[i + wlen] == ' ' || text[i + wlen] == '\t'))
			return true;
	}
	return false;
}

bool vm_cpuinfo_has_hw_virt(const char *cpuinfo)
{
	for (const char *line = cpuinfo; line && *line; line = next_line(line)) {
		const char *flags = cpuinfo_value(line, "flags");
		size_t len;

		if (flags == NULL)
			continue;
		len = strcspn(flags, "\n");
		return has_word(flags, len, "vmx") || has_word(flags, len, "svm");
	}
	return false;
}

static bool kvm_device_works(void)
{
	cleanup_close int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	return fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

int vm_accel_resolve(enum vm_accel requested, enum vm_accel *chosen, const char **why,
		     runk_error_t *err)
{
	cleanup_free char *cpuinfo = NULL;
	const char *reason;
	size_t len;

	if (requested == VM_ACCEL_TCG) {
		reason = "tcg requested";
		*chosen = VM_ACCEL_TCG;
	} else if (!kvm_device_works()) {
		if (requested == VM_ACCEL_KVM)
			return runk_error(err, "kvm requested but /dev/kvm is missing or does "
					       "not answer KVM_GET_API_VERSION");
		reason = "/dev/kvm is missing or unusable";
		*chosen = VM_ACCEL_TCG;
	} else if (requested == VM_ACCEL_KVM) {
		reason = "kvm requested";
		*chosen = VM_ACCEL_KVM;
	} else if (access("/sys/module/kvm_pvm", F_OK) == 0) {
		/* PVM emulates VT-x in software: a stock guest kernel boots ~1000x slower. */
		reason = "/dev/kvm is PVM-backed (kvm_pvm loaded)";
		*chosen = VM_ACCEL_TCG;
	} else if (read_file("/proc/cpuinfo", CPUINFO_MAX, &cpuinfo, &len, NULL) < 0 ||
		   !vm_cpuinfo_has_hw_virt(cpuinfo)) {
		reason = "the CPU shows neither vmx nor svm";
		*chosen = VM_ACCEL_TCG;
	} else {
		reason = "/dev/kvm works on hardware virtualisation";
		*chosen = VM_ACCEL_KVM;
	}
	if (why)
		*why = reason;
	return 0;
}

/*
 * Parse a decimal "123.456" as an integer in units of 10^-scale: "2.4" with
 * scale 6 is 2400000.  Extra fraction digits are truncated.  Returns the end
 * of the number, or NULL if there is none or it overflows.
 */
static const char *parse_decimal(const char *s, unsigned int scale, unsigned long *out)
{
	unsigned long whole = 0, frac = 0, mult = 1;
	unsigned int digits = 0;
	const char *p = s;

	for (unsigned int i = 0; i < scale; i++)
		mult *= 10;
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (unsigned long)(*p - '0');
		if (whole > 1000000000UL)
			return NULL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (digits < scale) {
				frac = frac * 10 + (unsigned long)(*p - '0');
				digits++;
			}
		}
	}
	for (; digits < scale; digits++)
		frac *= 10;
	if (whole > (~0UL - frac) / mult)
		return NULL;
	*out = whole * mult + frac;
	return p;
}

/* "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz": the nominal rate, which is the TSC's. */
static bool model_name_khz(const char *value, unsigned long *khz)
{
	size_t len = strcspn(value, "\n");

	for (size_t i = 0; i + 1 < len; i++) {
		const char *end;
		unsigned long v;

		if (value[i] != '@')
			continue;
		end = parse_decimal(value + i + 1 + (value[i + 1] == ' '), 6, &v);
		if (end && strncmp(end, "GHz", 3) == 0 && v > 0) {
			*khz = v;
			return true;
		}
	}
	return false;
}

int vm_parse_cpuinfo_tsc_khz(const char *cpuinfo, unsigned long *khz, runk_error_t *err)
{
	unsigned long mhz_khz = 0;

	for (const char *line = cpuinfo; line && *line; line = next_line(line)) {
		const char *value;

		if ((value = cpuinfo_value(line, "model name")) && model_name_khz(value, khz))
			return 0;
		if (mhz_khz == 0 && (value = cpuinfo_value(line, "cpu MHz"))) {
			unsigned long v;
			const char *end = parse_decimal(value, 3, &v);

			if (end && (*end == '\n' || *end == '\0' || *end == ' ') && v > 0)
				mhz_khz = v;
		}
		/* Only the first processor's block: stop at the blank line after it. */
		if (*line == '\n')
			break;
	}
	if (mhz_khz == 0)
		return runk_error(err, "/proc/cpuinfo names no CPU frequency");
	*khz = mhz_khz;
	return 0;
}

int vm_host_tsc_khz(unsigned long *khz, runk_error_t *err)
{
	static unsigned long cached;
	cleanup_free char *text = NULL;
	size_t len;

	if (cached == 0 &&
	    read_file("/sys/devices/system/cpu/cpu0/tsc_freq_khz", 64, &text, &len, NULL) == 0) {
		unsigned long v;
		const char *end = parse_decimal(text, 0, &v);

		if (end && (*end == '\n' || *end == '\0') && v > 0)
			cached = v;
	}
	if (cached == 0) {
		free(text);
		text = NULL;
		if (read_file("/proc/cpuinfo", CPUINFO_MAX, &text, &len, err) < 0)
			return -1;
		if (vm_parse_cpuinfo_tsc_khz(text, &cached, err) < 0)
			return -1;
	}
	*khz = cached;
	return 0;
}
