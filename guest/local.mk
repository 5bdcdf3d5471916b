# The guest image: an uncompressed kernel and an initramfs whose /init is the
# agent.  guest/build.sh explains the caches it keeps.
#
# Which kernel: ./configure --with-guest-kernel=runk (default: built from
# linux-source-6.1, cached in --with-kernel-cache / $RUNK_KERNEL_CACHE),
# debian (Debian's generic kernel and modules) or PATH (a prebuilt kernel).
# `make` builds the guest too (seconds once the kernel is cached); skip it with
# `make GUEST_IN_ALL=no`.
PHONY += guest guest-kernel guest-all guest-install-data guest-uninstall-data guest-clean

GUEST_OUT = guest/out
GUEST_AGENT = src/agent/runk-agent
GUEST_IN_ALL = yes
GUEST_FILES = vmlinux initrd.cpio kernel.info

# The environment wins over configure for the cache, so CI and users can
# share one cache whatever the build was configured with.
GUEST_ENV = RUNK_GUEST_KERNEL="$(GUEST_KERNEL)" RUNK_GUEST_VMLINUX="$(GUEST_VMLINUX)" \
	RUNK_KERNEL_CACHE="$${RUNK_KERNEL_CACHE:-$(KERNEL_CACHE)}"

# Always runs: the kernel comes from the cache when nothing changed and the
# initramfs is cheap, so the image can never lag behind the agent.
guest: $(GUEST_AGENT)
	$(AM_V_GEN)$(GUEST_ENV) $(srcdir)/guest/build.sh $(GUEST_OUT) $(GUEST_AGENT)

guest-kernel:
	$(AM_V_GEN)$(GUEST_ENV) $(srcdir)/guest/build.sh $(GUEST_OUT)

all-local: guest-all
guest-all: $(GUEST_AGENT)
	@if test "$(GUEST_IN_ALL)" = yes; then $(MAKE) $(AM_MAKEFLAGS) guest; fi

install-data-local: guest-install-data
guest-install-data:
	@for f in $(GUEST_FILES); do \
		if test -f $(GUEST_OUT)/$$f; then \
			echo " $(MKDIR_P) '$(DESTDIR)$(pkgdatadir)'"; \
			$(MKDIR_P) "$(DESTDIR)$(pkgdatadir)" || exit 1; \
			echo " $(INSTALL_DATA) $(GUEST_OUT)/$$f '$(DESTDIR)$(pkgdatadir)/$$f'"; \
			$(INSTALL_DATA) $(GUEST_OUT)/$$f "$(DESTDIR)$(pkgdatadir)/$$f" || exit 1; \
		else \
			echo "guest: $(GUEST_OUT)/$$f not built (make guest), not installed"; \
		fi; \
	done

uninstall-local: guest-uninstall-data
guest-uninstall-data:
	for f in $(GUEST_FILES); do rm -f "$(DESTDIR)$(pkgdatadir)/$$f"; done

clean-local: guest-clean
guest-clean:
	rm -rf $(GUEST_OUT)

# The test-only image whose /init is the hostile agent (src/agent/hostile.c),
# with the same cached kernel: point [hypervisor] initrd at it.
PHONY += guest-hostile
GUEST_HOSTILE_OUT = guest/out-hostile
guest-hostile: src/agent/runk-agent-hostile
	$(AM_V_GEN)$(GUEST_ENV) $(srcdir)/guest/build.sh $(GUEST_HOSTILE_OUT) src/agent/runk-agent-hostile
guest-clean: guest-hostile-clean
guest-hostile-clean:
	rm -rf $(GUEST_HOSTILE_OUT)
PHONY += guest-hostile-clean
