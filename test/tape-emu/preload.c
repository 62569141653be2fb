/*
 * LD_PRELOAD shim: maps configured device paths (/dev/sgN, /dev/nstN) to iSCSI
 * LUNs served by tgtd, because this kernel has no SCSI layer. SG_IO is passed
 * through iscsi_scsi_command_sync; tape ioctls and read/write on a tape fd are
 * translated to SSC commands. Config: TAPE_EMU_CONFIG=file of lines
 * "<path> <kind sg|st> iscsi://127.0.0.1:PORT/IQN/LUN".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <scsi/sg.h>
#include <scsi/scsi.h>
#include <scsi/scsi_ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mtio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAXDEV 32
#define MAXFD 1024

struct dev {
  char path[256];
  int tape;            /* 1: st (tape data path), 0: sg (pass-through) */
  char url[512];
  int lun;
  int minor;
};
struct emu {
  struct dev *dev;
  struct iscsi_context *ctx;
  int lun;
  int refs;
  long fileno, blkno;
};

static struct dev devs[MAXDEV];
static int ndev = -1;
static struct emu *fds[MAXFD];

static void load_config(void) {
  if (ndev >= 0) return;
  ndev = 0;
  const char *f = getenv("TAPE_EMU_CONFIG");
  if (!f) return;
  FILE *(*real_fopen)(const char *, const char *) = dlsym(RTLD_NEXT, "fopen");
  FILE *fp = real_fopen(f, "r");
  if (!fp) return;
  char kind[8];
  while (ndev < MAXDEV &&
         fscanf(fp, "%255s %7s %511s", devs[ndev].path, kind, devs[ndev].url) == 3) {
    devs[ndev].tape = strcmp(kind, "st") == 0;
    const char *s = strrchr(devs[ndev].url, '/');
    devs[ndev].lun = s ? atoi(s + 1) : 0;
    const char *d = devs[ndev].path + strlen(devs[ndev].path);
    while (d > devs[ndev].path && d[-1] >= '0' && d[-1] <= '9') d--;
    devs[ndev].minor = atoi(d) + (devs[ndev].tape ? 128 : 0);
    ndev++;
  }
  fclose(fp);
}

static struct dev *find_dev(const char *path) {
  load_config();
  if (!path) return NULL;
  for (int i = 0; i < ndev; i++)
    if (strcmp(devs[i].path, path) == 0) return &devs[i];
  return NULL;
}

static struct emu *emu_of(int fd) {
  return fd >= 0 && fd < MAXFD ? fds[fd] : NULL;
}

static int emu_open(struct dev *d) {
  struct iscsi_context *ctx = iscsi_create_context("iqn.2024-01.calypso.test:tape-emu");
  if (!ctx) { errno = ENOMEM; return -1; }
  struct iscsi_url *u = iscsi_parse_full_url(ctx, d->url);
  if (!u) { iscsi_destroy_context(ctx); errno = EINVAL; return -1; }
  iscsi_set_targetname(ctx, u->target);
  iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
  if (iscsi_full_connect_sync(ctx, u->portal, u->lun) != 0) {
    fprintf(stderr, "tape-emu: connect %s: %s\n", d->url, iscsi_get_error(ctx));
    iscsi_destroy_url(u);
    iscsi_destroy_context(ctx);
    errno = EIO;
    return -1;
  }
  int lun = u->lun;
  iscsi_destroy_url(u);
  /* A real fd keeps the number unique and makes close/dup behave. */
  int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
  int fd = real_open("/dev/null", O_RDWR);
  if (fd < 0 || fd >= MAXFD) { iscsi_destroy_context(ctx); errno = EMFILE; return -1; }
  struct emu *e = calloc(1, sizeof *e);
  e->dev = d; e->ctx = ctx; e->lun = lun; e->refs = 1;
  fds[fd] = e;
  return fd;
}

/* Runs one CDB; returns SCSI status, fills sense (18-byte fixed format). */
static int run_cdb(struct emu *e, const unsigned char *cdb, int len, int dir,
                   void *buf, int buflen, unsigned char *sense, int *got) {
  struct scsi_task *t = scsi_create_task(len, (unsigned char *)cdb, dir, buflen);
  if (!t) return -1;
  struct iscsi_data out = {0}, *outp = NULL;
  if (dir == SCSI_XFER_WRITE) { out.data = buf; out.size = buflen; outp = &out; }
  if (iscsi_scsi_command_sync(e->ctx, e->lun, t, outp) == NULL) {
    scsi_free_scsi_task(t);
    return -1;
  }
  int st = t->status;
  if (got) *got = 0;
  if (getenv("TAPE_EMU_DEBUG"))
    fprintf(stderr, "tape-emu: cdb %02x st %d key %d ascq %04x datain %d resid %d/%zu\n", cdb[0], st,
            t->sense.key, t->sense.ascq, t->datain.size, t->residual_status, t->residual);
  if (dir == SCSI_XFER_READ && st == 0 && t->datain.size > 0) {
    int n = t->datain.size < buflen ? t->datain.size : buflen;
    memcpy(buf, t->datain.data, n);
    if (got) *got = n;
  }
  /* On CHECK CONDITION libiscsi keeps the sense in datain: report the residual instead. */
  if (st == SCSI_STATUS_CHECK_CONDITION && got)
    *got = t->residual_status == SCSI_RESIDUAL_UNDERFLOW ? -(int)t->residual - 1 : 0;
  if (sense) {
    memset(sense, 0, 18);
    if (st == SCSI_STATUS_CHECK_CONDITION) {
      sense[0] = 0x70;
      sense[2] = t->sense.key & 0x0f;
      sense[7] = 10;
      sense[12] = (t->sense.ascq >> 8) & 0xff;
      sense[13] = t->sense.ascq & 0xff;
    }
  }
  scsi_free_scsi_task(t);
  return st;
}

static int sg_io(struct emu *e, struct sg_io_hdr *h) {
  int dir = h->dxfer_direction == SG_DXFER_TO_DEV ? SCSI_XFER_WRITE
          : (h->dxfer_direction == SG_DXFER_FROM_DEV || h->dxfer_direction == SG_DXFER_TO_FROM_DEV)
              ? SCSI_XFER_READ : SCSI_XFER_NONE;
  if (h->dxfer_len == 0) dir = SCSI_XFER_NONE;
  unsigned char sense[18];
  int got = 0;
  int st = run_cdb(e, h->cmdp, h->cmd_len, dir, h->dxferp, h->dxfer_len, sense, &got);
  if (st < 0) { errno = EIO; return -1; }
  h->status = st;
  h->masked_status = (st >> 1) & 0x7f;
  h->host_status = 0;
  h->driver_status = st == SCSI_STATUS_CHECK_CONDITION ? 0x08 : 0; /* DRIVER_SENSE */
  h->sb_len_wr = 0;
  if (st == SCSI_STATUS_CHECK_CONDITION && h->sbp && h->mx_sb_len) {
    int n = h->mx_sb_len < 18 ? h->mx_sb_len : 18;
    memcpy(h->sbp, sense, n);
    h->sb_len_wr = n;
  }
  h->resid = dir == SCSI_XFER_READ ? (int)h->dxfer_len - got : 0;
  h->duration = 0;
  h->info = st ? SG_INFO_CHECK : SG_INFO_OK;
  return 0;
}

static int simple(struct emu *e, unsigned char *cdb, int len) {
  int st = run_cdb(e, cdb, len, SCSI_XFER_NONE, NULL, 0, NULL, NULL);
  if (st != 0) { errno = EIO; return -1; }
  return 0;
}

static int mtop(struct emu *e, struct mtop *op) {
  unsigned char c[6] = {0};
  int n = op->mt_count;
  switch (op->mt_op) {
  case MTREW: c[0] = 0x01; e->fileno = e->blkno = 0; return simple(e, c, 6);
  case MTFSF: case MTBSF: {
    int v = op->mt_op == MTFSF ? n : -n;
    c[0] = 0x11; c[1] = 1; c[2] = v >> 16; c[3] = v >> 8; c[4] = v;
    e->fileno += v; e->blkno = 0; return simple(e, c, 6);
  }
  case MTFSR: case MTBSR: {
    int v = op->mt_op == MTFSR ? n : -n;
    c[0] = 0x11; c[1] = 0; c[2] = v >> 16; c[3] = v >> 8; c[4] = v;
    e->blkno += v; return simple(e, c, 6);
  }
  case MTWEOF: c[0] = 0x10; c[2] = n >> 16; c[3] = n >> 8; c[4] = n;
    e->fileno += n; e->blkno = 0; return simple(e, c, 6);
  case MTEOM: c[0] = 0x11; c[1] = 3; return simple(e, c, 6);
  case MTOFFL: case MTUNLOAD: c[0] = 0x1b; c[4] = 0; e->fileno = e->blkno = 0; return simple(e, c, 6);
  case MTLOAD: c[0] = 0x1b; c[4] = 1; return simple(e, c, 6);
  case MTSETBLK: case MTSETDRVBUFFER: case MTSETDENSITY: case MTNOP: case MTCOMPRESSION:
    return 0;
  default: errno = ENOTTY; return -1;
  }
}

static int mtget(struct emu *e, struct mtget *g) {
  memset(g, 0, sizeof *g);
  g->mt_type = MT_ISSCSI2;
  g->mt_fileno = e->fileno;
  g->mt_blkno = e->blkno;
  unsigned char tur[6] = {0};
  int st = run_cdb(e, tur, 6, SCSI_XFER_NONE, NULL, 0, NULL, NULL);
  long gs = 0;
  if (st == 0) gs |= GMT_ONLINE(~0);
  if (st == 0 && e->fileno == 0 && e->blkno == 0) gs |= GMT_BOT(~0);
  if (st != 0) gs |= GMT_DR_OPEN(~0);
  g->mt_gstat = gs;
  return 0;
}

static int tape_ioctl(struct emu *e, unsigned long req, void *arg) {
  switch (req) {
  case MTIOCTOP: return mtop(e, arg);
  case MTIOCGET: return mtget(e, arg);
  case MTIOCPOS: {
    unsigned char c[10] = {0x34}, b[20];
    int got = 0;
    if (run_cdb(e, c, 10, SCSI_XFER_READ, b, 20, NULL, &got) != 0) { errno = EIO; return -1; }
    ((struct mtpos *)arg)->mt_blkno = (b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7];
    return 0;
  }
  }
  return -2;
}

int ioctl(int fd, unsigned long req, ...) {
  va_list ap; va_start(ap, req); void *arg = va_arg(ap, void *); va_end(ap);
  struct emu *e = emu_of(fd);
  if (!e) {
    int (*real)(int, unsigned long, ...) = dlsym(RTLD_NEXT, "ioctl");
    return real(fd, req, arg);
  }
  switch (req) {
  case SG_IO: return sg_io(e, arg);
  case SG_GET_VERSION_NUM: *(int *)arg = 30536; return 0;
  case SCSI_IOCTL_GET_IDLUN: {
    int *v = arg; /* id | lun<<8 | channel<<16 | host<<24 */
    v[0] = (e->dev->minor & 0x7f) | ((e->lun & 0xff) << 8);
    v[1] = 0;
    return 0;
  }
  case SCSI_IOCTL_GET_BUS_NUMBER: *(int *)arg = 0; return 0;
  case SG_GET_SCSI_ID: {
    struct sg_scsi_id *s = arg;
    memset(s, 0, sizeof *s);
    s->scsi_id = e->dev->minor & 0x7f; s->lun = e->lun;
    s->scsi_type = e->dev->tape ? 1 : 8;
    return 0;
  }
  case SG_SET_TIMEOUT: case SG_SET_RESERVED_SIZE: case SG_SET_COMMAND_Q:
  case SG_SET_FORCE_PACK_ID: case SG_SET_KEEP_ORPHAN: return 0;
  case SG_GET_RESERVED_SIZE: case SG_GET_TIMEOUT: *(int *)arg = 65536; return 0;
  case SG_EMULATED_HOST: *(int *)arg = 0; return 0;
  }
  int r = tape_ioctl(e, req, arg);
  if (r != -2) return r;
  errno = ENOTTY;
  return -1;
}

static int vopen(const char *path, int flags, mode_t mode, const char *sym) {
  struct dev *d = find_dev(path);
  if (d) return emu_open(d);
  int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, sym);
  return real(path, flags, mode);
}

int open(const char *p, int f, ...) {
  mode_t m = 0; if (f & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, f); m = va_arg(ap, int); va_end(ap); }
  return vopen(p, f, m, "open");
}
int open64(const char *p, int f, ...) {
  mode_t m = 0; if (f & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, f); m = va_arg(ap, int); va_end(ap); }
  return vopen(p, f, m, "open64");
}
int __open64_2(const char *p, int f) { return vopen(p, f, 0, "open64"); }
int __open_2(const char *p, int f) { return vopen(p, f, 0, "open"); }
int openat(int dirfd, const char *p, int f, ...) {
  mode_t m = 0; if (f & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, f); m = va_arg(ap, int); va_end(ap); }
  struct dev *d = find_dev(p);
  if (d) return emu_open(d);
  int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, "openat");
  return real(dirfd, p, f, m);
}
int openat64(int dirfd, const char *p, int f, ...) {
  mode_t m = 0; if (f & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, f); m = va_arg(ap, int); va_end(ap); }
  struct dev *d = find_dev(p);
  if (d) return emu_open(d);
  int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, "openat64");
  return real(dirfd, p, f, m);
}

int close(int fd) {
  struct emu *e = emu_of(fd);
  if (e) {
    fds[fd] = NULL;
    if (--e->refs == 0) {
      iscsi_logout_sync(e->ctx);
      iscsi_destroy_context(e->ctx);
      free(e);
    }
  }
  int (*real)(int) = dlsym(RTLD_NEXT, "close");
  return real(fd);
}

int dup(int fd) {
  int (*real)(int) = dlsym(RTLD_NEXT, "dup");
  int n = real(fd);
  struct emu *e = emu_of(fd);
  if (e && n >= 0 && n < MAXFD) { fds[n] = e; e->refs++; }
  return n;
}
int dup2(int fd, int fd2) {
  int (*real)(int, int) = dlsym(RTLD_NEXT, "dup2");
  if (fd != fd2 && emu_of(fd2)) close(fd2);
  int n = real(fd, fd2);
  struct emu *e = emu_of(fd);
  if (e && n >= 0 && n < MAXFD && n != fd) { fds[n] = e; e->refs++; }
  return n;
}

ssize_t read(int fd, void *buf, size_t n) {
  struct emu *e = emu_of(fd);
  if (!e || !e->dev->tape) {
    ssize_t (*real)(int, void *, size_t) = dlsym(RTLD_NEXT, "read");
    return real(fd, buf, n);
  }
  /* READ(6), variable block: a short block is not an error, a filemark reads 0. */
  unsigned char c[6] = {0x08, 0x02, n >> 16, n >> 8, n, 0}, sense[18];
  int got = 0;
  int st = run_cdb(e, c, 6, SCSI_XFER_READ, buf, n, sense, &got);
  if (st < 0) { errno = EIO; return -1; }
  if (st == 0) { e->blkno++; return got; }
  int key = sense[2] & 0x0f;
  if (key == 0 && got < -1 && sense[13] == 0) {
    /* Short block (ILI): its data was not kept; step back and read it at its own length.
       tgt's residual is either the shortfall or the block length, so try both. */
    int r = -got - 1;
    int lens[2] = {r, (int)n - r};
    for (int i = 0; i < 2; i++) {
      unsigned char sp[6] = {0x11, 0, 0xff, 0xff, 0xff, 0};
      if (run_cdb(e, sp, 6, SCSI_XFER_NONE, NULL, 0, NULL, NULL) != 0) break;
      int len = lens[i], g = 0;
      unsigned char c2[6] = {0x08, 0x02, len >> 16, len >> 8, len, 0};
      if (len > 0 && run_cdb(e, c2, 6, SCSI_XFER_READ, buf, len, NULL, &g) == 0 && g == len) {
        e->blkno++;
        return g;
      }
    }
    errno = EIO;
    return -1;
  }
  if (key == 0 || key == 8) { /* NO SENSE with FM/ILI, or BLANK CHECK */
    if (got > 0) { e->blkno++; return got; }
    e->fileno++; e->blkno = 0;
    return 0;
  }
  errno = EIO;
  return -1;
}

ssize_t write(int fd, const void *buf, size_t n) {
  struct emu *e = emu_of(fd);
  if (!e || !e->dev->tape) {
    ssize_t (*real)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
    return real(fd, buf, n);
  }
  unsigned char c[6] = {0x0a, 0x00, n >> 16, n >> 8, n, 0};
  int st = run_cdb(e, c, 6, SCSI_XFER_WRITE, (void *)buf, n, NULL, NULL);
  if (st != 0) { errno = st < 0 ? EIO : ENOSPC; return -1; }
  e->blkno++;
  return n;
}

static void fake_stat(struct dev *d, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFCHR | 0660;
  st->st_rdev = makedev(d->tape ? 9 : 21, d->minor);
  st->st_nlink = 1;
  st->st_blksize = 4096;
}

int stat(const char *p, struct stat *st) {
  struct dev *d = find_dev(p);
  if (d) { fake_stat(d, st); return 0; }
  int (*real)(const char *, struct stat *) = dlsym(RTLD_NEXT, "stat");
  return real(p, st);
}
int lstat(const char *p, struct stat *st) {
  struct dev *d = find_dev(p);
  if (d) { fake_stat(d, st); return 0; }
  int (*real)(const char *, struct stat *) = dlsym(RTLD_NEXT, "lstat");
  return real(p, st);
}
int fstat(int fd, struct stat *st) {
  struct emu *e = emu_of(fd);
  if (e) { fake_stat(e->dev, st); return 0; }
  int (*real)(int, struct stat *) = dlsym(RTLD_NEXT, "fstat");
  return real(fd, st);
}
int __xstat(int v, const char *p, struct stat *st) { (void)v; return stat(p, st); }
int __lxstat(int v, const char *p, struct stat *st) { (void)v; return lstat(p, st); }
int __fxstat(int v, int fd, struct stat *st) { (void)v; return fstat(fd, st); }
/* glibc >= 2.33 exports the LFS names as functions: Bacula's storage daemon calls these. */
int stat64(const char *p, struct stat64 *st) {
  struct dev *d = find_dev(p);
  if (d) { fake_stat(d, (struct stat *)st); return 0; }
  int (*real)(const char *, struct stat64 *) = dlsym(RTLD_NEXT, "stat64");
  return real(p, st);
}
int lstat64(const char *p, struct stat64 *st) {
  struct dev *d = find_dev(p);
  if (d) { fake_stat(d, (struct stat *)st); return 0; }
  int (*real)(const char *, struct stat64 *) = dlsym(RTLD_NEXT, "lstat64");
  return real(p, st);
}
int fstat64(int fd, struct stat64 *st) {
  struct emu *e = emu_of(fd);
  if (e) { fake_stat(e->dev, (struct stat *)st); return 0; }
  int (*real)(int, struct stat64 *) = dlsym(RTLD_NEXT, "fstat64");
  return real(fd, st);
}
