package io.layerswarm.nat.relay;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy to {@code target} that closes its first {@code closeFirst} connections after their first
 * bytes arrived, i.e. in the middle of the dialer's handshake (as a relay whose handshake deadline passed under
 * load does), and forwards later ones both ways.
 */
final class ClosingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final int closeFirst;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    ClosingProxy(InetSocketAddress target, int closeFirst) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.target = target;
        this.closeFirst = closeFirst;
        Thread t = new Thread(this::acceptLoop, "closing-proxy");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket s = server.accept();
                sockets.add(s);
                int n = accepted.incrementAndGet();
                Thread t = new Thread(() -> serve(s, n <= closeFirst), "closing-proxy-" + n);
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(Socket s, boolean close) {
        try {
            if (close) {
                // the dialer's first bytes (multistream-select's header) arrived: its upgrade has begun
                if (s.getInputStream().read() >= 0) {
                    s.close();
                }
                return;
            }
            Socket up = new Socket(target.getAddress(), target.getPort());
            sockets.add(up);
            pump(s.getInputStream(), up.getOutputStream(), up);
            pump(up.getInputStream(), s.getOutputStream(), s);
        } catch (IOException e) {
            closeQuietly(s);
        }
    }

    private static void pump(InputStream in, OutputStream out, Socket to) {
        Thread t = new Thread(() -> {
            try {
                in.transferTo(out);
                to.shutdownOutput();
            } catch (IOException e) {
                closeQuietly(to);
            }
        }, "closing-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
