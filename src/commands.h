/* Every subcommand of runk: one file each, src/<name>.c. */
#ifndef RUNK_COMMANDS_H
#define RUNK_COMMANDS_H

#include "cli.h"

extern const struct cli_command runk_cmd_create;
extern const struct cli_command runk_cmd_start;
extern const struct cli_command runk_cmd_state;
extern const struct cli_command runk_cmd_kill;
extern const struct cli_command runk_cmd_delete;
extern const struct cli_command runk_cmd_run;
extern const struct cli_command runk_cmd_exec;
extern const struct cli_command runk_cmd_ps;
extern const struct cli_command runk_cmd_list;
extern const struct cli_command runk_cmd_pause;
extern const struct cli_command runk_cmd_resume;
extern const struct cli_command runk_cmd_events;
extern const struct cli_command runk_cmd_update;
extern const struct cli_command runk_cmd_spec;
extern const struct cli_command runk_cmd_features;
extern const struct cli_command runk_cmd_check;
extern const struct cli_command runk_cmd_factory;

#endif
