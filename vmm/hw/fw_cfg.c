// SPDX-License-Identifier: MIT
#include "hw/fw_cfg.h"

#include <string.h>

void fw_cfg_init(struct fw_cfg *f, unsigned int nr_cpus, uint64_t ram_size)
{
	memset(f, 0, sizeof(*f));
	f->nr_cpus = (uint16_t)nr_cpus;
	f->ram_size = ram_size;
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->key = key;
	f->pos = 0;
}

/* The selected item as little-endian bytes; its length, 0 for an unknown key. */
static unsigned int item(const struct fw_cfg *f, uint8_t *buf)
{
	uint64_t v;
	unsigned int len;

	switch (f->key) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		v = 1;
		len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		v = f->ram_size;
		len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		v = f->nr_cpus;
		len = 2;
		break;
	case FW_CFG_MAX_RAM:
		v = 0;
		len = 8;
		break;
	default:
		return 0;
	}
	for (unsigned int i = 0; i < len; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
	return len;
}

uint8_t fw_cfg_read(struct fw_cfg *f)
{
	uint8_t buf[8];
	unsigned int len = item(f, buf);

	if (f->pos >= len)
		return 0;
	return buf[f->pos++];
}

/* --- the ports ----------------------------------------------------------- */

#include "hw/pc.h"
#include "vcpu.h"
#include "vm.h"

enum exit_key fw_cfg_io(struct vcpu *v, const struct hw_pio *io)
{
	struct hw_pc *pc = v->vm->pc;
	uint32_t i, j;

	pthread_mutex_lock(&pc->lock);
	for (i = 0; i < io->count; i++) {
		uint8_t *d = io->data + i * io->size;
		uint16_t key = 0;

		if (io->port == FW_CFG_PORT_SEL) {
			if (io->out) {
				memcpy(&key, d, io->size < 2 ? io->size : 2);
				fw_cfg_select(&pc->fw_cfg, key);
			} else {
				memset(d, 0, io->size);
			}
			continue;
		}
		/* The data port: each byte of a wider read is the next byte of the item. */
		for (j = 0; j < io->size; j++) {
			if (io->out)
				continue; /* writes are not supported by the legacy interface */
			d[j] = fw_cfg_read(&pc->fw_cfg);
		}
	}
	pthread_mutex_unlock(&pc->lock);
	return EXIT_IO_FW_CFG;
}
