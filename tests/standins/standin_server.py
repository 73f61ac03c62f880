"""The stand-ins' common start: serve a handler on 127.0.0.1 (port 0 picks a free one)
and print "PORT <n>" first, which is how the tests learn where it listens."""
from http.server import ThreadingHTTPServer


def serve(handler, port):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
