// SPDX-License-Identifier: MIT
#include "multiboot.h"

#include <stdio.h>
#include <string.h>

void mb_write_info(uint8_t *ram, uint64_t ram_size, const char *image, const char *args,
		   const void *env, size_t env_len)
{
	struct mb_info info;
	struct mb_module mod;
	char *cmdline = (char *)ram + MB_CMDLINE_GPA;
	uint64_t upper = (ram_size - (1ull << 20)) >> 10;

	memset(&info, 0, sizeof(info));
	info.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS;
	info.mem_lower = 640;
	info.mem_upper = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;
	info.cmdline = (uint32_t)MB_CMDLINE_GPA;
	/* A valid pointer even with no module: a guest may read the list without the count. */
	info.mods_addr = (uint32_t)MB_MODS_GPA;
	snprintf(cmdline, MB_CMDLINE_MAX - 4, "%s%s%s", image, args && *args ? " " : "",
		 args ? args : "");
	memset(&mod, 0, sizeof(mod));
	if (env_len) {
		memcpy(ram + MB_ENV_GPA, env, env_len);
		mod.start = (uint32_t)MB_ENV_GPA;
		mod.end = (uint32_t)(MB_ENV_GPA + env_len);
		mod.string = (uint32_t)MB_CMDLINE_GPA + MB_CMDLINE_MAX - 4;
		memcpy(ram + mod.string, "env", 4);
		info.mods_count = 1;
	}
	memcpy(ram + MB_MODS_GPA, &mod, sizeof(mod));
	memcpy(ram + MB_INFO_GPA, &info, sizeof(info));
}
