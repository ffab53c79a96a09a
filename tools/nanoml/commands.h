/* The nanoml subcommands. Each lives in cmd_<name>.c, parses its own options, prints its own
 * --help, and returns a process exit code (0 ok, 1 failure, 2 usage error). */
#ifndef NANOML_CLI_COMMANDS_H
#define NANOML_CLI_COMMANDS_H

typedef struct nml_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} nml_command;

/* NULL-terminated table, defined in main.c */
extern const nml_command nml_commands[];

#endif
