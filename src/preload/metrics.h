/* metrics.h: HMO_METRICS, the process's figures in Prometheus text (metrics.c). */
#ifndef HMO_PRELOAD_METRICS_H
#define HMO_PRELOAD_METRICS_H

#pragma GCC visibility push(hidden)

/* Starts the thread that rewrites the file every HMO_INTERVAL, when HMO_METRICS is
 * set (and HMO_INTERVAL is not "never"); otherwise does nothing. From the
 * constructor. */
void hmo_metrics_start(void);
/* In a forked child: forgets the parent's writer, names and warning. The child
 * has no writer thread: it writes its own file at exit and before an exec. */
void hmo_metrics_child(void);
/* Before an exec: the figures so far, marked as ended (the writer goes on if the
 * exec fails). */
void hmo_metrics_exec(void);
/* The last write, at exit (destructor, _exit): once per process, after any write
 * under way; the periodic thread writes no more. No malloc, no stdio. */
void hmo_metrics_exit(void);

#pragma GCC visibility pop

#endif
