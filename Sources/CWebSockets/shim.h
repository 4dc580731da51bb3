#ifndef CONVOPS_CWEBSOCKETS_SHIM_H
#define CONVOPS_CWEBSOCKETS_SHIM_H
#include <libwebsockets.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

// LWS_PRE is a function-like macro: the headroom lws_write needs before the payload.
static const size_t convops_lws_pre = LWS_PRE;

// SSL_OP_NO_* are built by a cast macro (SSL_OP_BIT): the protocols below TLS 1.2, as one
// value for ssl_options_set and ssl_client_options_set, so neither side offers them.
static const long convops_lws_tls_below_1_2 = (long)(SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);

// Whether the peer has ended the TCP connection on this socket (its FIN came: CLOSE_WAIT) or
// the socket is gone: for an emulator that reads nothing from a half-open socket, and so would
// never see the end otherwise.
static inline int convops_tcp_peer_ended(int fd) {
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 1;
    return info.tcpi_state == TCP_CLOSE_WAIT || info.tcpi_state == TCP_CLOSE || info.tcpi_state == TCP_LAST_ACK;
}
#endif
