/* SPDX-License-Identifier: MIT */
/*
 * gt_render.c - renders gt_log messages and names enum values.
 *
 * A log event stores its printf-style format once, in the schema, and its
 * arguments as typed fields.  The format comes from a file, so it is
 * untrusted: it is never handed to printf as is.  We walk it ourselves,
 * accept only a known set of conversions with bounded width/precision,
 * rebuild each conversion from validated pieces and print it with one
 * snprintf whose C argument type is chosen from the field's own type.
 * When the conversion and the field type disagree, the value is printed in
 * its natural form instead: no conversion can read a wrong-typed argument.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gtrace/reader.h>

#define GT_FMT_NUM_MAX 4096
#define GT_VALUE_PREC_MAX 65536u

struct gt_out {
	char *dst;
	size_t cap; /* > 0 */
	size_t len; /* < cap; dst[len] == 0 */
};

static void gt_out_put(struct gt_out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->dst + o->len, s, n);
	o->len += n;
	o->dst[o->len] = 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* @spec was built by gt_spec() from validated pieces; @... matches its conversion. */
static void gt_out_fmt(struct gt_out *o, const char *spec, ...)
{
	size_t room = o->cap - o->len;
	va_list ap;
	int n;

	va_start(ap, spec);
	n = vsnprintf(o->dst + o->len, room, spec, ap);
	va_end(ap);
	if (n < 0) {
		o->dst[o->len] = 0;
		return;
	}
	o->len += (size_t)n < room ? (size_t)n : room - 1;
}
#pragma GCC diagnostic pop

static void gt_out_hex(struct gt_out *o, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) {
		char b[2] = { hex[p[i] >> 4], hex[p[i] & 15] };

		gt_out_put(o, b, 2);
	}
}

/* A value printed in its natural form, whatever the conversion asked for. */
static void gt_out_neutral(struct gt_out *o, const struct gt_value *v)
{
	switch (v->type) {
	case GT_TYPE_I32:
	case GT_TYPE_I64:
		gt_out_fmt(o, "%" PRId64, v->i64);
		break;
	case GT_TYPE_U32:
	case GT_TYPE_U64:
		gt_out_fmt(o, "%" PRIu64, v->u64);
		break;
	case GT_TYPE_F64:
		gt_out_fmt(o, "%.17g", v->f64);
		break;
	case GT_TYPE_BOOL:
		gt_out_put(o, v->b ? "true" : "false", v->b ? 4 : 5);
		break;
	case GT_TYPE_STR:
		gt_out_put(o, v->str, v->len);
		break;
	case GT_TYPE_BYTES:
		gt_out_hex(o, v->bytes, v->len);
		break;
	default:
		gt_out_put(o, "?", 1);
		break;
	}
}

struct gt_conv {
	char flags[6];
	int nflags;
	int width; /* -1: none */
	int prec;  /* -1: none */
	char conv;
};

/* Build "%<flags><width>[.<prec>]<len><conv>" keeping only flags valid for @allowed. */
static void gt_spec(char *spec, size_t cap, const struct gt_conv *c, const char *allowed,
		    bool use_prec, const char *len, char conv)
{
	size_t n = 0;

	spec[n++] = '%';
	for (int i = 0; i < c->nflags; i++)
		if (strchr(allowed, c->flags[i]))
			spec[n++] = c->flags[i];
	spec[n] = 0;
	if (c->width >= 0)
		n += (size_t)snprintf(spec + n, cap - n, "%d", c->width);
	if (use_prec && c->prec >= 0)
		n += (size_t)snprintf(spec + n, cap - n, ".%d", c->prec);
	snprintf(spec + n, cap - n, "%s%c", len, conv);
}

static bool gt_is_int(const struct gt_value *v)
{
	return v->type == GT_TYPE_I32 || v->type == GT_TYPE_I64 || v->type == GT_TYPE_U32 ||
	       v->type == GT_TYPE_U64 || v->type == GT_TYPE_BOOL;
}

static uint64_t gt_int_bits(const struct gt_value *v)
{
	return v->type == GT_TYPE_BOOL ? (uint64_t)v->b : v->u64;
}

static void gt_render_one(struct gt_out *o, const struct gt_conv *c, const struct gt_value *v)
{
	char spec[64];
	bool is_signed = v->type == GT_TYPE_I32 || v->type == GT_TYPE_I64;

	switch (c->conv) {
	case 'd':
	case 'i':
		if (!gt_is_int(v))
			break;
		if (is_signed) {
			gt_spec(spec, sizeof(spec), c, "-+ 0", true, "ll", 'd');
			gt_out_fmt(o, spec, (long long)v->i64);
		} else {
			gt_spec(spec, sizeof(spec), c, "-0", true, "ll", 'u');
			gt_out_fmt(o, spec, (unsigned long long)gt_int_bits(v));
		}
		return;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		if (!gt_is_int(v))
			break;
		gt_spec(spec, sizeof(spec), c, c->conv == 'u' ? "-0" : "-#0", true, "ll", c->conv);
		gt_out_fmt(o, spec, (unsigned long long)gt_int_bits(v));
		return;
	case 'c':
		if (!gt_is_int(v) || gt_int_bits(v) == 0 || gt_int_bits(v) > 255)
			break;
		gt_spec(spec, sizeof(spec), c, "-", false, "", 'c');
		gt_out_fmt(o, spec, (int)(unsigned char)gt_int_bits(v));
		return;
	case 's':
		if (v->type != GT_TYPE_STR)
			break;
		{
			int prec = (int)(v->len < GT_VALUE_PREC_MAX ? v->len : GT_VALUE_PREC_MAX);
			struct gt_conv cc = *c;

			if (cc.prec < 0 || cc.prec > prec)
				cc.prec = prec;
			gt_spec(spec, sizeof(spec), &cc, "-", true, "", 's');
			/* precision bounds the read: the bytes need no NUL */
			gt_out_fmt(o, spec, v->str ? v->str : "");
		}
		return;
	case 'p':
		if (!gt_is_int(v))
			break;
		gt_out_fmt(o, "0x%" PRIx64, gt_int_bits(v));
		return;
	default: /* e E f F g G a A */
		if (v->type != GT_TYPE_F64)
			break;
		gt_spec(spec, sizeof(spec), c, "-+ #0", true, "", c->conv);
		gt_out_fmt(o, spec, v->f64);
		return;
	}
	gt_out_neutral(o, v);
}

size_t gt_format_render(const char *fmt, size_t fmt_len, const struct gt_value *args, size_t nargs,
			char *dst, size_t dst_cap)
{
	struct gt_out o = { dst, dst_cap, 0 };
	size_t i = 0, ai = 0;

	if (!dst || !dst_cap)
		return 0;
	dst[0] = 0;
	if (!fmt)
		return 0;
	while (i < fmt_len && o.len + 1 < o.cap) {
		size_t start = i, lit = i;
		struct gt_conv c = { .width = -1, .prec = -1 };
		bool ok = true;

		while (lit < fmt_len && fmt[lit] != '%')
			lit++;
		if (lit > i) {
			gt_out_put(&o, fmt + i, lit - i);
			i = lit;
			continue;
		}
		i++; /* '%' */
		if (i < fmt_len && fmt[i] == '%') {
			gt_out_put(&o, "%", 1);
			i++;
			continue;
		}
		while (i < fmt_len && strchr("-+ #0", fmt[i]) && fmt[i]) {
			if (c.nflags < (int)sizeof(c.flags) - 1 &&
			    !memchr(c.flags, fmt[i], (size_t)c.nflags))
				c.flags[c.nflags++] = fmt[i];
			i++;
		}
		if (i < fmt_len && fmt[i] >= '0' && fmt[i] <= '9') {
			c.width = 0;
			while (i < fmt_len && fmt[i] >= '0' && fmt[i] <= '9') {
				c.width = c.width * 10 + (fmt[i] - '0');
				if (c.width > GT_FMT_NUM_MAX)
					ok = false, c.width = GT_FMT_NUM_MAX;
				i++;
			}
		}
		if (i < fmt_len && fmt[i] == '.') {
			i++;
			c.prec = 0;
			while (i < fmt_len && fmt[i] >= '0' && fmt[i] <= '9') {
				c.prec = c.prec * 10 + (fmt[i] - '0');
				if (c.prec > GT_FMT_NUM_MAX)
					ok = false, c.prec = GT_FMT_NUM_MAX;
				i++;
			}
		}
		/* length modifiers: the field's own type decides, so they are skipped */
		while (i < fmt_len && fmt[i] && strchr("hlzjtLq", fmt[i]))
			i++;
		if (i >= fmt_len || !fmt[i] || !strchr("diuoxXcspfFeEgGaA", fmt[i]))
			ok = false; /* '*', %n, unknown or cut short: print the text as is */
		if (!ok) {
			size_t end = i < fmt_len ? i + 1 : fmt_len;

			gt_out_put(&o, fmt + start, end - start);
			i = end;
			continue;
		}
		c.conv = fmt[i++];
		if (ai >= nargs) {
			gt_out_put(&o, "<missing>", 9);
			continue;
		}
		gt_render_one(&o, &c, &args[ai++]);
	}
	return o.len;
}

size_t gt_format_message(const struct gt_event *ev, char *dst, size_t dst_cap)
{
	const char *f;

	if (!dst || !dst_cap)
		return 0;
	dst[0] = 0;
	if (!ev || !ev->schema || ev->schema->kind != GT_KIND_LOG)
		return 0;
	f = ev->schema->format ? ev->schema->format : "";
	return gt_format_render(f, strlen(f), ev->values, ev->nfields, dst, dst_cap);
}

const char *gt_type_name(unsigned int type)
{
	static const char *const n[] = { "?",	"i32",	"u32", "i64",  "u64",
					 "f64", "bool", "str", "bytes" };

	return type <= GT_TYPE_MAX_ ? n[type] : "?";
}

const char *gt_kind_name(unsigned int kind)
{
	static const char *const n[] = { "event", "span_begin", "span_end", "log" };

	return kind <= GT_KIND_MAX_ ? n[kind] : "?";
}

const char *gt_level_name(unsigned int level)
{
	static const char *const n[] = { "?", "critical", "error", "warning", "info", "verbose" };

	return level >= 1 && level <= 5 ? n[level] : "?";
}
