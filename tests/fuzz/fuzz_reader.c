/* SPDX-License-Identifier: MIT */
/*
 * fuzz_reader.c - libFuzzer entry point for the .gtrace reader.
 *
 * Opens the input as a file image from memory (with and without checksum
 * verification), reads the whole summary, every schema and meta pair, and
 * iterates every event (also through a filter), rendering log messages.
 * Anything but a clean return - a crash, a sanitizer report, a hang - is a
 * bug.  Checksums make random mutations stop early, so the corpus should
 * hold files whose checksums were fixed up after editing (see replay.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gtrace/reader.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t gt_fuzz_sink;

static void gt_fuzz_iterate(struct gt_reader *r, const struct gt_filter *f)
{
	const struct gt_event *ev;
	struct gt_iter *it;
	char msg[512];
	int n = 0;

	if (gt_iter_new(r, f, &it) < 0)
		return;
	while (gt_iter_next(it, &ev) == 1 && n++ < 2000000) {
		gt_fuzz_sink += ev->ts_ns + ev->pid + ev->tid + ev->schema->id;
		for (uint32_t i = 0; i < ev->nfields; i++) {
			const struct gt_value *v = &ev->values[i];

			if (v->type == GT_TYPE_STR || v->type == GT_TYPE_BYTES)
				gt_fuzz_sink += v->len ? (uint8_t)v->str[v->len - 1] : 0;
			else
				gt_fuzz_sink += v->u64;
		}
		gt_fuzz_sink += gt_format_message(ev, msg, sizeof(msg));
	}
	gt_iter_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gt_reader *r;
	char err[256];

	for (unsigned int flags = 0; flags <= GT_READER_VERIFY; flags += GT_READER_VERIFY) {
		const struct gt_summary *s;
		const char *k, *v;

		if (gt_reader_open_mem(data, size, "fuzz", flags, &r, err, sizeof(err)) < 0)
			continue;
		s = gt_reader_summary(r);
		gt_fuzz_sink +=
			s->nevents + s->duration_ns + s->lost_total + strlen(s->recover_note);
		for (size_t i = 0; i < gt_reader_schema_count(r); i++) {
			const struct gt_schema *sc = gt_reader_schema_at(r, i);

			gt_fuzz_sink += strlen(sc->provider) + strlen(sc->format) + sc->nevents;
			gt_fuzz_sink += gt_reader_schema(r, sc->id) == sc;
		}
		for (size_t i = 0; gt_reader_meta_at(r, i, &k, &v) == 0; i++)
			gt_fuzz_sink += strlen(k) + strlen(v) + (gt_reader_meta(r, k) != NULL);
		for (size_t i = 0; i < gt_reader_lost_count(r); i++)
			gt_fuzz_sink += gt_reader_lost_at(r, i)->count;
		for (size_t i = 0; i < gt_reader_corrupt_count(r); i++)
			gt_fuzz_sink += gt_reader_corrupt_at(r, i)->count;
		gt_fuzz_sink += (uint64_t)gt_reader_verify(r);
		gt_fuzz_iterate(r, NULL);
		if (gt_reader_schema_count(r)) {
			uint32_t id = gt_reader_schema_at(r, 0)->id;
			struct gt_filter f = { .since_ns = s->first_ts_ns / 2 + 1,
					       .until_ns = s->last_ts_ns,
					       .schema_ids = &id,
					       .nschema_ids = 1 };

			gt_fuzz_iterate(r, &f);
		}
		gt_reader_close(r);
	}
	return 0;
}
