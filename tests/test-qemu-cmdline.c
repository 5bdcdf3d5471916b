/* The QEMU command line runk builds, accelerator naming, and host TSC parsing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "testlib.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/jail.h"

static struct vm_config base_config(enum vm_accel accel)
{
	struct vm_config cfg = {
		.qemu_path = "/usr/bin/qemu-system-x86_64",
		.kernel = "/k/vmlinux",
		.initrd = "/k/initrd.cpio",
		.accel = accel,
		.vcpus = 2,
		.memory_mib = 256,
		.agent_socket = "/run/runk/c1/agent.sock",
		.qmp_socket = "/run/runk/c1/qmp.sock",
		.share_dir = "/run/runk/c1/share",
		.console_log = "/run/runk/c1/console.log",
		.tsc_khz = 2500000,
		.sandbox = VM_SANDBOX_ON,
	};
	return cfg;
}

/* The argument after flag whose value starts with prefix (flags may repeat); NULL if none. */
static const char *find_opt(char **argv, const char *flag, const char *prefix)
{
	for (size_t i = 0; argv[i] && argv[i + 1]; i++)
		if (strcmp(argv[i], flag) == 0 && strncmp(argv[i + 1], prefix, strlen(prefix)) == 0)
			return argv[i + 1];
	return NULL;
}

static bool has_arg(char **argv, const char *arg)
{
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], arg) == 0)
			return true;
	return false;
}

static void test_tcg(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	struct vm_config cfg = base_config(VM_ACCEL_TCG);
	const char *append;

	cfg.kernel_params = "runk.debug=1";
	ok(vm_build_argv(&cfg, &argv, &err) == 0, "tcg argv builds");
	if (argv == NULL)
		return;
	is_str(argv[0], "/usr/bin/qemu-system-x86_64", "argv[0] is QEMU itself, no shell");
	is_str(find_opt(argv, "-M", ""),
	       "microvm,x-option-roms=off,pit=on,pic=on,rtc=on,isa-serial=on", "microvm machine");
	is_str(find_opt(argv, "-accel", ""), "tcg,thread=multi,tb-size=16",
	       "multi-threaded tcg with the default tb-size for 2 vCPUs");
	is_str(find_opt(argv, "-cpu", ""), "max", "-cpu max under tcg");
	is_str(find_opt(argv, "-m", ""), "256", "-m");
	is_str(find_opt(argv, "-smp", ""), "2,maxcpus=2", "-smp with maxcpus");
	ok(has_arg(argv, "-nodefaults") && has_arg(argv, "-no-user-config") &&
		   has_arg(argv, "-no-reboot"),
	   "-nodefaults -no-user-config -no-reboot");
	is_str(find_opt(argv, "-display", ""), "none", "-display none");
	is_str(find_opt(argv, "-kernel", ""), "/k/vmlinux", "-kernel");
	is_str(find_opt(argv, "-initrd", ""), "/k/initrd.cpio", "-initrd");
	append = find_opt(argv, "-append", "");
	is_str(append,
	       "console=ttyS0 reboot=t panic=-1 no_timer_check quiet tsc_early_khz=2500000 "
	       "runk.debug=1",
	       "kernel command line with tsc_early_khz and the extra params last");
	is_str(find_opt(argv, "-chardev", "file,"),
	       "file,id=console,path=/run/runk/c1/console.log,append=on", "console to a file");
	is_str(find_opt(argv, "-serial", ""), "chardev:console", "serial on the console chardev");
	is_str(find_opt(argv, "-device", "virtio-serial"), "virtio-serial-device",
	       "virtio-serial bus");
	is_str(find_opt(argv, "-chardev", "socket,id=agent"),
	       "socket,id=agent,path=/run/runk/c1/agent.sock,server=on,wait=off",
	       "agent socket, QEMU listens");
	is_str(find_opt(argv, "-device", "virtserialport"),
	       "virtserialport,chardev=agent,name=agent", "agent port named agent");
	is_str(find_opt(argv, "-fsdev", ""),
	       "local,id=fs0,path=/run/runk/c1/share,security_model=none", "9p export");
	is_str(find_opt(argv, "-device", "virtio-9p"), "virtio-9p-device,fsdev=fs0,mount_tag=share",
	       "9p device tagged share");
	is_str(find_opt(argv, "-chardev", "socket,id=qmp"),
	       "socket,id=qmp,path=/run/runk/c1/qmp.sock,server=on,wait=off", "QMP socket");
	is_str(find_opt(argv, "-mon", ""), "chardev=qmp,mode=control", "QMP monitor");
	is_str(find_opt(argv, "-sandbox", ""),
	       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
	       "-sandbox on, spawning denied");
	is_str(find_opt(argv, "-name", ""), "runk,debug-threads=on", "named threads");
}

static void test_kvm(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	struct vm_config cfg = base_config(VM_ACCEL_KVM);

	cfg.debug = true;
	cfg.console_log = NULL;
	cfg.share_dir = NULL;
	cfg.initrd = NULL;
	cfg.sandbox = VM_SANDBOX_OFF;
	ok(vm_build_argv(&cfg, &argv, &err) == 0, "kvm argv builds");
	if (argv == NULL)
		return;
	is_str(find_opt(argv, "-accel", ""), "kvm", "-accel kvm");
	is_str(find_opt(argv, "-cpu", ""), "host", "-cpu host under kvm");
	is_str(find_opt(argv, "-append", ""), "console=ttyS0 reboot=t panic=-1 no_timer_check",
	       "no tsc_early_khz under kvm, no quiet with debug");
	is_str(find_opt(argv, "-chardev", "null"), "null,id=console", "console discarded");
	ok(!has_arg(argv, "-fsdev") && !has_arg(argv, "-initrd") && !has_arg(argv, "-sandbox"),
	   "no share, no initrd, no sandbox when not asked");
}

static void test_escaping_and_options(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	struct vm_config cfg = base_config(VM_ACCEL_TCG);

	cfg.share_dir = "/tmp/a,b";
	cfg.qmp_socket = "/tmp/q,mp.sock";
	cfg.name = "c,1";
	cfg.tcg_tb_mib = 8;
	cfg.allow_spawn = true;
	cfg.qemu_path = NULL;
	ok(vm_build_argv(&cfg, &argv, &err) == 0, "argv with commas builds");
	if (argv == NULL)
		return;
	is_str(argv[0], DEFAULT_QEMU_PATH, "default QEMU path");
	is_str(find_opt(argv, "-fsdev", ""), "local,id=fs0,path=/tmp/a,,b,security_model=none",
	       "comma in the share path doubled");
	is_str(find_opt(argv, "-chardev", "socket,id=qmp"),
	       "socket,id=qmp,path=/tmp/q,,mp.sock,server=on,wait=off",
	       "comma in the QMP path doubled");
	is_str(find_opt(argv, "-name", ""), "c,,1,debug-threads=on", "comma in the name doubled");
	is_str(find_opt(argv, "-accel", ""), "tcg,thread=multi,tb-size=8",
	       "tb-size from the config");
	ok(strstr(find_opt(argv, "-sandbox", ""), "spawn=allow") != NULL,
	   "spawn allowed on request");
}

static void test_bad_configs(void)
{
	static const char *const names[] = {"no kernel", "no QMP socket", "no agent socket",
					    "0 vCPUs",	 "256 vCPUs",	  "8 MiB"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		char **argv = NULL;
		struct vm_config cfg = base_config(VM_ACCEL_TCG);

		switch (i) {
		case 0:
			cfg.kernel = NULL;
			break;
		case 1:
			cfg.qmp_socket = NULL;
			break;
		case 2:
			cfg.agent_socket = NULL;
			break;
		case 3:
			cfg.vcpus = 0;
			break;
		case 4:
			cfg.vcpus = 256;
			break;
		case 5:
			cfg.memory_mib = 8;
			break;
		}
		ok(vm_build_argv(&cfg, &argv, &err) < 0 && err != NULL && argv == NULL,
		   "refused: %s", names[i]);
	}
}

static void test_accel(void)
{
	cleanup_error runk_error_t err = NULL;
	enum vm_accel a = VM_ACCEL_AUTO;
	const char *why = NULL;

	ok(vm_accel_parse("kvm", &a, &err) == 0 && a == VM_ACCEL_KVM, "parse kvm");
	ok(vm_accel_parse("tcg", &a, &err) == 0 && a == VM_ACCEL_TCG, "parse tcg");
	ok(vm_accel_parse("auto", &a, &err) == 0 && a == VM_ACCEL_AUTO, "parse auto");
	ok(vm_accel_parse("xen", &a, &err) < 0, "unknown accelerator refused");
	runk_error_free(&err);
	is_str(vm_accel_name(VM_ACCEL_TCG), "tcg", "name tcg");
	ok(vm_accel_resolve(VM_ACCEL_TCG, &a, &why, &err) == 0 && a == VM_ACCEL_TCG && why,
	   "tcg requested stays tcg");
	ok(vm_accel_resolve(VM_ACCEL_AUTO, &a, &why, &err) == 0 &&
		   (a == VM_ACCEL_TCG || a == VM_ACCEL_KVM),
	   "auto resolves on this host: %s (%s)", vm_accel_name(a), why ? why : "");

	ok(vm_cpuinfo_has_hw_virt("processor\t: 0\nflags\t\t: fpu vme vmx sse\n"), "vmx found");
	ok(vm_cpuinfo_has_hw_virt("flags\t: fpu svm\n"), "svm at the end found");
	ok(!vm_cpuinfo_has_hw_virt("flags\t: fpu vmxe svmx sse\n"), "only whole words count");
	ok(!vm_cpuinfo_has_hw_virt("model name\t: vmx\nflags\t: fpu sse\n"),
	   "vmx outside the flags line ignored");
}

static unsigned long tsc_of(const char *cpuinfo)
{
	cleanup_error runk_error_t err = NULL;
	unsigned long khz = 0;

	if (vm_parse_cpuinfo_tsc_khz(cpuinfo, &khz, &err) < 0)
		return 0;
	return khz;
}

static void test_tsc(void)
{
	unsigned long khz = 0;
	cleanup_error runk_error_t err = NULL;

	ok(tsc_of("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n"
		  "cpu MHz\t\t: 1200.000\n") == 2400000,
	   "model name @ 2.40GHz wins over cpu MHz");
	ok(tsc_of("model name\t: Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz\n") == 1900000,
	   "@ 1.90GHz");
	ok(tsc_of("model name\t: Some CPU @ 3GHz\n") == 3000000, "@ 3GHz without a fraction");
	ok(tsc_of("model name\t: AMD EPYC\ncpu MHz\t\t: 2596.122\n") == 2596122,
	   "cpu MHz with three decimals");
	ok(tsc_of("model name\t: AMD EPYC\ncpu MHz\t\t: 2596.1229\n") == 2596122,
	   "extra decimals truncated");
	ok(tsc_of("cpu MHz\t\t: 3000\n") == 3000000, "cpu MHz without a fraction");
	ok(tsc_of("processor\t: 0\ncpu MHz\t: 2000.000\n\nprocessor\t: 1\n"
		  "model name\t: X @ 9.99GHz\n") == 2000000,
	   "only the first processor is read");
	ok(tsc_of("model name\t: AMD EPYC\n") == 0, "no frequency: error");
	ok(tsc_of("cpu MHz\t: fast\n") == 0, "garbage: error");
	ok(tsc_of("cpu MHz\t: 99999999999999999999.0\n") == 0, "overflow: error");
	ok(tsc_of("model name\t: X @ GHz\ncpu MHz\t: 1000.5\n") == 1000500,
	   "an @ without a number falls back to cpu MHz");
	ok(vm_host_tsc_khz(&khz, &err) == 0 && khz > 100000, "this host's TSC: %lu kHz", khz);
}

static void test_nics(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	struct vm_config cfg = base_config(VM_ACCEL_TCG);
	struct vm_nic nics[] = {{.tap_fd = 7, .mac = "0a:58:0a:c8:00:02"},
				{.tap_fd = 9, .mac = "AA:BB:CC:DD:EE:FF"}};
	struct vm_nic bad[] = {{.tap_fd = 7, .mac = "0a:58:0a:c8:00"}};

	ok(vm_build_argv(&cfg, &argv, &err) == 0 && find_opt(argv, "-netdev", "") == NULL,
	   "no nics: no -netdev");
	cleanup_strv_fn(&argv);
	argv = NULL;
	cfg.nics = nics;
	cfg.n_nics = 2;
	ok(vm_build_argv(&cfg, &argv, &err) == 0, "argv with two nics builds");
	if (argv == NULL)
		return;
	is_str(find_opt(argv, "-netdev", "tap,id=net0"), "tap,id=net0,fd=7,vhost=off",
	       "first tap by fd, no vhost");
	is_str(find_opt(argv, "-netdev", "tap,id=net1"), "tap,id=net1,fd=9,vhost=off",
	       "second tap");
	is_str(find_opt(argv, "-device", "virtio-net-device,netdev=net0"),
	       "virtio-net-device,netdev=net0,mac=0a:58:0a:c8:00:02", "virtio-net with the MAC");
	is_str(find_opt(argv, "-device", "virtio-net-device,netdev=net1"),
	       "virtio-net-device,netdev=net1,mac=AA:BB:CC:DD:EE:FF", "second virtio-net");
	cleanup_strv_fn(&argv);
	argv = NULL;
	cfg.nics = bad;
	cfg.n_nics = 1;
	ok(vm_build_argv(&cfg, &argv, &err) < 0 && err && strstr(err->msg, "bad MAC"),
	   "a malformed MAC is refused");
	runk_error_free(&err);
	nics[0].tap_fd = -1;
	cfg.nics = nics;
	ok(vm_build_argv(&cfg, &argv, &err) < 0 && err && strstr(err->msg, "no tap"),
	   "a nic without a tap is refused");
}

/* [hypervisor] user: names, uid, uid:gid; root and junk refused. */
static void test_jail_user(void)
{
	runk_error_t err = NULL;
	uid_t uid = 1;
	gid_t gid = 1;

	ok(vm_jail_parse_user("nobody", &uid, &gid, NULL) == 0 && uid == 65534 && gid == 65534,
	   "user nobody is 65534:65534");
	ok(vm_jail_parse_user("1000", &uid, &gid, NULL) == 0 && uid == 1000 && gid == 1000,
	   "a bare uid is also the gid");
	ok(vm_jail_parse_user("1000:1001", &uid, &gid, NULL) == 0 && uid == 1000 && gid == 1001,
	   "uid:gid");
	ok(vm_jail_parse_user("0", &uid, &gid, &err) < 0 && err &&
		   strstr(err->msg, "must be unprivileged"),
	   "uid 0 is refused");
	runk_error_free(&err);
	ok(vm_jail_parse_user("root", &uid, &gid, &err) < 0 && err &&
		   strstr(err->msg, "must be unprivileged"),
	   "root by name is refused");
	runk_error_free(&err);
	ok(vm_jail_parse_user("1000:0", &uid, &gid, NULL) < 0, "gid 0 is refused");
	ok(vm_jail_parse_user("12x", &uid, &gid, NULL) < 0, "junk after a uid is refused");
	ok(vm_jail_parse_user("no-such-user-runk", &uid, &gid, &err) < 0 && err &&
		   strstr(err->msg, "no such user"),
	   "an unknown name is refused");
	runk_error_free(&err);
	ok(vm_jail_parse_user("", &uid, &gid, NULL) < 0, "an empty user is refused here");
	is_str(vm_jail_root_caps(), "cap_chown,cap_dac_override,cap_fowner,cap_fsetid",
	       "root QEMU keeps the 9p share's four capabilities");
}

int main(void)
{
	test_tcg();
	test_kvm();
	test_escaping_and_options();
	test_bad_configs();
	test_accel();
	test_tsc();
	test_nics();
	test_jail_user();
	return test_done();
}
