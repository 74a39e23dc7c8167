/* process.c: see process.h. */
#include "instance.h"
#include "process.h"

int hmo_init_state;
struct hmo_options hmo_opt;
pid_t hmo_pid;
uint64_t hmo_start_ns;

/* instance.h: the first copy's table when this copy of libhmo is a passive second. */
const struct hmo_instance *hmo_primary;
