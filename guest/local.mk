# The guest image: an uncompressed kernel and an initramfs whose /init is the
# agent.  Not part of `all` (it downloads a kernel the first time); run
# `make guest`.  guest/build.sh explains the cache it keeps.
PHONY += guest guest-install-data guest-uninstall-data guest-clean

GUEST_OUT = guest/out
GUEST_AGENT = src/agent/runk-agent

# Always runs: the kernel comes from the cache when nothing changed and the
# initramfs is cheap, so the image can never lag behind the agent.
guest: $(GUEST_AGENT)
	$(AM_V_GEN)$(srcdir)/guest/build.sh $(GUEST_OUT) $(GUEST_AGENT)

install-data-local: guest-install-data
guest-install-data:
	@for f in vmlinux initrd.cpio; do \
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
	rm -f "$(DESTDIR)$(pkgdatadir)/vmlinux" "$(DESTDIR)$(pkgdatadir)/initrd.cpio"

clean-local: guest-clean
guest-clean:
	rm -rf $(GUEST_OUT)
