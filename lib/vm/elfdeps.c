#include "elfdeps.h"
#include "diag.h"
#include "env.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The loader only accepts objects of its own class and machine, and the
 * multiarch directory names depend on the same thing.  Values for $LIB and
 * $PLATFORM follow Debian's glibc. */
#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define HOST_CLASS ELFCLASS64
#define HOST_TRIPLET "x86_64-linux-gnu"
#define HOST_PLATFORM "x86_64"
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define HOST_CLASS ELFCLASS64
#define HOST_TRIPLET "aarch64-linux-gnu"
#define HOST_PLATFORM "aarch64"
#else
#error "elfdeps: unsupported host architecture"
#endif

static const char *const default_dirs[] = {
	"/lib/" HOST_TRIPLET,
	"/usr/lib/" HOST_TRIPLET,
	"/lib64",
	"/usr/lib64",
	"/lib",
	"/usr/lib",
};

/* What one ELF file tells the loader.  Strings are owned copies. */
struct elf_info {
	bool is_elf;		/* ELF of the host class and machine */
	bool has_dynamic;	/* PT_DYNAMIC present */
	char *interp;
	char *soname;
	char *rpath;		/* NULL when DT_RUNPATH is present, as glibc does */
	char *runpath;
	struct strvec needed;
};

static void elf_info_release(struct elf_info *ei)
{
	free(ei->interp);
	free(ei->soname);
	free(ei->rpath);
	free(ei->runpath);
	strvec_clear(&ei->needed);
	memset(ei, 0, sizeof(*ei));
}

static void libelf_init(void)
{
	static bool done;

	if (!done) {
		/* Only fails if libelf is older than the headers; nothing works then. */
		if (elf_version(EV_CURRENT) == EV_NONE)
			die(KTSTR_EXIT_USAGE, "libelf: %s", elf_errmsg(-1));
		done = true;
	}
}

/* Dynamic-table string at offset off, or NULL when out of bounds. */
static const char *dynstr(const Elf_Data *strtab, GElf_Xword off)
{
	const char *s = strtab->d_buf;

	if (off >= strtab->d_size || !memchr(s + off, '\0', strtab->d_size - off))
		return NULL;
	return s + off;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static int vaddr_to_offset(Elf *e, size_t phnum, GElf_Addr addr, GElf_Off *off)
{
	size_t i;

	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

/* Read DT_* entries from the PT_DYNAMIC segment.  Program headers, not
 * sections, because that is what the loader uses and because stripped
 * binaries may have no section headers at all. */
static int read_dynamic(Elf *e, size_t phnum, const GElf_Phdr *dph,
			struct elf_info *ei, const char **why)
{
	GElf_Addr strtab_addr = 0;
	GElf_Xword strsz = 0;
	GElf_Xword soname = UINT64_MAX, rpath = UINT64_MAX, runpath = UINT64_MAX;
	size_t dynsz = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
	Elf_Data *dyn, *strtab;
	GElf_Off stroff;
	GElf_Xword *needed_off = NULL;
	size_t n_needed = 0, i, n;

	dyn = elf_getdata_rawchunk(e, (int64_t)dph->p_offset, dph->p_filesz, ELF_T_DYN);
	if (!dyn || !dynsz) {
		*why = "unreadable PT_DYNAMIC segment";
		return -1;
	}
	n = dyn->d_size / dynsz;
	for (i = 0; i < n; i++) {
		GElf_Dyn d;

		if (!gelf_getdyn(dyn, (int)i, &d) || d.d_tag == DT_NULL)
			break;
		switch (d.d_tag) {
		case DT_STRTAB: strtab_addr = d.d_un.d_ptr; break;
		case DT_STRSZ: strsz = d.d_un.d_val; break;
		case DT_SONAME: soname = d.d_un.d_val; break;
		case DT_RPATH: rpath = d.d_un.d_val; break;
		case DT_RUNPATH: runpath = d.d_un.d_val; break;
		case DT_NEEDED:
			/* Offsets first: DT_STRTAB may come after DT_NEEDED. */
			needed_off = xrealloc(needed_off, (n_needed + 1) * sizeof(*needed_off));
			needed_off[n_needed++] = d.d_un.d_val;
			break;
		default: break;
		}
	}
	if (!strtab_addr || !strsz) {
		free(needed_off);
		/* A dynamic section without strings has nothing for us (static-pie). */
		return 0;
	}
	if (vaddr_to_offset(e, phnum, strtab_addr, &stroff) < 0 ||
	    !(strtab = elf_getdata_rawchunk(e, (int64_t)stroff, strsz, ELF_T_BYTE))) {
		free(needed_off);
		*why = "DT_STRTAB outside the file";
		return -1;
	}
	for (i = 0; i < n_needed; i++) {
		const char *s = dynstr(strtab, needed_off[i]);

		if (!s) {
			free(needed_off);
			*why = "DT_NEEDED string out of bounds";
			return -1;
		}
		strvec_push(&ei->needed, s);
	}
	free(needed_off);
	if (soname != UINT64_MAX && dynstr(strtab, soname))
		ei->soname = xstrdup(dynstr(strtab, soname));
	if (runpath != UINT64_MAX && dynstr(strtab, runpath))
		ei->runpath = xstrdup(dynstr(strtab, runpath));
	/* glibc ignores DT_RPATH when DT_RUNPATH is present. */
	else if (rpath != UINT64_MAX && dynstr(strtab, rpath))
		ei->rpath = xstrdup(dynstr(strtab, rpath));
	return 0;
}

static int read_phdrs(Elf *e, struct elf_info *ei, const char **why)
{
	size_t phnum, i;

	if (elf_getphdrnum(e, &phnum) < 0) {
		*why = elf_errmsg(-1);
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(e, (int)i, &ph)) {
			*why = elf_errmsg(-1);
			return -1;
		}
		if (ph.p_type == PT_INTERP) {
			d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
			if (!d || !d->d_size) {
				*why = "unreadable PT_INTERP";
				return -1;
			}
			free(ei->interp);
			ei->interp = xstrndup(d->d_buf, d->d_size);
		} else if (ph.p_type == PT_DYNAMIC) {
			ei->has_dynamic = true;
			if (read_dynamic(e, phnum, &ph, ei, why) < 0)
				return -1;
		}
	}
	return 0;
}

/* Parse path.  Returns 0 with ei->is_elf false for anything that is not an
 * ELF object of the host machine; -1 (errno-style reason in *why) when the
 * file cannot be opened or is a broken ELF of our machine. */
static int elf_read(const char *path, struct elf_info *ei, const char **why)
{
	int fd, ret = 0;
	Elf *e;
	GElf_Ehdr eh;

	memset(ei, 0, sizeof(*ei));
	libelf_init();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) &&
	    gelf_getclass(e) == HOST_CLASS && eh.e_machine == HOST_MACHINE &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
		ei->is_elf = true;
		ret = read_phdrs(e, ei, why);
	}
	elf_end(e);
	close(fd);
	if (ret < 0)
		elf_info_release(ei);
	return ret;
}

/* What path is: not an ELF program of this machine, a static one or one
 * that needs the loader. */
enum elf_kind { ELF_NONE, ELF_STATIC, ELF_DYNAMIC };

static enum elf_kind elf_kind_of(const char *path)
{
	struct elf_info ei;
	const char *why;
	enum elf_kind k;

	if (elf_read(path, &ei, &why) < 0)
		return ELF_NONE;
	k = !ei.is_elf ? ELF_NONE : ei.interp || ei.needed.n ? ELF_DYNAMIC : ELF_STATIC;
	elf_info_release(&ei);
	return k;
}

bool elf_is_dynamic(const char *path)
{
	return elf_kind_of(path) == ELF_DYNAMIC;
}

bool elf_is_program(const char *path)
{
	return elf_kind_of(path) != ELF_NONE;
}

/* One object in the simulated link map. */
struct obj {
	char *path;		/* as opened */
	char *origin;		/* $ORIGIN: directory of the object */
	struct strvec names;	/* names that refer to it: path, soname, needed names */
	struct elf_info ei;
	size_t loader;		/* index of the object that pulled it in; SIZE_MAX for the root */
	dev_t dev;
	ino_t ino;
};

struct linkmap {
	struct obj *objs;
	size_t n, alloc;
	const char *root;	/* for messages */
};

static void linkmap_release(struct linkmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->objs[i].path);
		free(m->objs[i].origin);
		strvec_clear(&m->objs[i].names);
		elf_info_release(&m->objs[i].ei);
	}
	free(m->objs);
	memset(m, 0, sizeof(*m));
}

static struct obj *linkmap_add(struct linkmap *m, const char *path, char *origin,
			       struct elf_info *ei, const struct stat *st, size_t loader)
{
	struct obj *o;

	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->objs = xrealloc(m->objs, m->alloc * sizeof(*m->objs));
	}
	o = &m->objs[m->n++];
	memset(o, 0, sizeof(*o));
	o->path = xstrdup(path);
	o->origin = origin;
	o->ei = *ei;
	memset(ei, 0, sizeof(*ei));
	o->loader = loader;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	strvec_push(&o->names, path);
	if (o->ei.soname)
		strvec_push_unique(&o->names, o->ei.soname);
	return o;
}

/* The loader recognises an already-loaded object by any name it was loaded
 * under or by its DT_SONAME (that is how libc's DT_NEEDED on
 * ld-linux-x86-64.so.2 binds to the PT_INTERP one). */
static struct obj *linkmap_find_name(struct linkmap *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strvec_contains(&m->objs[i].names, name))
			return &m->objs[i];
	return NULL;
}

static struct obj *linkmap_find_file(struct linkmap *m, const struct stat *st)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->objs[i].dev == st->st_dev && m->objs[i].ino == st->st_ino)
			return &m->objs[i];
	return NULL;
}

/* Replace $ORIGIN, $LIB, $PLATFORM (bare or braced) in one search dir. */
static char *expand_dst(const char *dir, const char *origin)
{
	static const struct { const char *name; const char *val; } tokens[] = {
		{ "ORIGIN", NULL }, { "LIB", "lib/" HOST_TRIPLET }, { "PLATFORM", HOST_PLATFORM },
	};
	struct strbuf sb = STRBUF_INIT;
	const char *p = dir;

	while (*p) {
		size_t i, len = 0;
		bool braced = p[0] == '$' && p[1] == '{';
		const char *tok = p + 1 + braced;
		const char *val = NULL;

		if (*p != '$') {
			strbuf_addch(&sb, *p++);
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(tokens); i++) {
			size_t tl = strlen(tokens[i].name);

			if (strncmp(tok, tokens[i].name, tl))
				continue;
			if (braced ? tok[tl] != '}' :
			    (tok[tl] == '_' || (tok[tl] >= 'A' && tok[tl] <= 'Z') ||
			     (tok[tl] >= 'a' && tok[tl] <= 'z') || (tok[tl] >= '0' && tok[tl] <= '9')))
				continue;
			val = tokens[i].val ? tokens[i].val : origin;
			len = 1 + braced * 2 + tl;
			break;
		}
		if (!val) {
			strbuf_addch(&sb, *p++);
			continue;
		}
		strbuf_addstr(&sb, val);
		p += len;
	}
	return strbuf_detach(&sb, NULL);
}

/* A candidate is usable when it opens and is an ELF of our machine; the
 * loader skips anything else and keeps searching. */
static bool try_candidate(const char *path, struct elf_info *ei, struct stat *st)
{
	const char *why;

	if (stat(path, st) < 0 || !S_ISREG(st->st_mode))
		return false;
	if (elf_read(path, ei, &why) < 0)
		return false;
	if (!ei->is_elf) {
		elf_info_release(ei);
		return false;
	}
	return true;
}

/* Search a colon-separated list (expanded against origin) for name. */
static char *search_list(const char *list, const char *origin, const char *name,
			 struct elf_info *ei, struct stat *st)
{
	char *copy, *save = NULL, *dir;
	char *found = NULL;

	if (!list)
		return NULL;
	copy = xstrdup(list);
	/* Empty elements mean the current directory to glibc; a build
	 * tool's cwd has no meaning in the guest, so they are skipped. */
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *exp = expand_dst(dir, origin);
		char *cand = path_join(exp, name);

		free(exp);
		if (try_candidate(cand, ei, st))
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}

static char *search_library(struct linkmap *m, size_t loader, const char *name,
			    struct elf_info *ei, struct stat *st)
{
	const struct obj *req = &m->objs[loader];
	char *found = NULL;
	size_t i, l;

	if (strchr(name, '/'))
		return try_candidate(name, ei, st) ? xstrdup(name) : NULL;
	if (!req->ei.runpath) {
		for (l = loader; l != SIZE_MAX && !found; l = m->objs[l].loader)
			found = search_list(m->objs[l].ei.rpath, m->objs[l].origin, name, ei, st);
	}
	if (!found)
		found = search_list(env_get("LD_LIBRARY_PATH"), req->origin, name, ei, st);
	if (!found)
		found = search_list(req->ei.runpath, req->origin, name, ei, st);
	for (i = 0; i < ARRAY_SIZE(default_dirs) && !found; i++) {
		char *cand = path_join(default_dirs[i], name);

		if (try_candidate(cand, ei, st))
			found = cand;
		else
			free(cand);
	}
	return found;
}

/* $ORIGIN of a loaded object: its directory, made absolute. */
static char *origin_of(const char *path, bool resolve)
{
	char buf[PATH_MAX];
	char *abs = NULL, *dir;

	if (resolve && realpath(path, buf))
		abs = xstrdup(buf);
	else if (path[0] != '/' && getcwd(buf, sizeof(buf)))
		abs = path_join(buf, path);
	else
		abs = xstrdup(path);
	dir = path_dirname(abs);
	free(abs);
	return dir;
}

static void not_found(struct strbuf *err, const struct linkmap *m, size_t loader,
		      const char *name)
{
	strbuf_addf(err, "library %s needed by %s", name, m->root);
	if (loader != 0)
		strbuf_addf(err, " (through %s)", m->objs[loader].path);
	strbuf_addstr(err, " not found in its RPATH/RUNPATH, LD_LIBRARY_PATH or the "
		      "default library dirs; install it on the host or add its "
		      "directory to LD_LIBRARY_PATH");
}

/* Bind every DT_NEEDED of object i, appending newly loaded objects. */
static int load_needed(struct linkmap *m, size_t i, struct strvec *out, struct strbuf *err)
{
	size_t k;

	for (k = 0; k < m->objs[i].ei.needed.n; k++) {
		char *name = xstrdup(m->objs[i].ei.needed.v[k]);
		struct elf_info ei;
		struct stat st;
		struct obj *same;
		char *path;

		if (linkmap_find_name(m, name)) {
			free(name);
			continue;
		}
		path = search_library(m, i, name, &ei, &st);
		if (!path) {
			not_found(err, m, i, name);
			free(name);
			return -1;
		}
		strvec_push_unique(out, path);
		/* Same file under another name: the loader reuses the mapping,
		 * but still had to open this path, so it stays in out. */
		same = linkmap_find_file(m, &st);
		if (same) {
			strvec_push_unique(&same->names, name);
			elf_info_release(&ei);
		} else {
			same = linkmap_add(m, path, origin_of(path, false), &ei, &st, i);
			strvec_push_unique(&same->names, name);
		}
		free(path);
		free(name);
	}
	return 0;
}

/* The interpreter is mapped by the kernel before any library, so it is in
 * the link map from the start and satisfies DT_NEEDED on its soname. */
static int load_interp(struct linkmap *m, struct strvec *out, struct strbuf *err)
{
	const char *interp = m->objs[0].ei.interp;
	struct elf_info ei;
	struct stat st;

	if (!try_candidate(interp, &ei, &st)) {
		strbuf_addf(err, "interpreter %s of %s is missing or not a usable ELF "
			    "object; install the host's C library loader", interp, m->root);
		return -1;
	}
	strvec_push_unique(out, interp);
	linkmap_add(m, interp, origin_of(interp, false), &ei, &st, 0);
	return 0;
}

int elf_closure(const char *path, struct strvec *out, struct strbuf *err)
{
	struct linkmap m = { .root = path };
	struct elf_info ei;
	struct stat st;
	const char *why = NULL;
	size_t i;
	int ret = 0;

	if (stat(path, &st) < 0) {
		strbuf_addf(err, "cannot read %s: %s; check the path", path, strerror(errno));
		return -1;
	}
	if (elf_read(path, &ei, &why) < 0) {
		strbuf_addf(err, "cannot read ELF file %s: %s; check the file is intact and readable",
			    path, why);
		return -1;
	}
	if (!ei.is_elf || (!ei.interp && !ei.needed.n)) {
		elf_info_release(&ei);
		return 0;
	}
	/* The main program's $ORIGIN comes from /proc/self/exe, i.e. resolved. */
	linkmap_add(&m, path, origin_of(path, true), &ei, &st, SIZE_MAX);
	if (m.objs[0].ei.interp)
		ret = load_interp(&m, out, err);
	/* Breadth-first, like the loader, so the order is the load order. */
	for (i = 0; ret == 0 && i < m.n; i++)
		ret = load_needed(&m, i, out, err);
	linkmap_release(&m);
	return ret;
}
