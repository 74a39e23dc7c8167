/* exec.h: the exec hooks (exec.c). */
#ifndef HMO_PRELOAD_EXEC_H
#define HMO_PRELOAD_EXEC_H

#pragma GCC visibility push(hidden)

/* Looks up the next exec functions (from hmo_init, under the guard). */
void hmo_exec_resolve(void);
/* fn runs before each exec of the process (not of a vfork child), after the trace
 * is flushed. */
void hmo_exec_notify(void (*fn)(void));

#pragma GCC visibility pop

#endif
