#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of fuzz_segment, fuzz_profile and fuzz_dump_filter.

    python3 tests/fuzz/gen_seeds.py [tests/fuzz/corpus]

Seeds are small, valid-or-nearly-valid inputs that reach deep into each
parser; the fuzzer mutates from there.  The segment input layout is the one
described at the top of tests/fuzz/fuzz_segment.c; the shared-memory
structures are include/gtrace/abi.h (docs/abi.md).  Crash reproducers found
by fuzzing are added to the corpus directories by hand (named crash-*), not
by this script.
"""
import os
import struct
import sys

RING = 4096
T_I32, T_U32, T_I64, T_U64, T_F64, T_BOOL, T_STR, T_BYTES = range(1, 9)
K_EVENT, K_BEGIN, K_END, K_LOG = range(4)
SLOT_FREE, SLOT_ACTIVE, SLOT_EXITED = range(3)


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def schema(sid, prov, name, types, names, kind=K_EVENT, level=4, fmt="", keywords=1,
           size=None, nfields=None):
    body = bytes(types)
    for s in (prov, name, "app.c", fmt) + tuple(names):
        body += s.encode() + b"\0"
    rec = pad8(struct.pack("<IIBBBBIQ", 0, sid, kind, level,
                           len(types) if nfields is None else nfields, 0, 42, keywords) + body)
    return struct.pack("<I", len(rec) if size is None else size) + rec[4:]


def record(sid, ts, payload, size=None):
    rec = pad8(struct.pack("<IIQ", 0, sid, ts) + payload)
    return struct.pack("<I", len(rec) if size is None else size) + rec[4:]


def s_(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<I", len(b)) + b


def ctl(head=0, tail=0, state=SLOT_ACTIVE, tid=7, lost=0, seq=0):
    return struct.pack("<QQIIQ32xQ56x", head, lost, state, tid, seq, tail)


def header(schema_head, lost_noslot=0, lost_noschema=0, magic=0x314d485352544704, raw=None):
    if raw is not None:
        return raw
    # geometry fields are forced valid by the harness unless flag bit 0 is set
    return struct.pack("<QIIQIIIIIIII8xQQQIi32x", magic, 1, 128, 4096 + 4096 + 2 * (128 + RING),
                       1000, 2, 4096, 4096, 8192, 2, 128 + RING, RING, schema_head,
                       lost_noslot, lost_noschema, 1, 0)


def segment(flags, schemas, ctl0, ctl1, ring0=b"", ring1=b"", hdr=None, schema_head=None):
    sch = b"".join(schemas)
    if hdr is None:
        hdr = header(len(sch) if schema_head is None else schema_head)
    out = bytes([flags]) + hdr + ctl0 + ctl1 + struct.pack("<H", len(sch)) + sch
    if ring0 or ring1:
        out += ring0.ljust(RING, b"\0") + ring1
    return out


def seg_seeds():
    s1 = schema(1, "Contoso.Net", "Send", [T_I64, T_STR], ["seq", "txt"])
    s2 = schema(2, "Contoso.Types", "All", [T_I32, T_U32, T_I64, T_U64, T_F64, T_BOOL, T_STR,
                                             T_BYTES],
                ["i32", "u32", "i64", "u64", "f64", "b", "s", "bytes"], level=5)
    s3 = schema(3, "Contoso.Log", "log", [T_I32, T_STR], ["n", "what"], kind=K_LOG,
                fmt="%d items of %s")
    s4 = schema(4, "Contoso.Span", "Work", [T_U64], ["id"], kind=K_BEGIN)
    s5 = schema(5, "Contoso.Span", "Work", [T_U64], ["id"], kind=K_END)
    p1 = struct.pack("<q", 1) + s_("hello")
    p2 = (struct.pack("<iIqQd", -1, 2, -3, 4, 1.5) + b"\1" + s_("str") + s_(b"\0\1\2\xff"))
    p3 = struct.pack("<i", 3) + s_("apples")
    recs0 = (record(1, 100, p1) + record(2, 110, p2) + record(3, 120, p3) +
             record(4, 130, struct.pack("<Q", 9)) + record(5, 140, struct.pack("<Q", 9)))
    # slot 1 wraps: 32 bytes of padding at the ring's end, then records from 0
    tail1 = RING - 32
    wrap = record(1, 200, p1) + record(1, 201, struct.pack("<q", 2) + s_("again"))
    ring1 = wrap.ljust(RING - 32, b"\0") + struct.pack("<II", 32, 0) + b"\0" * 24
    seeds = {}
    seeds["good"] = segment(0, [s1, s2, s3, s4, s5], ctl(len(recs0), 0, seq=5),
                            ctl(RING + len(wrap), tail1, SLOT_EXITED, tid=8, seq=2),
                            recs0, ring1)
    seeds["good_redrain"] = segment(2, [s1, s2, s3, s4, s5], ctl(len(recs0), 0, seq=5),
                                    ctl(RING + len(wrap), tail1, SLOT_EXITED, tid=8),
                                    recs0, ring1) + b"\x08\x04\x02"
    seeds["lost"] = segment(0x30, [s1], ctl(len(record(1, 1, p1)), 0, lost=12),
                            ctl(0, 0, SLOT_FREE), record(1, 1, p1),
                            hdr=header(len(s1), lost_noslot=3, lost_noschema=4))
    # schema 2 is published only before the second drain (data[-3] * 8 bytes later)
    seeds["late_schema"] = segment(2, [s1, s2], ctl(len(recs0), 0), ctl(0, 0, SLOT_FREE),
                                   recs0, schema_head=len(s1)) + bytes([len(s2) // 8, 0, 0])
    # hostile rings
    bad = record(1, 5, p1, size=0)
    seeds["rec_size0"] = segment(0, [s1], ctl(64, 0), ctl(0, 0, SLOT_FREE), bad)
    big = record(1, 5, p1, size=RING * 2)
    seeds["rec_too_big"] = segment(0, [s1], ctl(64, 0), ctl(0, 0, SLOT_FREE), big)
    seeds["rec_unknown_id"] = segment(0, [s1], ctl(len(record(77, 5, p1)), 0),
                                      ctl(0, 0, SLOT_FREE), record(77, 5, p1))
    s2_1 = schema(1, "Contoso.Types", "Short", [T_I32, T_U32, T_I64, T_STR],
                  ["i32", "u32", "i64", "s"])
    seeds["rec_short_payload"] = segment(0, [s2_1], ctl(24, 0), ctl(0, 0, SLOT_FREE),
                                         record(1, 5, p2, size=24)[:24])
    seeds["head_far"] = segment(0, [s1], ctl(3 * RING, 0), ctl(12, 4), record(1, 1, p1))
    seeds["tail_ahead"] = segment(0, [s1], ctl(8, 64), ctl(5, 0), record(1, 1, p1))
    seeds["str_len_huge"] = segment(0, [s1], ctl(32, 0), ctl(0, 0, SLOT_FREE),
                                    record(1, 1, struct.pack("<qI", 1, 0xfffffff0)))
    # hostile schemas
    seeds["schema_nfields"] = segment(0, [schema(1, "P", "E", [T_I32] * 40, ["f"] * 40)],
                                      ctl(24, 0), ctl(0, 0, SLOT_FREE),
                                      record(1, 1, b"\0" * 8))
    seeds["schema_badtype"] = segment(0, [schema(1, "P", "E", [9, 0], ["a", "b"])],
                                      ctl(24, 0), ctl(0, 0, SLOT_FREE), record(1, 1, b"\0" * 8))
    seeds["schema_unterminated"] = segment(0, [schema(1, "P", "E", [T_I32], ["a"])[:-8] +
                                               b"abcdefgh"], ctl(24, 0), ctl(0, 0, SLOT_FREE),
                                           record(1, 1, b"\0" * 8))
    seeds["schema_size_big"] = segment(0, [schema(1, "P", "E", [T_I32], ["a"], size=8192)],
                                       ctl(24, 0), ctl(0, 0, SLOT_FREE), record(1, 1, b"\0" * 8))
    seeds["schema_id_gap"] = segment(0, [s1, schema(5, "P", "E", [T_I32], ["a"])],
                                     ctl(24, 0), ctl(0, 0, SLOT_FREE), record(2, 1, b"\0" * 8))
    seeds["schema_head_far"] = segment(0, [s1], ctl(0, 0), ctl(0, 0, SLOT_FREE),
                                       schema_head=1 << 40)
    seeds["schema_level_kind"] = segment(0, [schema(1, "P", "E", [], [], kind=9, level=0)],
                                         ctl(16, 0), ctl(0, 0, SLOT_FREE), record(1, 1, b""))
    seeds["log_format_pct"] = segment(0, [schema(1, "P", "L", [T_STR], ["s"], kind=K_LOG,
                                                 fmt="%s %n %999999d %")],
                                      ctl(len(record(1, 1, s_("x"))), 0), ctl(0, 0, SLOT_FREE),
                                      record(1, 1, s_("x")))
    # raw header (flag bit 0): geometry taken as is
    seeds["raw_header_ok"] = segment(1, [s1], ctl(len(record(1, 1, p1)), 0),
                                     ctl(0, 0, SLOT_FREE), record(1, 1, p1))
    seeds["raw_header_bad"] = segment(1, [s1], ctl(0, 0), ctl(0, 0), hdr=b"\xff" * 128)
    seeds["empty"] = b""
    return seeds


PROFILES = {
    "default.prof": "# everything\nprovider * level=verbose\nbuffer ring_size=1M threads=64\n",
    "full.prof": ("# comment\nprovider Contoso.*      level=verbose keywords=0x5\n"
                  "provider gtrace.output  level=info\r\n"
                  "\tprovider  Fabrikam.?? level=2 keywords=18446744073709551615 # tail\n"
                  "provider gtrace.* level=off\n"
                  "buffer ring_size=64K threads=4096 schema_size=64M\n"
                  "buffer ring_size=256M threads=1\n"),
    "levels.prof": "".join("provider P%d level=%s\n" % (i, l) for i, l in enumerate(
        ["1", "2", "3", "4", "5", "0", "critical", "error", "warning", "info", "verbose",
         "off", "CRITICAL", "6", "loud", ""])),
    "bad_directive.prof": "providers x\n",
    "bad_ring.prof": "buffer ring_size=3M\n",
    "too_big.prof": "buffer ring_size=256M threads=4096\n",
    "dup_option.prof": "provider a level=1 level=2\n",
    "keywords.prof": "provider a keywords=0x\nprovider b keywords=0xfffffffffffffffff\n"
                     "provider c keywords=-1\nprovider d keywords=99999999999999999999\n",
    "sizes.prof": "buffer ring_size=4K\nbuffer ring_size=4096\nbuffer schema_size=4G\n"
                  "buffer threads=0\nbuffer ring_size=1G\nbuffer ring_size=1T\n",
    "glob.prof": "provider " + "*a" * 60 + "b level=5\n" + "a" * 300 + "\n",
    "long_pattern.prof": "provider " + "x" * 256 + "\n",
    "many_rules.prof": "provider p\n" * 70,
    "control.prof": "provider a\x01b\n",
    "nul.prof": "provider a\0b level=3\n",
    "no_newline.prof": "provider Contoso.Net level=warning",
    "empty.prof": "",
    "buffer_only.prof": "buffer\n",
    "noval.prof": "provider x level\nprovider y =5\nprovider z level=\n",
}

DUMP_ARGS = {
    "file": ["t.gtrace"],
    "all": ["t.gtrace", "--provider", "Contoso.*", "--event", "Send?", "--level", "warning",
            "--since", "1.5s", "--until", "200ms", "--format", "json"],
    "eq": ["--provider=P*", "--event=E", "--level=3", "--since=10ns", "--until=1500us",
           "--format=text", "f"],
    "help": ["--help"],
    "h": ["x", "-h"],
    "two_files": ["a", "b"],
    "missing_value": ["f", "--level"],
    "bad_level": ["f", "--level", "6"],
    "bad_time": ["f", "--since", "1.5h"],
    "big_time": ["f", "--until", "18446744073709551615ns"],
    "overflow_time": ["f", "--until", "18446744073709551616"],
    "frac_time": ["f", "--since", "0.0000000000000000001s", "--until", ".5ms"],
    "bad_format": ["f", "--format", "xml"],
    "unknown": ["f", "--bogus", "1"],
    "long_opt": ["f", "--" + "x" * 40 + "=1"],
    "dashdash": ["--", "f"],
    "empty": [""],
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    out = {"segment": {k + ".bin": v for k, v in seg_seeds().items()},
           "profile": {k: v.encode("latin-1") for k, v in PROFILES.items()},
           "dump_filter": {k + ".args": b"\0".join(a.encode() for a in v)
                           for k, v in DUMP_ARGS.items()}}
    for d, files in out.items():
        os.makedirs(os.path.join(root, d), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(root, d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (d, len(files)))


if __name__ == "__main__":
    main()
