/* The bootstrap arena that serves allocations made before the next malloc is known. */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "preload/bootstrap.h"

START_TEST(blocks_are_zeroed_aligned_and_owned)
{
	char *a = hmo_bootstrap_alloc(100, 16);
	char *b = hmo_bootstrap_alloc(1, 4096);
	char *c = hmo_bootstrap_alloc(0, 16);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq((uintptr_t)a % 16, 0);
	ck_assert_uint_eq((uintptr_t)b % 4096, 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(a[i], 0);
	memset(a, 0xab, 100);
	ck_assert_uint_eq(hmo_bootstrap_usable(a), 100);
	ck_assert_uint_eq(hmo_bootstrap_usable(b), 1);
	ck_assert(hmo_bootstrap_owns(a));
	ck_assert(hmo_bootstrap_owns(b));
	ck_assert(hmo_bootstrap_owns(c));
	/* Blocks do not overlap: writing one leaves the next intact. */
	ck_assert_int_eq(b[0], 0);
	ck_assert_uint_eq(hmo_bootstrap_usable(b), 1);
}
END_TEST

START_TEST(foreign_pointers_are_not_owned)
{
	int local;
	void *heap = malloc(16);

	ck_assert(!hmo_bootstrap_owns(NULL));
	ck_assert(!hmo_bootstrap_owns(&local));
	ck_assert(!hmo_bootstrap_owns(heap));
	ck_assert(!hmo_bootstrap_owns(hmo_bootstrap_mem + HMO_BOOTSTRAP_SIZE));
	ck_assert(!hmo_bootstrap_owns(hmo_bootstrap_mem - 1));
	free(heap);
}
END_TEST

START_TEST(bad_alignment_and_exhaustion)
{
	errno = 0;
	ck_assert_ptr_null(hmo_bootstrap_alloc(16, 24));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(hmo_bootstrap_alloc(HMO_BOOTSTRAP_SIZE + 1, 16));
	ck_assert_int_eq(errno, ENOMEM);
	/* Fill it: it must end with NULL/ENOMEM, never overflow the array. */
	size_t got = 0;
	void *p;
	while ((p = hmo_bootstrap_alloc(1000, 16)) != NULL) {
		ck_assert((char *)p + 1000 <= hmo_bootstrap_mem + HMO_BOOTSTRAP_SIZE);
		got++;
	}
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_gt(got, 200);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bootstrap");
	TCase *t = tcase_create("bootstrap");

	/* One process, in order: the arena is a static bump allocator. */
	tcase_add_test(t, blocks_are_zeroed_aligned_and_owned);
	tcase_add_test(t, foreign_pointers_are_not_owned);
	tcase_add_test(t, bad_alignment_and_exhaustion);
	suite_add_tcase(s, t);
	return unit_run(s, CK_NOFORK);
}
