/* SPDX-License-Identifier: MIT */
/*
 * test_lib_cpp.cpp - gtrace.h included alone in C++: the macros, the
 * template replacement for _Generic in gt_log(), spans and gt_enabled().
 * test_lib runs it as "test_lib_cpp child cpp" under its fake collector and
 * checks the records; run alone it just has to work untraced.
 */
#include <gtrace/gtrace.h>

#include <cstdio>
#include <cstring>
#include <string>

GT_PROVIDER_DEFINE(cpp_prov, "Test.Cpp");

namespace {
template <typename T> int span(T v)
{
	GT_SPAN_BEGIN(cpp_prov, GT_LEVEL_INFO, 0, "CppSpan", GT_I64("v", v));
	return 0;
}
} // namespace

int main(int argc, char **argv)
{
	std::string ten("ten");
	const char *seven = "seven";
	bool yes = true;

	(void)argv;
	GT_EVENT(cpp_prov, GT_LEVEL_INFO, 0x1, "CppEvent", GT_I64("i", -1), GT_STR("s", "cpp"),
		 GT_BOOL("b", yes));
	gt_log(cpp_prov, GT_LEVEL_WARNING, "cpp %d %u %ld %llu %f %f %d %s %c %s", -1, 2u, -3L,
	       4ull, 5.5, 6.5f, yes, seven, 'z', ten.c_str());
	span(7);
	span(8L);
	if (argc < 2 && gt_enabled(cpp_prov, GT_LEVEL_CRITICAL, 0) &&
	    !std::getenv("GTRACE_SESSION"))
		return 1;
	return 0;
}
