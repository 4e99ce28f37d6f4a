# smaps -> "total_rss_kb arena_rss_kb": arenas are anonymous mappings of
# >= 100 MiB (the collector's batch reservations, collector/batch.c) and the
# anonymous mapping that ends where one starts (its small-page head).
/^[0-9a-f]+-[0-9a-f]+ / {
	split($1, a, "-"); n++; st[n] = a[1]; en[n] = a[2]; anon[n] = (NF < 6); next
}
/^Size:/ { sz[n] = $2 }
/^Rss:/ { rss[n] = $2 }
END {
	for (i = 1; i <= n; i++) {
		tot += rss[i]
		if (anon[i] && sz[i] >= 102400) {
			ar += rss[i]
			if (i > 1 && anon[i - 1] && en[i - 1] == st[i] && sz[i - 1] < 102400)
				ar += rss[i - 1]
		}
	}
	print tot, ar
}
