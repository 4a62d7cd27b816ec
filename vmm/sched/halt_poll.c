// SPDX-License-Identifier: MIT
#include "sched/halt_poll.h"

#include <stdio.h>
#include <string.h>

void halt_poll_init(struct halt_poll *hp, const struct halt_poll_config *cfg)
{
	memset(hp, 0, sizeof(*hp));
	hp->cfg = *cfg;
	/* KVM starts every vCPU at 0 and grows it after the first short halt. */
	if (cfg->mode == HALT_POLL_FIXED)
		hp->window_ns = cfg->ns;
}

uint64_t halt_poll_window(const struct halt_poll *hp)
{
	return hp->cfg.mode == HALT_POLL_OFF ? 0 : hp->window_ns;
}

static void grow(struct halt_poll *hp)
{
	uint64_t val = hp->window_ns * HALT_POLL_GROW;

	if (val < HALT_POLL_GROW_START_NS)
		val = HALT_POLL_GROW_START_NS;
	if (val > hp->cfg.ns)
		val = hp->cfg.ns;
	hp->window_ns = val;
	hp->grows++;
}

static void shrink(struct halt_poll *hp)
{
	hp->window_ns /= HALT_POLL_SHRINK;
	hp->shrinks++;
}

/* KVM's kvm_vcpu_halt(): keep a window that covered the halt, shrink after a long one, grow after a
 * short one. */
static void adapt(struct halt_poll *hp, uint64_t halt_ns, bool valid)
{
	uint64_t max = hp->cfg.ns;

	if (!valid)
		shrink(hp);
	else if (halt_ns <= hp->window_ns)
		;
	else if (hp->window_ns && halt_ns > max)
		shrink(hp);
	else if (hp->window_ns < max && halt_ns < max)
		grow(hp);
}

void halt_poll_end(struct halt_poll *hp, bool polled, uint64_t poll_ns, bool success,
		   uint64_t halt_ns, bool valid)
{
	if (polled) {
		hp->attempted_poll++;
		if (success) {
			hp->successful_poll++;
			hp->poll_success_ns += poll_ns;
		} else {
			hp->poll_fail_ns += poll_ns;
		}
		if (!valid)
			hp->poll_invalid++;
	}
	if (!success)
		hp->wait_ns += halt_ns > poll_ns ? halt_ns - poll_ns : 0;
	if (hp->cfg.mode == HALT_POLL_ADAPTIVE)
		adapt(hp, halt_ns, valid);
}

const char *halt_poll_name(const struct halt_poll_config *cfg, char *buf, unsigned int len)
{
	switch (cfg->mode) {
	case HALT_POLL_OFF:
		return "off";
	case HALT_POLL_ADAPTIVE:
		snprintf(buf, len, "adaptive (max %lluus)", (unsigned long long)(cfg->ns / 1000));
		return buf;
	case HALT_POLL_FIXED:
		break;
	}
	snprintf(buf, len, "%lluus", (unsigned long long)(cfg->ns / 1000));
	return buf;
}
