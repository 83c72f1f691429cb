/*
 * lo_peer: a liblo 0.31 peer for aiolo's interoperability tests, built at test time with
 * `gcc -O2 -o lo_peer lo_peer.c -llo` (Debian's liblo-dev). It prints and reads OSC values in an
 * exact text form, so that tests compare bit for bit:
 *
 *   i h     decimal              f  8 hex digits of the float32 bits   d  16 hex digits of the bits
 *   s S b   'x' then hex bytes   c  decimal byte   m  8 hex digits     t  %08x.%08x
 *   T F N I '-'                  path: 'x' then hex bytes
 *
 * recv URL|udp|tcp [-r] [-g] [-m PATH:TYPES]...
 *   Serves; prints "READY <port> <url>", then for each dispatched message
 *   "MSG <timetag> <path> <types> <args...> SRC <source url> AT <time of dispatch>", and
 *   "ERR <code> <where>" for errors.
 *   -m adds a method (TYPES '*' = any); -g adds a catch-all after them (the default without -m);
 *   -r replies to every message's source with /reply and the same arguments.
 *
 * send
 *   Reads commands, one per line:
 *     target URL [slip]       where to send (slip: SLIP framing over TCP)
 *     server udp|tcp          send from a server of our own, whose replies are printed as MSG
 *     msg PATH TYPES ARGS...  a message: sent now, or added to the open bundle
 *     bundle SEC FRAC         open a bundle (nested in the open one, if any)
 *     end                     close it: nested into its parent, or sent
 *     poll MS                 dispatch what our server receives for up to MS ms (until a message)
 *   Answers every command with one line: OK, READY ..., SENT <lo_send's return>, ADDED (to the
 *   open bundle), OPEN, NESTED, POLLED <n>, or FAIL <why>.
 */
#include <lo/lo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reply_mode = 0;

static void print_hex(const unsigned char *p, size_t n) {
  putchar('x');
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static void print_arg(char type, lo_arg *a) {
  switch (type) {
  case 'i': printf("%d", a->i); break;
  case 'h': printf("%lld", (long long)a->h); break;
  case 'f': { uint32_t u; memcpy(&u, &a->f, 4); printf("%08x", u); break; }
  case 'd': { uint64_t u; memcpy(&u, &a->d, 8); printf("%016llx", (unsigned long long)u); break; }
  case 's': case 'S': print_hex((const unsigned char *)&a->s, strlen(&a->s)); break;
  case 'c': printf("%u", (unsigned char)a->c); break;
  case 'b': print_hex(lo_blob_dataptr((lo_blob)a), lo_blob_datasize((lo_blob)a)); break;
  case 'm': printf("%02x%02x%02x%02x", a->m[0], a->m[1], a->m[2], a->m[3]); break;
  case 't': printf("%08x.%08x", a->t.sec, a->t.frac); break;
  default: putchar('-');
  }
}

static int on_message(const char *path, const char *types, lo_arg **argv, int argc, lo_message msg,
                      void *user_data) {
  (void)user_data;
  lo_timetag ts = lo_message_get_timestamp(msg), now;
  lo_timetag_now(&now);
  printf("MSG %08x.%08x ", ts.sec, ts.frac);
  print_hex((const unsigned char *)path, strlen(path));
  printf(" %s", types[0] ? types : "-");
  for (int i = 0; i < argc; i++) {
    putchar(' ');
    print_arg(types[i], argv[i]);
  }
  lo_address src = lo_message_get_source(msg);
  char *url = src ? lo_address_get_url(src) : NULL;
  printf(" SRC %s AT %08x.%08x\n", url ? url : "-", now.sec, now.frac);
  free(url);
  fflush(stdout);
  if (reply_mode && src) lo_send_message(src, "/reply", msg);
  return 0;
}

static void on_error(int num, const char *msg, const char *where) {
  (void)msg;
  printf("ERR %d %s\n", num, where ? where : "-");
  fflush(stdout);
}

static lo_server make_server(const char *spec) {
  if (!strcmp(spec, "udp")) return lo_server_new_with_proto(NULL, LO_UDP, on_error);
  if (!strcmp(spec, "tcp")) return lo_server_new_with_proto(NULL, LO_TCP, on_error);
  return lo_server_new_from_url(spec, on_error);
}

static void announce(lo_server s) {
  char *url = lo_server_get_url(s);
  printf("READY %d %s\n", lo_server_get_port(s), url ? url : "-");
  free(url);
  fflush(stdout);
}

static int recv_main(int argc, char **argv) {
  if (argc < 1) return 2;
  lo_server s = make_server(argv[0]);
  if (!s) return 1;
  int methods = 0, generic = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-r")) reply_mode = 1;
    else if (!strcmp(argv[i], "-g")) generic = 1;
    else if (!strcmp(argv[i], "-m") && i + 1 < argc) {
      char *spec = argv[++i];
      char *colon = strrchr(spec, ':');
      if (!colon) return 2;
      *colon = 0;
      const char *types = strcmp(colon + 1, "*") ? colon + 1 : NULL;
      lo_server_add_method(s, spec, types, on_message, NULL);
      methods++;
    }
  }
  if (generic || methods == 0) lo_server_add_method(s, NULL, NULL, on_message, NULL);
  announce(s);
  for (;;) lo_server_recv_noblock(s, 50);
}

/* ---- send mode */

static int unhex(const char *t, unsigned char *out, size_t cap) {
  if (*t++ != 'x') return -1;
  size_t n = strlen(t) / 2;
  if (n > cap) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(t + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (unsigned char)v;
  }
  return (int)n;
}

static unsigned char buf[70000];

static int add_arg(lo_message m, char type, const char *tok) {
  switch (type) {
  case 'i': return lo_message_add_int32(m, (int32_t)strtol(tok, NULL, 10));
  case 'h': return lo_message_add_int64(m, (int64_t)strtoll(tok, NULL, 10));
  case 'f': { uint32_t u = (uint32_t)strtoul(tok, NULL, 16); float f; memcpy(&f, &u, 4); return lo_message_add_float(m, f); }
  case 'd': { uint64_t u = strtoull(tok, NULL, 16); double d; memcpy(&d, &u, 8); return lo_message_add_double(m, d); }
  case 's': case 'S': {
    int n = unhex(tok, buf, sizeof buf - 1);
    if (n < 0) return -1;
    buf[n] = 0;
    return type == 's' ? lo_message_add_string(m, (char *)buf) : lo_message_add_symbol(m, (char *)buf);
  }
  case 'c': return lo_message_add_char(m, (char)atoi(tok));
  case 'b': {
    int n = unhex(tok, buf, sizeof buf);
    lo_blob b = n > 0 ? lo_blob_new(n, buf) : NULL;
    if (!b) return -1; /* liblo 0.31 cannot make an empty blob */
    int r = lo_message_add_blob(m, b);
    lo_blob_free(b);
    return r;
  }
  case 'm': { uint32_t u = (uint32_t)strtoul(tok, NULL, 16); uint8_t b[4] = {u >> 24, u >> 16, u >> 8, u}; return lo_message_add_midi(m, b); }
  case 't': { lo_timetag t; if (sscanf(tok, "%x.%x", &t.sec, &t.frac) != 2) return -1; return lo_message_add_timetag(m, t); }
  case 'T': return lo_message_add_true(m);
  case 'F': return lo_message_add_false(m);
  case 'N': return lo_message_add_nil(m);
  case 'I': return lo_message_add_infinitum(m);
  default: return -1;
  }
}

static int send_main(void) {
  static char line[200000];
  lo_address target = NULL;
  lo_server from = NULL;
  lo_bundle stack[64];
  int depth = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    char *save = NULL;
    char *cmd = strtok_r(line, " ", &save);
    if (!cmd) continue;
    if (!strcmp(cmd, "target")) {
      char *url = strtok_r(NULL, " ", &save);
      char *opt = strtok_r(NULL, " ", &save);
      if (target) lo_address_free(target);
      target = lo_address_new_from_url(url);
      if (!target) { printf("FAIL target\n"); continue; }
      if (opt && !strcmp(opt, "slip")) lo_address_set_stream_slip(target, 1);
      printf("OK\n");
    } else if (!strcmp(cmd, "server")) {
      from = make_server(strtok_r(NULL, " ", &save));
      if (!from) { printf("FAIL server\n"); continue; }
      lo_server_add_method(from, NULL, NULL, on_message, NULL);
      announce(from);
    } else if (!strcmp(cmd, "msg")) {
      char *path_hex = strtok_r(NULL, " ", &save);
      char *types = strtok_r(NULL, " ", &save);
      static unsigned char path[4096];
      int n = path_hex ? unhex(path_hex, path, sizeof path - 1) : -1;
      if (n < 0 || !types) { printf("FAIL msg\n"); continue; }
      path[n] = 0;
      lo_message m = lo_message_new();
      int ok = 1;
      for (const char *t = strcmp(types, "-") ? types : ""; *t; t++) {
        char *tok = strtok_r(NULL, " ", &save);
        if (!tok || add_arg(m, *t, tok) != 0) { ok = 0; break; }
      }
      if (!ok) { printf("FAIL args\n"); lo_message_free(m); continue; }
      if (depth > 0) {
        lo_bundle_add_message(stack[depth - 1], (char *)path, m);
        printf("ADDED\n");
      } else {
        int r = from ? lo_send_message_from(target, from, (char *)path, m) : lo_send_message(target, (char *)path, m);
        printf("SENT %d\n", r);
        lo_message_free(m);
      }
    } else if (!strcmp(cmd, "bundle")) {
      lo_timetag t;
      char *sec = strtok_r(NULL, " ", &save);
      char *frac = strtok_r(NULL, " ", &save);
      if (!sec || !frac || depth == 64) { printf("FAIL bundle\n"); continue; }
      t.sec = (uint32_t)strtoul(sec, NULL, 16);
      t.frac = (uint32_t)strtoul(frac, NULL, 16);
      stack[depth++] = lo_bundle_new(t);
      printf("OPEN\n");
    } else if (!strcmp(cmd, "end")) {
      if (depth == 0) { printf("FAIL end\n"); continue; }
      lo_bundle b = stack[--depth];
      if (depth > 0) {
        lo_bundle_add_bundle(stack[depth - 1], b);
        printf("NESTED\n");
      } else {
        int r = from ? lo_send_bundle_from(target, from, b) : lo_send_bundle(target, b);
        printf("SENT %d\n", r);
        lo_bundle_free_recursive(b);
      }
    } else if (!strcmp(cmd, "poll")) {
      int ms = atoi(strtok_r(NULL, " ", &save));
      int got = from ? lo_server_recv_noblock(from, ms) : 0;
      printf("POLLED %d\n", got);
    } else if (!strcmp(cmd, "quit")) {
      break;
    } else {
      printf("FAIL unknown %s\n", cmd);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && !strcmp(argv[1], "recv")) return recv_main(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "send")) return send_main();
  fprintf(stderr, "usage: lo_peer recv URL|udp|tcp [-r] [-g] [-m PATH:TYPES]... | lo_peer send\n");
  return 2;
}
