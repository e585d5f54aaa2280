// SPDX-License-Identifier: GPL-2.0-only
/*
 * wasmpool: the admin CLI for /dev/wasmpool.
 *
 *   wasmpool info                       what the module and the CPU support
 *   wasmpool layout [OPTIONS]           the slab layout of a configuration
 *   wasmpool layout --batch             one layout per stdin line
 *   wasmpool stats                      module-wide statistics (sysfs)
 *
 * Exit codes (stable): 0 success, 1 the operation failed, 2 usage error,
 * 3 the device is missing (module not loaded) or not accessible.
 *
 * Copyright (C) 2026 The wasmpool developers
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "wasmpool.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NODEV = 3 };

static const char *const cmd_names[] = {
	[WASMPOOL_CMD_INFO - WASMPOOL_CMD_BASE] = "info",
	[WASMPOOL_CMD_LAYOUT - WASMPOOL_CMD_BASE] = "layout",
	[WASMPOOL_CMD_CONFIGURE - WASMPOOL_CMD_BASE] = "configure",
	[WASMPOOL_CMD_SLOT_ALLOC - WASMPOOL_CMD_BASE] = "slot_alloc",
	[WASMPOOL_CMD_SLOT_GROW - WASMPOOL_CMD_BASE] = "slot_grow",
	[WASMPOOL_CMD_SLOT_RESET - WASMPOOL_CMD_BASE] = "slot_reset",
	[WASMPOOL_CMD_SLOT_FREE - WASMPOOL_CMD_BASE] = "slot_free",
	[WASMPOOL_CMD_STATS - WASMPOOL_CMD_BASE] = "stats",
	[WASMPOOL_CMD_APPLY_KEYS - WASMPOOL_CMD_BASE] = "apply_keys",
	[WASMPOOL_CMD_SLOT_FREE_BATCH - WASMPOOL_CMD_BASE] = "slot_free_batch",
	[WASMPOOL_CMD_IMAGE_CREATE - WASMPOOL_CMD_BASE] = "image_create",
	[WASMPOOL_CMD_IMAGE_RELEASE - WASMPOOL_CMD_BASE] = "image_release",
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wasmpool COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  info            show what the loaded module and the CPU support\n"
		"  layout          show the slab layout of a pool configuration\n"
		"  stats           show the module-wide statistics and limits (sysfs)\n"
		"\n"
		"layout options (N is decimal or 0x hex; SIZE is N with an optional\n"
		"K, M, G, T, P or E suffix, powers of 1024):\n"
		"  --max-memory SIZE    largest a linear memory may grow   [4G]\n"
		"  --reservation SIZE   address space per memory           [4G]\n"
		"  --guard SIZE         guard region after each memory     [32M]\n"
		"  --slots SIZE         number of slots                    [1000]\n"
		"  --pkeys SIZE         protection keys for stripes        [0]\n"
		"  --guard-before       a guard region before the first slot too\n"
		"  --json               print JSON instead of key=value lines\n"
		"  --kernel             ask the loaded module instead of computing here\n"
		"  --batch              (alone) read lines of six integers from stdin:\n"
		"                         max_memory slots reservation pkeys guard guard_before\n"
		"                       and print per line:\n"
		"                         ok slots slot_bytes max_memory pre_guard post_guard stripes total\n"
		"                       or: err ERRNO_NAME\n"
		"\n"
		"Safe settings: a runtime that elides every bounds check of a 32-bit\n"
		"memory (WAMR with hardware bound checks) needs reservation + guard of\n"
		"at least 8G; Wasmtime's defaults (4G + 32M guard) rely on explicit\n"
		"checks for large offsets.\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the library version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error,\n"
		"3 device missing or not accessible.\n");
}

static const char *errno_name(int err)
{
	switch (err) {
	case EINVAL: return "EINVAL";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	default: return "EUNKNOWN";
	}
}

/*
 * Parse a size: decimal digits (or 0x and hex digits), an optional
 * K/M/G/T/P/E suffix (powers of 1024; "KiB", "KB" and "k" are accepted).
 * Returns 0 or -EINVAL / -ERANGE.
 */
static int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!isxdigit((unsigned char)*s))
			return -EINVAL;
		v = strtoull(s, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (end == s)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		u = strchr(units, end[0] >= 'a' ? end[0] - 'a' + 'A' : end[0]);
		if (!u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int open_device(void)
{
	int fd = wasmpool_open(0);

	if (fd < 0)
		fprintf(stderr, "wasmpool: cannot open %s: %s%s\n",
			WASMPOOL_DEVICE_PATH, strerror(-fd),
			fd == -ENOENT ? " (is the wasmpool module loaded?)" : "");
	return fd;
}

static int cmd_info(void)
{
	struct wasmpool_info info;
	const char *sep = "";
	unsigned int i;
	int fd, ret;

	fd = open_device();
	if (fd < 0)
		return EXIT_NODEV;
	ret = wasmpool_info(fd, &info);
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "wasmpool: info: %s\n", strerror(-ret));
		return EXIT_FAILED;
	}
	printf("abi_version=%u\n", info.abi_version);
	printf("library_version=%s\n", wasmpool_version());
	printf("page_size=%u\n", info.page_size);
	printf("pkeys=%s\n", info.features & WASMPOOL_FEATURE_PKEYS ? "yes" : "no");
	printf("pkeys_total=%u\n", info.pkeys_total);
	printf("pkeys_free=%u\n", info.pkeys_free);
	printf("ioctls=");
	for (i = 0; i < 64; i++) {
		if (!(info.ioctl_mask & (1ULL << i)))
			continue;
		if (i < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[i])
			printf("%s%s", sep, cmd_names[i]);
		else
			printf("%scmd%#x", sep, WASMPOOL_CMD_BASE + i);
		sep = ",";
	}
	printf("\n");
	return EXIT_OK;
}

/* One batch line: six unsigned integers separated by blanks. */
static int parse_batch_line(char *line, uint64_t v[6])
{
	char *p = line, *end;
	int i;

	for (i = 0; i < 6; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno == ERANGE)
			return -ERANGE;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return *p ? -EINVAL : 0;
}

static int layout_batch(void)
{
	static char outbuf[1 << 16];
	unsigned long lineno = 0, bad = 0;
	char line[512];

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	while (fgets(line, sizeof(line), stdin)) {
		struct wp_layout_in in;
		struct wp_layout l;
		uint64_t v[6];
		int ret;

		lineno++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			ret = -EINVAL;
		} else {
			ret = parse_batch_line(line, v);
		}
		if (ret) {
			if (bad++ < 10)
				fprintf(stderr, "wasmpool: layout --batch: line %lu: expected six unsigned 64-bit integers\n",
					lineno);
			fputs("err EINVAL\n", stdout);
			continue;
		}
		in.max_memory_bytes = v[0];
		in.num_slots = v[1];
		in.reservation_bytes = v[2];
		in.num_pkeys = v[3];
		in.guard_bytes = v[4];
		in.guard_before_slots = v[5];
		ret = wp_layout_compute(&in, &l);
		if (ret) {
			printf("err %s\n", errno_name(-ret));
			continue;
		}
		printf("ok %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		       " %" PRIu64 " %" PRIu64 "\n",
		       (uint64_t)l.num_slots, (uint64_t)l.slot_bytes,
		       (uint64_t)l.max_memory_bytes, (uint64_t)l.pre_slab_guard_bytes,
		       (uint64_t)l.post_slab_guard_bytes, (uint64_t)l.num_stripes,
		       (uint64_t)l.total_bytes);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "wasmpool: layout --batch: write error\n");
		return EXIT_FAILED;
	}
	if (bad)
		fprintf(stderr, "wasmpool: layout --batch: %lu malformed line(s)\n", bad);
	return bad ? EXIT_FAILED : EXIT_OK;
}

static void print_layout(const struct wasmpool_layout *l, int json)
{
	static const char *const names[] = {
		"num_slots", "slot_bytes", "max_memory_bytes",
		"pre_slab_guard_bytes", "post_slab_guard_bytes", "num_stripes",
		"stripe_stride_bytes", "total_bytes",
	};
	const uint64_t v[] = {
		l->num_slots, l->slot_bytes, l->max_memory_bytes,
		l->pre_slab_guard_bytes, l->post_slab_guard_bytes, l->num_stripes,
		l->stripe_stride_bytes, l->total_bytes,
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (json)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "{", names[i], v[i]);
		else
			printf("%s=%" PRIu64 "\n", names[i], v[i]);
	}
	if (json)
		printf("}\n");
}

static int cmd_layout(int argc, char **argv)
{
	enum { O_MAX = 256, O_RES, O_GUARD, O_SLOTS, O_PKEYS, O_BEFORE, O_JSON,
	       O_KERNEL, O_BATCH };
	static const struct option opts[] = {
		{ "max-memory", required_argument, NULL, O_MAX },
		{ "reservation", required_argument, NULL, O_RES },
		{ "guard", required_argument, NULL, O_GUARD },
		{ "slots", required_argument, NULL, O_SLOTS },
		{ "pkeys", required_argument, NULL, O_PKEYS },
		{ "guard-before", no_argument, NULL, O_BEFORE },
		{ "json", no_argument, NULL, O_JSON },
		{ "kernel", no_argument, NULL, O_KERNEL },
		{ "batch", no_argument, NULL, O_BATCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wasmpool_layout_cmd cmd = {
		.size = sizeof(cmd),
		.max_memory_bytes = 4ULL << 30,
		.reservation_bytes = 4ULL << 30,
		.guard_bytes = 32ULL << 20,
		.num_slots = 1000,
	};
	int json = 0, kernel = 0, batch = 0, others = 0, c, ret;
	uint64_t v;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		others += c != O_BATCH;
		switch (c) {
		case O_MAX:
		case O_RES:
		case O_GUARD:
		case O_SLOTS:
		case O_PKEYS:
			ret = parse_size(optarg, &v);
			if (ret) {
				fprintf(stderr, "wasmpool: layout: --%s %s: %s\n",
					opts[c - O_MAX].name, optarg,
					ret == -ERANGE ? "too large for 64 bits" :
					"not a size (digits with an optional K/M/G/T suffix)");
				return EXIT_USAGE;
			}
			if (c == O_MAX)
				cmd.max_memory_bytes = v;
			else if (c == O_RES)
				cmd.reservation_bytes = v;
			else if (c == O_GUARD)
				cmd.guard_bytes = v;
			else if (c == O_SLOTS)
				cmd.num_slots = v;
			else if (v > UINT32_MAX) {
				fprintf(stderr, "wasmpool: layout: --pkeys %s: at most %u\n",
					optarg, UINT32_MAX);
				return EXIT_USAGE;
			} else {
				cmd.num_pkeys = (uint32_t)v;
			}
			break;
		case O_BEFORE:
			cmd.flags |= WASMPOOL_LAYOUT_GUARD_BEFORE_SLOTS;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_KERNEL:
			kernel = 1;
			break;
		case O_BATCH:
			batch = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "wasmpool: layout: unknown option or missing value: %s (see --help)\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (batch && others) {
		fprintf(stderr, "wasmpool: layout: --batch takes no other option\n");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "wasmpool: layout: unexpected argument %s\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (batch)
		return layout_batch();

	if (kernel) {
		int fd = open_device();

		if (fd < 0)
			return EXIT_NODEV;
		ret = wasmpool_layout_query(fd, &cmd);
		close(fd);
	} else {
		ret = wasmpool_layout_calc(&cmd);
	}
	if (ret == -EINVAL) {
		fprintf(stderr, "wasmpool: layout: max memory (%llu) is larger than the reservation (%llu): EINVAL\n",
			(unsigned long long)cmd.max_memory_bytes,
			(unsigned long long)cmd.reservation_bytes);
		return EXIT_FAILED;
	} else if (ret) {
		fprintf(stderr, "wasmpool: layout: %s (%s)\n",
			ret == -EOVERFLOW ? "the layout does not fit in 64 bits" : strerror(-ret),
			errno_name(-ret));
		return EXIT_FAILED;
	}
	print_layout(&cmd.layout, json);
	return EXIT_OK;
}

#define SYSFS_DIR "/sys/class/misc/wasmpool"

static int cmd_stats(void)
{
	static const char *const names[] = {
		"pools", "slots_in_use", "resident_bytes", "faults", "guard_faults",
		"resets", "pages_freed", "keys_in_use", "limit_hits", "warm_hits",
		"warm_misses", "max_pools",
		"max_slots_per_pool", "max_reserved_bytes_per_pool",
		"max_resident_bytes_per_pool", "default_keep_resident_bytes",
		"default_pkey_mode",
		/* 0.4 on: a module before it has none of these, said so */
		"images", "image_bytes", "max_image_bytes_per_pool",
	};
	const unsigned int first_0_4 = 17;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128], buf[64];
		FILE *f;

		snprintf(path, sizeof(path), SYSFS_DIR "/%s", names[i]);
		f = fopen(path, "re");
		if (!f && errno == ENOENT && i >= first_0_4 &&
		    !access(SYSFS_DIR "/pools", F_OK)) {
			printf("%s=unsupported (a module before 0.4)\n", names[i]);
			continue;
		}
		if (!f) {
			fprintf(stderr, "wasmpool: stats: %s: %s%s\n", path, strerror(errno),
				errno == ENOENT ? " (is the wasmpool module loaded?)" : "");
			return EXIT_NODEV;
		}
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			fprintf(stderr, "wasmpool: stats: cannot read %s\n", path);
			return EXIT_FAILED;
		}
		fclose(f);
		printf("%s=%s", names[i], buf);
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("wasmpool %s\n", wasmpool_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "info") && argc == 2)
		return cmd_info();
	if (!strcmp(argv[1], "layout"))
		return cmd_layout(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats") && argc == 2)
		return cmd_stats();

	fprintf(stderr, "wasmpool: unknown command or arguments: %s\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
