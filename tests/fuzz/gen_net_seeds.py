#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_net_decode and fuzz_net_proto: crafted
conversations of every protocol plugins/net names, and frames of every link
type it decodes. Nothing here comes from a capture file (the shared corpus
is used by path in the unit tests, never copied).

    python3 tests/fuzz/gen_net_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, 'corpus', 'fuzz_net_proto')
DECODE = os.path.join(HERE, 'corpus', 'fuzz_net_decode')


def tls_client_hello(sni=b'example.com', alpn=(b'h2', b'http/1.1')):
    ext = b''
    name = struct.pack('>BH', 0, len(sni)) + sni
    ext += struct.pack('>HH', 0, len(name) + 2) + struct.pack('>H', len(name)) + name
    al = b''.join(bytes([len(a)]) + a for a in alpn)
    ext += struct.pack('>HH', 16, len(al) + 2) + struct.pack('>H', len(al)) + al
    ext += struct.pack('>HHB', 43, 5, 4) + b'\x03\x04\x03\x03'
    body = b'\x03\x03' + b'\x11' * 32 + b'\x00' + b'\x00\x04\x13\x01\x13\x02' + b'\x01\x00'
    body += struct.pack('>H', len(ext)) + ext
    hs = b'\x01' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('>H', len(hs)) + hs


def tls_server_hello():
    ext = struct.pack('>HHH', 43, 2, 0x0304)
    body = b'\x03\x03' + b'\x22' * 32 + b'\x00' + b'\x13\x01' + b'\x00'
    body += struct.pack('>H', len(ext)) + ext
    hs = b'\x02' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x03' + struct.pack('>H', len(hs)) + hs


def dns_query(name=b'www.example.com', qid=0x1234, qtype=1):
    q = b''.join(bytes([len(l)]) + l for l in name.split(b'.')) + b'\x00'
    return struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + q + struct.pack('>HH', qtype, 1)


def dns_answer(name=b'www.example.com', qid=0x1234):
    q = dns_query(name, qid)[12:]
    cname = b'\xc0\x0c' + struct.pack('>HHIH', 5, 1, 60, 6) + b'\x03cdn\xc0\x10'
    a = b'\xc0\x2d' + struct.pack('>HHIH', 1, 1, 60, 4) + b'\x5d\xb8\xd8\x22'
    return struct.pack('>HHHHHH', qid, 0x8180, 1, 2, 0, 0) + q + cname + a


def mysql_greeting():
    p = b'\x0a' + b'8.0.36\x00' + b'\x01\x00\x00\x00' + b'abcdefgh\x00' + b'\xff\xf7'
    p += b'\x21\x02\x00\xff\xc1\x15' + b'\x00' * 10 + b'ijklmnopqrst\x00' + b'mysql_native_password\x00'
    return struct.pack('<I', len(p))[:3] + b'\x00' + p


def mysql_login():
    p = struct.pack('<IIB', 0x000fa68d, 16777216, 0x21) + b'\x00' * 23
    p += b'app\x00' + b'\x14' + b'\x01' * 20 + b'shop\x00' + b'mysql_native_password\x00'
    return struct.pack('<I', len(p))[:3] + b'\x01' + p


def mysql_query(q=b"SELECT * FROM users WHERE id = '1' OR '1'='1'"):
    p = b'\x03' + q
    return struct.pack('<I', len(p))[:3] + b'\x00' + p


def mysql_error(code=1045):
    p = b'\xff' + struct.pack('<H', code) + b'#28000Access denied'
    return struct.pack('<I', len(p))[:3] + b'\x02' + p


def pg_startup():
    params = b'user\x00alice\x00database\x00shop\x00application_name\x00psql\x00\x00'
    return struct.pack('>II', 8 + len(params), 196608) + params


def pg_msg(t, body):
    return t + struct.pack('>I', 4 + len(body)) + body


H2 = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
H2SET = b'\x00\x00\x00\x04\x00\x00\x00\x00\x00'

CONVERSATIONS = {
    'http': ('http', b'GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: curl/8\r\n\r\n',
             b'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello'),
    'http-post': ('http', b'POST /login HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc',
                  b'HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n'),
    'tls': ('tls', tls_client_hello(), tls_server_hello()),
    'tls-alert': ('tls', tls_client_hello(b'a.b'), b'\x15\x03\x03\x00\x02\x02\x28'),
    'sslv2': ('tls', b'\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10' + b'\x07\x00\xc0' * 7 + b'\x33' * 16,
              b'\x84\x00\x04\x00\x01\x00\x02' + b'\x00' * 10),
    'ssh': ('ssh', b'SSH-2.0-OpenSSH_9.6\r\n', b'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n'),
    'ssh1': ('ssh', b'SSH-1.5-client\n', b'SSH-1.99-server\n'),
    'dns-tcp': ('dns', struct.pack('>H', len(dns_query())) + dns_query(),
                struct.pack('>H', len(dns_answer())) + dns_answer()),
    'mysql': ('mysql', mysql_login() + mysql_query(), mysql_greeting() + mysql_error()),
    'postgresql': ('postgresql', pg_startup() + pg_msg(b'Q', b'SELECT 1;\x00'),
                   pg_msg(b'R', b'\x00\x00\x00\x00') + pg_msg(b'E', b'SFATAL\x00C28P01\x00Mbad\x00\x00')),
    'postgresql-ssl': ('postgresql', struct.pack('>II', 8, 80877103), b'N'),
    'redis': ('redis', b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', b'+OK\r\n$1\r\nv\r\n'),
    'redis-inline': ('redis', b'PUBLISH news "hi"\r\n', b':1\r\n'),
    'grpc': ('http2', H2 + H2SET + b'\x00\x00\x1f\x01\x04\x00\x00\x00\x01\x00\x0ccontent-type\x10application/grpc',
             H2SET),
    'http2': ('http2', H2 + H2SET + b'\x00\x00\x03\x01\x05\x00\x00\x00\x01\x82\x84\x86',
              H2SET + b'\x00\x00\x01\x01\x04\x00\x00\x00\x01\x88'),
    'etcd-v2': ('etcd', b'GET /v2/keys/message HTTP/1.1\r\nHost: db\r\n\r\n',
                b'HTTP/1.1 200 OK\r\nX-Etcd-Cluster-Id: cdf8\r\n\r\n'),
    'etcd-grpc': ('etcd', H2 + H2SET + b'\x00\x00\x1e\x01\x04\x00\x00\x00\x01\x04\x16/etcdserverpb.KV/Range\x83\x86',
                  H2SET),
    'elasticsearch': ('elasticsearch', b'GET /_cluster/health HTTP/1.1\r\nHost: es\r\n\r\n',
                      b'HTTP/1.1 200 OK\r\n\r\n{"tagline":"You Know, for Search"}'),
    'mongodb': ('mongodb', b'\x1a\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00',
                b'\x1a\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00'),
    'kafka': ('kafka', b'\x00\x00\x00\x11\x00\x12\x00\x03\x00\x00\x00\x07\x00\x07rdkafka',
              b'\x00\x00\x00\x06\x00\x00\x00\x07\x00\x00'),
    'cassandra': ('cassandra', b'\x04\x00\x00\x01\x05\x00\x00\x00\x00', b'\x84\x00\x00\x01\x06\x00\x00\x00\x02\x00\x00'),
    'zookeeper': ('zookeeper', b'\x00\x00\x00\x2c' + b'\x00' * 12 + b'\x00\x00\x75\x30' + b'\x00' * 8 + b'\x00\x00\x00\x10' + b'\x00' * 16,
                  b'\x00\x00\x00\x24\x00\x00\x00\x00\x00\x00\x75\x30' + b'\x01' * 8 + b'\x00\x00\x00\x10' + b'\x11' * 16),
    'zookeeper-4lw': ('zookeeper', b'ruok', b'imok'),
    'memcached': ('memcached', b'set k 0 0 5\r\nhello\r\n', b'STORED\r\n'),
    'memcached-bin': ('memcached', b'\x80\x00\x00\x01' + b'\x00' * 4 + b'\x00\x00\x00\x01' + b'\x00' * 12 + b'k', b'\x81' + b'\x00' * 23),
    'couchbase': ('couchbase', b'\x80\x1f\x00\x05\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x01' + b'\x00' * 8 + b'sdk/3\x00\x01\x00\x02',
                  b'\x81\x1f' + b'\x00' * 9 + b'\x04' + b'\x00' * 12 + b'\x00\x01\x00\x02'),
    'mssql': ('mssql', b'\x12\x01\x00\x1a\x00\x00\x01\x00\x00\x00\x0b\x00\x06\x01\x00\x11\x00\x01\xff\x0f\x00\x07\xd0\x00\x00\x01',
              b'\x04\x01\x00\x1a\x00\x00\x01\x00\x00\x00\x0b\x00\x06\x01\x00\x11\x00\x01\xff\x0f\x00\x07\xd0\x00\x00\x01'),
    'oracle': ('oracle', b'\x00\x5a\x00\x00\x01\x00\x00\x00\x01\x3a\x01\x2c\x00\x00\x08\x00(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=ORCL)))',
               b'\x00\x20\x00\x00\x02\x00\x00\x00\x01\x3a' + b'\x00' * 22),
    'echo': ('echo', b'hello there\r\n', b'hello there\r\n'),
}
DATAGRAMS = {
    'dns': ('dns', dns_query(), dns_answer()),
    'dns-loop': ('dns', struct.pack('>HHHHHH', 7, 0x0100, 1, 0, 0, 0) + b'\xc0\x0c\x00\x01\x00\x01', b''),
    'dhcp': ('dhcp', b'\x01\x01\x06' + b'\x00' * 233 + b'\x63\x82\x53\x63\x35\x01\x01\x0c\x04node\xff', b''),
    'ntp': ('ntp', b'\x23' + b'\x00' * 39 + b'\xe9\x00\x00\x01\x02\x03\x04\x05',
            b'\x24\x02' + b'\x00' * 22 + b'\xe9\x00\x00\x01\x02\x03\x04\x05' + b'\x00' * 16),
    'tftp': ('tftp', b'\x00\x01pxelinux.0\x00octet\x00', b'\x00\x03\x00\x01data'),
    'dtls': ('dtls', b'\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x01' + b'\x00' * 11, b''),
    'memcached-udp': ('memcached', b'\x00\x01\x00\x00\x00\x01\x00\x00get k\r\n', b'\x00\x01\x00\x00\x00\x01\x00\x00END\r\n'),
}


def write(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def proto_seed(app, cli, srv, flags=0):
    return app.encode() + b'\x00' + bytes([flags]) + struct.pack('>H', len(cli)) + cli + srv


def csum(b):
    if len(b) % 2:
        b += b'\x00'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident=1, frag=0):
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack('>H', csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nh, payload):
    return struct.pack('>IHBB16s16s', 0x60000000, len(payload), nh, 64, bytes(src), bytes(dst)) + payload


def tcp(sp, dp, seq, ack, flags, data=b''):
    return struct.pack('>HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def udp(sp, dp, data):
    return struct.pack('>HHHH', sp, dp, 8 + len(data), 0) + data


A, B = [10, 0, 0, 1], [10, 0, 0, 2]
A6, B6 = [0xfd] + [0] * 14 + [1], [0xfd] + [0] * 14 + [2]
LINK = {  # link type index of fuzz_net_decode -> (header for IPv4, header for IPv6)
    0: (b'\xaa' * 12 + b'\x08\x00', b'\xaa' * 12 + b'\x86\xdd'),
    1: (b'\x00' * 14 + b'\x08\x00', b'\x00' * 14 + b'\x86\xdd'),
    2: (b'\x08\x00' + b'\x00' * 18, b'\x86\xdd' + b'\x00' * 18),
    3: (b'\x02\x00\x00\x00', b'\x1e\x00\x00\x00'),
    4: (b'\x00\x00\x00\x02', b'\x00\x00\x00\x18'),
    5: (b'', b''),
}


def tcp_frames(cli, srv, v6, server_first=False, sport=40000, dport=8080):
    mk = (lambda p: ipv6(A6, B6, 6, p)) if v6 else (lambda p: ipv4(A, B, 6, p))
    mkr = (lambda p: ipv6(B6, A6, 6, p)) if v6 else (lambda p: ipv4(B, A, 6, p))
    f = [mk(tcp(sport, dport, 100, 0, 0x02)), mkr(tcp(dport, sport, 900, 101, 0x12)),
         mk(tcp(sport, dport, 101, 901, 0x10))]
    c = [mk(tcp(sport, dport, 101, 901, 0x18, cli))] if cli else []
    s = [mkr(tcp(dport, sport, 901, 101, 0x18, srv))] if srv else []
    f += s + c if server_first else c + s
    f += [mk(tcp(sport, dport, 101 + len(cli), 901 + len(srv), 0x11)),
          mkr(tcp(dport, sport, 901 + len(srv), 102 + len(cli), 0x11))]
    return f


def decode_seed(link, frames, v6):
    hdr = LINK[link][1 if v6 else 0]
    out = bytes([link])
    for fr in frames:
        fr = hdr + fr
        out += struct.pack('>HB', len(fr), 1) + fr
    return out


def main():
    for name, (app, cli, srv) in CONVERSATIONS.items():
        write(PROTO, name, proto_seed(app, cli, srv))
    for name, (app, cli, srv) in DATAGRAMS.items():
        write(PROTO, name, proto_seed(app, cli, srv, flags=2))
    # a PostgreSQL length of 0xffffffff once looped forever (off + 1 + len wrapped)
    write(PROTO, 'regress-postgresql-length-wrap',
          proto_seed('postgresql', pg_startup(), pg_msg(b'R', b'\x00' * 4) + b'E\xff\xff\xff\xffS'))
    links = list(LINK)
    for i, (name, (app, cli, srv)) in enumerate(CONVERSATIONS.items()):
        link, v6 = links[i % len(links)], i % 3 == 2
        frames = tcp_frames(cli[:1400], srv[:1400], v6, server_first=app == 'mysql')
        write(DECODE, 'tcp-' + name, decode_seed(link, frames, v6))
    for i, (name, (app, cli, srv)) in enumerate(DATAGRAMS.items()):
        v6 = i % 2 == 1
        mk = (lambda s, d, p: ipv6(s, d, 17, p)) if v6 else (lambda s, d, p: ipv4(s, d, 17, p))
        frames = [mk(A6 if v6 else A, B6 if v6 else B, udp(40001, 5000, cli))]
        if srv:
            frames.append(mk(B6 if v6 else B, A6 if v6 else A, udp(5000, 40001, srv)))
        write(DECODE, 'udp-' + name, decode_seed(links[i % len(links)], frames, v6))
    # IPv4 fragments of a UDP DNS query, out of order, one overlapping
    u = udp(40001, 53, dns_query(b'fragmented.example.net'))
    f1 = ipv4(A, B, 17, u[:16], ident=7, frag=0x2000)
    f2 = ipv4(A, B, 17, u[16:32], ident=7, frag=0x2000 | 2)
    f3 = ipv4(A, B, 17, u[32:], ident=7, frag=4)
    write(DECODE, 'ipv4-fragments', decode_seed(5, [f3, f1, f2, f2], False))
    # IPv6 fragment header and a hop-by-hop header
    fh = lambda off, more: struct.pack('>BBHI', 17, 0, off | more, 0x1234)
    write(DECODE, 'ipv6-fragments', decode_seed(5, [ipv6(A6, B6, 44, fh(16, 0) + u[16:]),
                                                    ipv6(A6, B6, 44, fh(0, 1) + u[:16])], True))
    write(DECODE, 'ipv6-hop-by-hop', decode_seed(5, [ipv6(A6, B6, 0, b'\x11\x00\x01\x04\x00\x00\x00\x00' + u)], True))
    # VLAN (802.1ad + 802.1Q) around IPv4
    frame = b'\xaa' * 12 + b'\x88\xa8\x00\x64\x81\x00\x00\xc8\x08\x00' + ipv4(A, B, 17, u)
    write(DECODE, 'vlan-qinq', bytes([0]) + struct.pack('>HB', len(frame), 1) + frame)


if __name__ == '__main__':
    main()
