/* SPDX-License-Identifier: MIT */
/*
 * gt_site.c - call-site registration: rules, schemas, the site list.
 *
 * A call site starts "unregistered".  Its first pass lands here: under the
 * process lock we join the session if nobody tried yet, put the site on the
 * list of registered sites (and on the address list a system session's
 * collector reads, gt_system.c), and evaluate it: the provider's name is matched
 * against the WELCOME's rules (globs, the last matching rule wins), and an
 * enabled site gets its schema appended to the segment's schema region and
 * the schema id as its state.  The list lets a re-join (fork child) or a
 * later rule change evaluate every site again; ids, once given, stay.  A
 * registered site whose state word reads GT_SITE_UNREG again was sent here
 * by a system session's collector (join or leave): it is evaluated again.
 */
#include <errno.h>
#include <string.h>

#include "gt_lib.h"

/* '*' any run, '?' any one byte, everything else literal.  Linear backtracking. */
bool gt_glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			retry = s;
		} else if (*pat && (*pat == '?' || *pat == *s)) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool gt_rules_match(const char *provider, uint8_t level, uint64_t keywords)
{
	const struct gt_msg_rule *hit = NULL;

	for (uint32_t i = 0; i < gt_proc.nrules; i++)
		if (gt_glob_match(gt_proc.rules[i].pattern, provider))
			hit = &gt_proc.rules[i];
	if (!hit)
		return false;
	return level <= hit->level && (keywords == 0 || (keywords & hit->keywords));
}

static size_t gt_cap_len(const char *s, size_t max)
{
	return s ? strnlen(s, max) : 0;
}

static unsigned char *gt_put_str(unsigned char *p, const char *s, size_t len)
{
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p + len + 1;
}

/*
 * Append @site's schema (docs/abi.md "Schemas") and publish it.
 * Return: the new id, -E2BIG if the record would exceed GT_SCHEMA_MAX,
 * -ENOSPC if the region is full, -EINVAL for a malformed descriptor.
 */
static int gt_schema_write_locked(const struct gt_site *site)
{
	const char *prov = site->provider && site->provider->name ? site->provider->name : "";
	const char *file = site->file ? site->file : "";
	const char *fmt = site->kind == GT_KIND_LOG && site->format ? site->format : "";
	size_t lp = gt_cap_len(prov, GT_NAME_MAX), ln = gt_cap_len(site->name, GT_NAME_MAX);
	size_t lfile = strlen(file), lfmt = gt_cap_len(fmt, GT_FORMAT_MAX);
	size_t lfield[GT_FIELDS_MAX];
	const char *fname[GT_FIELDS_MAX];
	const char *f = site->fields;
	struct gt_shm_schema rec;
	unsigned char *base, *p;
	size_t size;

	if (site->nfields > GT_FIELDS_MAX || site->kind > GT_KIND_MAX_ ||
	    (site->nfields && (!site->types || !site->fields)))
		return -EINVAL;
	if (lfile > GT_NAME_MAX) { /* keep the end of a long path: the file name */
		file += lfile - GT_NAME_MAX;
		lfile = GT_NAME_MAX;
	}
	size = sizeof(rec) + site->nfields + lp + ln + lfile + lfmt + 4;
	for (unsigned i = 0; i < site->nfields; i++) {
		uint8_t t = (uint8_t)site->types[i];

		if (t < GT_TYPE_I32 || t > GT_TYPE_MAX_)
			return -EINVAL;
		fname[i] = f;
		lfield[i] = strnlen(f, GT_NAME_MAX);
		f += strlen(f) + 1;
		size += lfield[i] + 1;
	}
	size = (size + GT_REC_ALIGN - 1) & ~(size_t)(GT_REC_ALIGN - 1);
	if (size > GT_SCHEMA_MAX)
		return -E2BIG;
	if (gt_proc.schema_used + size > gt_proc.schema_size)
		return -ENOSPC;

	base = gt_proc.seg + gt_proc.hdr->schema_off + gt_proc.schema_used;
	memset(&rec, 0, sizeof(rec));
	rec.size = (uint32_t)size;
	rec.id = gt_proc.next_id;
	rec.kind = site->kind;
	rec.level = site->level;
	rec.nfields = site->nfields;
	rec.line = site->line;
	rec.keywords = site->keywords;
	memset(base, 0, size);
	memcpy(base, &rec, sizeof(rec));
	p = base + sizeof(rec);
	memcpy(p, site->types, site->nfields);
	p += site->nfields;
	p = gt_put_str(p, prov, lp);
	p = gt_put_str(p, site->name, ln);
	p = gt_put_str(p, file, lfile);
	p = gt_put_str(p, fmt, lfmt);
	for (unsigned i = 0; i < site->nfields; i++)
		p = gt_put_str(p, fname[i], lfield[i]);

	gt_proc.schema_used += size;
	/* Pairs with the collector's acquire load of schema_head: the record is complete. */
	__atomic_store_n(&gt_proc.hdr->schema_head, gt_proc.schema_used, __ATOMIC_RELEASE);
	return (int)gt_proc.next_id++;
}

/* Decide @st's state from the rules; write its schema the first time it is enabled. */
static void gt_site_eval_locked(struct gt_site_state *st)
{
	const struct gt_site *site = st->site;
	const char *prov = site->provider && site->provider->name ? site->provider->name : "";
	uint32_t state = 0;

	if (gt_proc.join == GT_JOIN_OK && gt_rules_match(prov, site->level, site->keywords)) {
		if (site->kind == GT_KIND_PROBE_) {
			state = 1;
		} else if (st->id) {
			state = st->id;
		} else {
			int ret = gt_schema_write_locked(site);

			if (ret > 0) {
				st->id = (uint32_t)ret;
				state = st->id;
			} else {
				gt_dbg("%s:%u: event '%s' of '%s' not registered: %s", site->file,
				       site->line, site->name, prov,
				       ret == -ENOSPC ? "schema region full" : "schema too large");
				state = ret == -EINVAL ? 0 : GT_SITE_NOSCHEMA;
			}
		}
	}
	/* Pairs with the relaxed load in the call site: id and schema are visible first. */
	__atomic_store_n(&st->state, state, __ATOMIC_RELEASE);
}

void gt_sites_eval_locked(void)
{
	for (struct gt_site_state *st = gt_proc.sites; st; st = st->next)
		gt_site_eval_locked(st);
}

static void gt_count_noschema(void)
{
	unsigned char *seg = gt_proc_segment();

	if (seg)
		__atomic_fetch_add(&((struct gt_shm_header *)seg)->lost_noschema, 1,
				   __ATOMIC_RELAXED);
}

GT_API uint32_t gt_site_slow(const struct gt_site *site)
{
	struct gt_site_state *st;
	uint32_t state;

	if (!site || !site->state)
		return 0;
	st = site->state;
	state = __atomic_load_n(&st->state, __ATOMIC_ACQUIRE);
	if (state == GT_SITE_NOSCHEMA) {
		gt_count_noschema();
		return 0;
	}
	if (state < GT_SITE_SLOW)
		return state;

	gt_lib_init();
	pthread_mutex_lock(&gt_proc.lock);
	if (gt_proc.join == GT_JOIN_NONE || gt_proc.join == GT_JOIN_REJOIN)
		gt_proc_join_locked();
	for (int pass = 0; pass < 8; pass++) {
		/* a system session may have asked this process to join or leave */
		uint64_t seq = gt_sys_poll_locked();

		if (!st->site) {
			st->site = site;
			st->next = gt_proc.sites;
			gt_proc.sites = st;
			gt_sys_track_locked(st);
			gt_site_eval_locked(st);
		} else if (__atomic_load_n(&st->state, __ATOMIC_RELAXED) >= GT_SITE_SLOW) {
			/* a system session's collector wrote GT_SITE_UNREG: decide again */
			gt_site_eval_locked(st);
		}
		/*
		 * Dekker pair with the collector (docs/abi.md "Runtime enable"): it
		 * stores the control block's seq, then GT_SITE_UNREG into every
		 * state word; we stored the states, and load seq only after this
		 * fence.  Either its GT_SITE_UNREG lands after our store (the site
		 * comes back here), or our store lands after it, and then this
		 * load sees its seq and we evaluate again.
		 */
		gt_fence(__ATOMIC_SEQ_CST);
		if (!gt_sys_changed(seq))
			break;
	}
	state = __atomic_load_n(&st->state, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&gt_proc.lock);
	if (state == GT_SITE_NOSCHEMA) {
		gt_count_noschema();
		return 0;
	}
	return state;
}
