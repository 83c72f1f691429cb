/*
 * A board on a serial line, for aiolo's serial tests: it speaks SLIP exactly as CNMAT's OSC library
 * for Arduino does (SLIPEncodedSerial): every packet is sent as END, the packet with END escaped as
 * ESC ESC_END and ESC as ESC ESC_ESC, then END; received bytes are decoded per RFC 1055 (END ends a
 * packet, an empty packet is skipped). Written for this project, without CNMAT's code.
 *
 *   slip_peer [-e] DEVICE
 *
 * opens DEVICE (one end of a socat pty pair) at 115200 baud, 8N1, raw, and prints "ready".
 * Commands on stdin, one a line:
 *   send HEX   sends the bytes as one SLIP packet (END, escaped bytes, END)
 *   raw HEX    writes the bytes as they are (garbage, a frame cut short by a "reset")
 *   quit       exits
 * Every packet received is printed as "recv HEX" (and with -e sent back, as a board echoing).
 * When the line hangs up (the pty pair is gone) it prints "hangup" and exits 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define END 0xC0
#define ESC 0xDB
#define ESC_END 0xDC
#define ESC_ESC 0xDD
#define MAX_PACKET (4 * 1024 * 1024)

static int fd = -1;

static void write_all(const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      perror("write");
      exit(2);
    }
    p += w;
    n -= (size_t)w;
  }
}

/* SLIPEncodedSerial's endPacket/beginPacket: END before and after each packet. */
static void send_packet(const unsigned char *p, size_t n) {
  unsigned char *out = malloc(2 * n + 2);
  size_t o = 0;
  out[o++] = END;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == END) {
      out[o++] = ESC;
      out[o++] = ESC_END;
    } else if (p[i] == ESC) {
      out[o++] = ESC;
      out[o++] = ESC_ESC;
    } else {
      out[o++] = p[i];
    }
  }
  out[o++] = END;
  write_all(out, o);
  free(out);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes the hex after the command word, in place; returns the byte count, or -1. */
static long unhex(char *text, unsigned char *out) {
  size_t len = strlen(text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = 0;
  if (len % 2) return -1;
  for (size_t i = 0; i < len; i += 2) {
    int a = hexval(text[i]), b = hexval(text[i + 1]);
    if (a < 0 || b < 0) return -1;
    out[i / 2] = (unsigned char)(a * 16 + b);
  }
  return (long)(len / 2);
}

static void print_packet(const unsigned char *p, size_t n) {
  fputs("recv ", stdout);
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
  putchar('\n');
  fflush(stdout);
}

int main(int argc, char **argv) {
  int echo = 0;
  int opt;
  while ((opt = getopt(argc, argv, "e")) != -1) {
    if (opt == 'e') echo = 1;
    else return 64;
  }
  if (optind >= argc) {
    fprintf(stderr, "usage: slip_peer [-e] DEVICE\n");
    return 64;
  }
  fd = open(argv[optind], O_RDWR | O_NOCTTY);
  if (fd < 0) {
    perror("open");
    return 2;
  }
  struct termios t;
  if (tcgetattr(fd, &t) != 0) {
    perror("tcgetattr");
    return 2;
  }
  cfmakeraw(&t);
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
  t.c_cflag |= CS8 | CLOCAL | CREAD;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) != 0) {
    perror("tcsetattr");
    return 2;
  }
  /* unbuffered: a line poll() reports is read, and no further line hides in stdio's buffer */
  setvbuf(stdin, NULL, _IONBF, 0);
  puts("ready");
  fflush(stdout);

  static unsigned char packet[MAX_PACKET];
  size_t length = 0;
  int escaped = 0;
  static char line[2 * MAX_PACKET + 16];
  static unsigned char bytes[MAX_PACKET];
  unsigned char buf[4096];
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 2;
    }
    if (fds[1].revents & POLLIN) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) {
        puts("hangup");
        fflush(stdout);
        return 3;
      }
      for (ssize_t i = 0; i < n; i++) {
        unsigned char b = buf[i];
        if (b == END) {
          if (length > 0) {
            print_packet(packet, length);
            if (echo) send_packet(packet, length);
          }
          length = 0;
          escaped = 0;
          continue;
        }
        if (escaped) {
          escaped = 0;
          b = b == ESC_END ? END : b == ESC_ESC ? ESC : b;
        } else if (b == ESC) {
          escaped = 1;
          continue;
        }
        if (length < MAX_PACKET) packet[length++] = b;
      }
    } else if (fds[1].revents & (POLLHUP | POLLERR)) {
      puts("hangup");
      fflush(stdout);
      return 3;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      if (fgets(line, sizeof line, stdin) == NULL) return 0;
      long n;
      if (strncmp(line, "send ", 5) == 0 && (n = unhex(line + 5, bytes)) >= 0) {
        send_packet(bytes, (size_t)n);
        puts("sent");
      } else if (strncmp(line, "raw ", 4) == 0 && (n = unhex(line + 4, bytes)) >= 0) {
        write_all(bytes, (size_t)n);
        puts("sent");
      } else if (strncmp(line, "quit", 4) == 0) {
        return 0;
      } else {
        printf("bad %s", line);
      }
      fflush(stdout);
    }
  }
}
