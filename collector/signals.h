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

#endif
