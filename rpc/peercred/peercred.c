/*
 * getPeerCred(fd) -> { pid, uid, gid, groups }
 *
 * The Unix-socket identity of a connected peer, from SO_PEERCRED (pid/uid/gid as of connect())
 * and SO_PEERGROUPS (Linux >= 4.13: the peer's supplementary groups). A native addon rather than
 * a shell-out to ss/lsof: one syscall, no race with the peer, nothing to parse. Plain Node-API
 * (no node-addon-api dependency), so it builds against the Node headers npm already has.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value get_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "getPeerCred(fd): fd required");
    return NULL;
  }
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "getPeerCred(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "SO_PEERCRED", errno);

  napi_value out, v, groups;
  napi_create_object(env, &out);
  napi_create_int32(env, cred.pid, &v);
  napi_set_named_property(env, out, "pid", v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_named_property(env, out, "uid", v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_named_property(env, out, "gid", v);

  napi_create_array(env, &groups);
  socklen_t glen = 64 * sizeof(gid_t);
  gid_t *gids = malloc(glen);
  int rc = gids ? getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &glen) : -1;
  if (rc != 0 && errno == ERANGE && gids) {
    gid_t *bigger = realloc(gids, glen);
    if (bigger) {
      gids = bigger;
      rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids, &glen);
    }
  }
  if (rc == 0) {
    uint32_t n = glen / sizeof(gid_t);
    for (uint32_t i = 0; i < n; i++) {
      napi_create_uint32(env, gids[i], &v);
      napi_set_element(env, groups, i, v);
    }
  }
  free(gids);
  napi_set_named_property(env, out, "groups", groups);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "getPeerCred", NAPI_AUTO_LENGTH, get_peer_cred, NULL, &fn);
  napi_set_named_property(env, exports, "getPeerCred", fn);
  return exports;
}
