/* summary.h: the exit summary (summary.c), HMO_STATS. */
#ifndef HMO_PRELOAD_SUMMARY_H
#define HMO_PRELOAD_SUMMARY_H

#pragma GCC visibility push(hidden)

/* Writes the exit summary once per process, where HMO_STATS asks for it. Uses no
 * malloc and no stdio: it is called from destructors and from _exit. */
void hmo_summary_emit(void);
/* In a forked child: the child writes a summary of its own. */
void hmo_summary_child(void);

#pragma GCC visibility pop

#endif
