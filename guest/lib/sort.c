// SPDX-License-Identifier: MIT
#include "guest.h"

/* Shell sort (Ciura's gaps): no recursion, no allocation, fast enough for 10^5 samples. */
void sort_u64(uint64_t *v, uint64_t n)
{
	static const uint64_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
	uint64_t gap, i, j, x;

	for (unsigned int g = 0; g < ARRAY_SIZE(gaps); g++) {
		gap = gaps[g];
		for (i = gap; i < n; i++) {
			x = v[i];
			for (j = i; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}
