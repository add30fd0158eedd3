/*
 * routerctl's etcd commands (routerctl_etcd.c): watch, push, fleet.
 * Kept apart from routerctl.c so the fleet tooling (libcurl, threads,
 * signals) does not tangle with the document commands.
 */
#ifndef ROUTERCTL_ETCD_H
#define ROUTERCTL_ETCD_H

/* 1 when name is one of the etcd commands. */
int routerctl_etcd_is_command(const char *name);

/* Run the etcd command argv[0] with its arguments (argv[1..argc)).
 * Returns routerctl's exit status (0 yes, 1 no, 2 usage or I/O). */
int routerctl_etcd_main(int argc, char **argv);

/* Print command name's section of the manual (cli/routerctl.1), or the
 * whole page for NULL, on stdout (routerctl.c).  Returns 0, or 2 when
 * the manual has no such section. */
int routerctl_print_help(const char *name);

#endif /* ROUTERCTL_ETCD_H */
