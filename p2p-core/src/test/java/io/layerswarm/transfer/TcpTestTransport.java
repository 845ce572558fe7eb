package io.layerswarm.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One stream per TCP connection on loopback: enough transport to test the protocol without libp2p.
 * Serves one request per connection ({@link LayerExchangeServer#PROTOCOL}) or, with {@code sessions},
 * a sequence of them ({@link LayerExchangeServer#SESSION_PROTOCOL}, the streams marked reusable).
 */
final class TcpTestTransport implements AutoCloseable {
    private final ServerSocket socket;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final boolean sessions;
    final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

    TcpTestTransport(LayerExchangeServer server) throws IOException {
        this(server, false);
    }

    TcpTestTransport(LayerExchangeServer server, boolean sessions) throws IOException {
        this.sessions = sessions;
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    accepted.incrementAndGet();
                    pool.execute(() -> {
                        try (s) {
                            if (sessions) {
                                server.serveSession(s.getInputStream(), s.getOutputStream());
                            } else {
                                server.serve(s.getInputStream(), s.getOutputStream());
                            }
                        } catch (IOException ignored) {
                            // the protocol error was answered; the connection just ends
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    StreamOpener opener() {
        return () -> {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), socket.getLocalPort());
            return new Duplex() {
                @Override
                public InputStream in() {
                    try {
                        return s.getInputStream();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }

                @Override
                public OutputStream out() {
                    try {
                        return s.getOutputStream();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }

                @Override
                public void close() throws IOException {
                    s.close();
                }

                @Override
                public boolean reusable() {
                    return sessions;
                }
            };
        };
    }

    int port() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        pool.shutdownNow();
    }
}
