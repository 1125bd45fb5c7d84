/* signals: Ctrl-C handling. The first SIGINT (or SIGTERM) asks the sweep to
 * abandon the current run cleanly (nothing is written for it); a second one
 * exits at once with status 130. */
#ifndef PB_SIGNALS_H
#define PB_SIGNALS_H

void pb_signals_install(void);
/* Nonzero once a first SIGINT/SIGTERM arrived (async-signal-safe flag). */
int pb_signals_interrupted(void);
/* For tests: set or clear the flag. */
void pb_signals_set(int v);
/* The read end of a non-blocking pipe that gets a byte at every SIGINT /
 * SIGTERM, so an event loop can wait for Ctrl-C without a polling timer;
 * -1 before pb_signals_install() (or if the pipe could not be made). It
 * stays open for the life of the process. */
int pb_signals_fd(void);

#endif
