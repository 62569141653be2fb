/*
 * blockio: write or read blocks of an iSCSI LUN through libiscsi (WRITE16 / READ16), so the
 * tests can check the data path of a target the agent configured, as a real initiator would.
 *
 *   blockio [-i INITIATOR-IQN] [-m USER%SECRET] write|read|size|seqread URL [LBA COUNT FILE]
 *
 * URL is libiscsi's: iscsi://[user%secret@]host:port/target-iqn/lun (CHAP from the URL);
 * -m sets the mutual CHAP credentials the target must answer with. `write` sends COUNT blocks
 * read from FILE at LBA; `read` writes COUNT blocks from LBA to FILE; `size` prints
 * "<blocks> <block size>"; `seqread` reads the whole LUN in 1 MiB requests and prints the bytes
 * read (a sequential throughput run). Exit 2: login refused or no such LUN; 3: I/O failed; 1: usage.
 */
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void) {
  fprintf(stderr, "usage: blockio [-i IQN] [-m USER%%SECRET] write|read|size|seqread URL [LBA COUNT FILE]\n");
  return 1;
}

int main(int argc, char **argv) {
  const char *initiator = "iqn.2026-12.calypso.test:blockio";
  char *mutual = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "i:m:")) != -1) {
    if (opt == 'i') initiator = optarg;
    else if (opt == 'm') mutual = optarg;
    else return usage();
  }
  if (argc - optind < 2) return usage();
  const char *op = argv[optind];
  const char *urlText = argv[optind + 1];
  struct iscsi_context *iscsi = iscsi_create_context(initiator);
  if (!iscsi) return 3;
  struct iscsi_url *url = iscsi_parse_full_url(iscsi, urlText);
  if (!url) {
    fprintf(stderr, "blockio: bad URL: %s\n", iscsi_get_error(iscsi));
    return 1;
  }
  iscsi_set_targetname(iscsi, url->target);
  iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
  if (url->user[0]) iscsi_set_initiator_username_pwd(iscsi, url->user, url->passwd);
  if (mutual) {
    char *sep = strchr(mutual, '%');
    if (!sep) return usage();
    *sep = 0;
    iscsi_set_target_username_pwd(iscsi, mutual, sep + 1);
  }
  if (iscsi_full_connect_sync(iscsi, url->portal, url->lun) != 0) {
    fprintf(stderr, "blockio: login failed: %s\n", iscsi_get_error(iscsi));
    return 2;
  }
  struct scsi_task *task = iscsi_readcapacity16_sync(iscsi, url->lun);
  if (!task || task->status != SCSI_STATUS_GOOD) {
    fprintf(stderr, "blockio: READ CAPACITY(16) failed: %s\n", iscsi_get_error(iscsi));
    return 2;
  }
  struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(task);
  if (!rc) return 3;
  uint32_t bs = rc->block_length;
  uint64_t blocks = rc->returned_lba + 1;
  scsi_free_scsi_task(task);
  int code = 0;
  if (strcmp(op, "size") == 0) {
    printf("%llu %u\n", (unsigned long long)blocks, bs);
  } else if (strcmp(op, "seqread") == 0) {
    uint32_t per = (1024 * 1024) / bs;
    unsigned long long total = 0;
    for (uint64_t lba = 0; lba < blocks; lba += per) {
      uint32_t n = blocks - lba < per ? (uint32_t)(blocks - lba) : per;
      task = iscsi_read16_sync(iscsi, url->lun, lba, n * bs, (int)bs, 0, 0, 0, 0, 0);
      if (!task || task->status != SCSI_STATUS_GOOD) {
        fprintf(stderr, "blockio: READ(16) failed: %s\n", iscsi_get_error(iscsi));
        return 3;
      }
      total += (unsigned long long)task->datain.size;
      scsi_free_scsi_task(task);
    }
    printf("%llu\n", total);
  } else {
    if (argc - optind < 5) return usage();
    uint64_t lba = strtoull(argv[optind + 2], NULL, 10);
    uint32_t count = (uint32_t)strtoul(argv[optind + 3], NULL, 10);
    const char *file = argv[optind + 4];
    size_t len = (size_t)count * bs;
    unsigned char *buf = calloc(1, len ? len : 1);
    if (strcmp(op, "write") == 0) {
      FILE *f = fopen(file, "rb");
      if (!f || fread(buf, 1, len, f) != len) {
        fprintf(stderr, "blockio: cannot read %zu bytes from %s\n", len, file);
        return 1;
      }
      fclose(f);
      task = iscsi_write16_sync(iscsi, url->lun, lba, buf, (uint32_t)len, (int)bs, 0, 0, 1, 0, 0);
      if (!task || task->status != SCSI_STATUS_GOOD) {
        fprintf(stderr, "blockio: WRITE(16) failed: %s\n", iscsi_get_error(iscsi));
        code = 3;
      }
    } else if (strcmp(op, "read") == 0) {
      task = iscsi_read16_sync(iscsi, url->lun, lba, (uint32_t)len, (int)bs, 0, 0, 0, 0, 0);
      if (!task || task->status != SCSI_STATUS_GOOD) {
        fprintf(stderr, "blockio: READ(16) failed: %s\n", iscsi_get_error(iscsi));
        code = 3;
      } else {
        FILE *f = fopen(file, "wb");
        if (!f || fwrite(task->datain.data, 1, task->datain.size, f) != (size_t)task->datain.size) code = 3;
        if (f) fclose(f);
      }
    } else {
      return usage();
    }
    if (task) scsi_free_scsi_task(task);
    free(buf);
  }
  iscsi_logout_sync(iscsi);
  iscsi_destroy_url(url);
  iscsi_destroy_context(iscsi);
  return code;
}
