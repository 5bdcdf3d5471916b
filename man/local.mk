# Man pages: markdown in man/, roff built with go-md2man into the build dir's
# man/ by `make`, installed by `make install`.  Without go-md2man (configure
# says so) nothing is built or installed.  One rule per page: automake -Wall
# refuses pattern rules.
RUNK_MAN_PAGES = \
	man/runk.8 \
	man/runk-create.8 \
	man/runk-start.8 \
	man/runk-state.8 \
	man/runk-kill.8 \
	man/runk-delete.8 \
	man/runk-run.8 \
	man/runk-exec.8 \
	man/runk-ps.8 \
	man/runk-list.8 \
	man/runk-pause.8 \
	man/runk-resume.8 \
	man/runk-events.8 \
	man/runk-update.8 \
	man/runk-spec.8 \
	man/runk-features.8 \
	man/runk-check.8 \
	man/runk-factory.8 \
	man/runk-monitor.8 \
	man/runk.conf.5

if HAVE_GO_MD2MAN
man_MANS = $(RUNK_MAN_PAGES)
CLEANFILES += $(RUNK_MAN_PAGES)
RUNK_MD2MAN = $(MKDIR_P) man && $(GO_MD2MAN) -in

man/runk.8: man/runk.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-create.8: man/runk-create.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-start.8: man/runk-start.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-state.8: man/runk-state.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-kill.8: man/runk-kill.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-delete.8: man/runk-delete.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-run.8: man/runk-run.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-exec.8: man/runk-exec.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-ps.8: man/runk-ps.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-list.8: man/runk-list.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-pause.8: man/runk-pause.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-resume.8: man/runk-resume.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-events.8: man/runk-events.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-update.8: man/runk-update.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-spec.8: man/runk-spec.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-features.8: man/runk-features.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-check.8: man/runk-check.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-factory.8: man/runk-factory.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk-monitor.8: man/runk-monitor.8.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
man/runk.conf.5: man/runk.conf.5.md
	$(AM_V_GEN)$(RUNK_MD2MAN) $< -out $@
endif
