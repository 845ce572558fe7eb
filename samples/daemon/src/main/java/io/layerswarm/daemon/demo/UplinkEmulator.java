package io.layerswarm.daemon.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay that emulates a slow, distant uplink in front of a server: every byte from the server
 * to its clients passes one shared {@link TokenBucket} (the link's bandwidth, summed over all
 * connections), and data in each direction is held for half the added round-trip time before it is
 * forwarded (propagation delay; the pipe keeps flowing meanwhile, as on a real long link).
 *
 * <p>Runnable on its own ({@link #main}) so a test can start it inside a network namespace.
 */
public final class UplinkEmulator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UplinkEmulator.class);
    private static final int CHUNK = 16 * 1024;
    /** Chunks in flight per direction: enough for 1 Gbit/s x 200 ms before back-pressure. */
    private static final int QUEUE_CHUNKS = 1600;
    private static final byte[] EOF = new byte[0];

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final TokenBucket downlink;
    private final long oneWayNanos;
    private final InetAddress outboundFrom;
    private final boolean shapeTowardServer;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "uplink-relay");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong bytesDown = new AtomicLong();
    private volatile boolean closed;

    private UplinkEmulator(ServerSocket server, InetSocketAddress target, long bitsPerSecond, Duration rtt,
                           InetAddress outboundFrom, boolean shapeTowardServer) {
        this.server = server;
        this.outboundFrom = outboundFrom;
        this.shapeTowardServer = shapeTowardServer;
        this.target = target;
        this.downlink = new TokenBucket(bitsPerSecond, Math.max(CHUNK, bitsPerSecond / 8 / 100)); // 10 ms burst
        this.oneWayNanos = rtt.toNanos() / 2;
    }

    /**
     * Starts relaying {@code listen} to {@code target}.
     *
     * @param bitsPerSecond bandwidth from the server to all clients together
     * @param addedRtt round-trip time added to every connection
     */
    public static UplinkEmulator start(InetSocketAddress listen, InetSocketAddress target, long bitsPerSecond,
                                       Duration addedRtt) throws IOException {
        return start(listen, target, bitsPerSecond, addedRtt, null);
    }

    /**
     * As {@link #start(InetSocketAddress, InetSocketAddress, long, Duration)}, connecting to the target
     * from {@code outboundFrom} (e.g. 127.0.0.3), so a firewall can tell the relay's connections from
     * direct ones; {@code null} lets the system choose.
     */
    public static UplinkEmulator start(InetSocketAddress listen, InetSocketAddress target, long bitsPerSecond,
                                       Duration addedRtt, InetAddress outboundFrom) throws IOException {
        return start(listen, target, bitsPerSecond, addedRtt, outboundFrom, false);
    }

    /**
     * As above; with {@code shapeTowardServer} the bandwidth limit applies to the bytes clients send to
     * the server instead (a link whose far side dials in), and {@link #bytesDown} counts those.
     */
    public static UplinkEmulator start(InetSocketAddress listen, InetSocketAddress target, long bitsPerSecond,
                                       Duration addedRtt, InetAddress outboundFrom, boolean shapeTowardServer)
            throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(listen, 128);
        UplinkEmulator u = new UplinkEmulator(ss, target, bitsPerSecond, addedRtt, outboundFrom, shapeTowardServer);
        u.threads.execute(u::acceptLoop);
        log.info("event=uplink_listening address={} target={} bps={} rtt_ms={}", ss.getLocalSocketAddress(), target,
                bitsPerSecond, addedRtt.toMillis());
        return u;
    }

    /** The address clients connect to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** {@code http://host:port} of the relay. */
    public String url() {
        InetSocketAddress a = address();
        return "http://" + a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Bytes relayed from the server to clients so far (HTTP headers included). */
    public long bytesDown() {
        return bytesDown.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                threads.execute(() -> relay(client));
            } catch (IOException e) {
                if (!closed) {
                    log.warn("event=uplink_accept_failed error={}", e.toString());
                }
            }
        }
    }

    private void relay(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            if (outboundFrom != null) {
                upstream.bind(new InetSocketAddress(outboundFrom, 0));
            }
            upstream.connect(target, 10_000);
        } catch (IOException e) {
            log.warn("event=uplink_connect_failed target={} error={}", target, e.toString());
            closeQuietly(client);
            closeQuietly(upstream);
            return;
        }
        java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger(2);
        Runnable done = () -> {
            if (open.decrementAndGet() == 0) {
                closeQuietly(client);
                closeQuietly(upstream);
            }
        };
        if (shapeTowardServer) {
            pipe(client, upstream, downlink, bytesDown, done);
            pipe(upstream, client, null, null, done);
        } else {
            pipe(client, upstream, null, null, done);
            pipe(upstream, client, downlink, bytesDown, done);
        }
    }

    /** Reader thread timestamps chunks; writer thread releases each one after the delay and the bucket. */
    private void pipe(Socket from, Socket to, TokenBucket bucket, AtomicLong counter, Runnable done) {
        BlockingQueue<Timed> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
        threads.execute(() -> {
            byte[] buf = new byte[CHUNK];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    queue.put(new Timed(System.nanoTime() + oneWayNanos, java.util.Arrays.copyOf(buf, n)));
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended; the writer finishes what is queued
            } finally {
                try {
                    queue.put(new Timed(System.nanoTime() + oneWayNanos, EOF));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        threads.execute(() -> {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Timed t = queue.take();
                    long wait = t.due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    if (t.data == EOF) {
                        to.shutdownOutput();
                        break;
                    }
                    if (bucket != null) {
                        bucket.take(t.data.length);
                    }
                    out.write(t.data);
                    if (counter != null) {
                        counter.addAndGet(t.data.length);
                    }
                }
                done.run();
            } catch (IOException | InterruptedException e) {
                // a reset or shutdown: tear down both sides of this connection
                closeQuietly(from);
                closeQuietly(to);
            }
        });
    }

    private record Timed(long due, byte[] data) {
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        threads.shutdownNow();
    }

    /**
     * {@code UplinkEmulator LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT MBPS RTT_MS}: runs until
     * killed, printing {@code listening HOST:PORT} once bound.
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: UplinkEmulator LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT MBPS RTT_MS");
            System.exit(2);
        }
        UplinkEmulator u = start(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])),
                new InetSocketAddress(InetAddress.getByName(args[2]), Integer.parseInt(args[3])),
                (long) (Double.parseDouble(args[4]) * 1_000_000), Duration.ofMillis(Long.parseLong(args[5])));
        System.out.println("listening " + u.address().getAddress().getHostAddress() + ":" + u.address().getPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
