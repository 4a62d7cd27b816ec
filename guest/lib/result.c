/* SPDX-License-Identifier: MIT */
/* Result records: the guest's own measurements, handed to the VMM by address. */
#include "internal.h"

void result_init(struct vmm_result *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	strlcpy(r->name, name, sizeof(r->name));
}

bool result_add(struct vmm_result *r, const char *key, uint64_t value)
{
	struct vmm_result_field *f;

	if (r->nr_fields >= VMM_RESULT_MAX_FIELDS)
		return false;
	f = &r->fields[r->nr_fields++];
	strlcpy(f->key, key, sizeof(f->key));
	f->value = value;
	return true;
}

void result_send(const struct vmm_result *r)
{
	outl(VMM_PORT_RESULT, (uint32_t)(uintptr_t)r);
}
