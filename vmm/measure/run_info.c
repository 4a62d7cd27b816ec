// SPDX-License-Identifier: MIT
#include "measure/run_info.h"

#include "git_commit.h"
#include "measure/json.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], *colon;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(colon = strchr(line, ':')))
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

void run_info_json(struct jw *j, int argc, char *const *argv, uint64_t wall_ns)
{
	char cpu[256], host[256] = "", start[40] = "";
	struct timespec now;
	struct utsname u;
	struct tm tm;
	time_t t;
	int i;

	cpu_model(cpu, sizeof(cpu));
	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &now);
	t = now.tv_sec - (time_t)(wall_ns / 1000000000u);
	if (gmtime_r(&t, &tm))
		strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_begin_object(j);
	jw_kv_string(j, "vmm_version", VMM_VERSION);
	jw_kv_string(j, "git_commit", VMM_GIT_COMMIT);
	jw_key(j, "argv");
	jw_begin_array(j);
	for (i = 0; i < argc; i++)
		jw_string(j, argv[i]);
	jw_end_array(j);
	if (uname(&u) == 0) {
		jw_kv_string(j, "kernel", u.release);
		jw_kv_string(j, "kernel_version", u.version);
	}
	jw_kv_string(j, "cpu_model", cpu);
	jw_kv_u64(j, "cpus_online", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	jw_kv_string(j, "host", host);
	jw_kv_string(j, "started", start);
	jw_end_object(j);
}
