/* SPDX-License-Identifier: MIT */
/* commands.h - one entry point per subcommand, each in cli/cmd_<name>.c. */
#ifndef GT_COMMANDS_H
#define GT_COMMANDS_H

/*
 * Each returns the process exit status: 0 success, 1 differences found
 * (diff only), 2 error or usage; `run` returns the traced command's status.
 * argv[0] is the subcommand name.
 */
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_stats(int argc, char **argv);

#endif /* GT_COMMANDS_H */
