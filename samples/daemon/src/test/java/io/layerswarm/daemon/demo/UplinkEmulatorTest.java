package io.layerswarm.daemon.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UplinkEmulatorTest {

    /** Relays bytes unchanged in both directions; the downlink cannot beat its rate (a lower bound only). */
    @Test
    void relaysExactBytesNoFasterThanTheLink() throws Exception {
        byte[] payload = new byte[1_000_000];
        new Random(3).nextBytes(payload);
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    byte[] req = s.getInputStream().readNBytes(5);
                    assertArrayEquals("hello".getBytes(), req);
                    s.getOutputStream().write(payload);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            // 8 Mbit/s = 1 MB/s: a megabyte needs about a second
            try (UplinkEmulator u = UplinkEmulator.start(new InetSocketAddress("127.0.0.1", 0),
                    (InetSocketAddress) server.getLocalSocketAddress(), 8_000_000L, Duration.ofMillis(20));
                 Socket c = new Socket("127.0.0.1", u.address().getPort())) {
                long start = System.nanoTime();
                OutputStream out = c.getOutputStream();
                out.write("hello".getBytes());
                InputStream in = c.getInputStream();
                byte[] got = in.readAllBytes();
                double secs = (System.nanoTime() - start) / 1e9;
                assertArrayEquals(payload, got);
                assertEquals(payload.length, u.bytesDown());
                assertTrue(secs >= 0.85, "1 MB over an 8 Mbit/s link took only " + secs + " s");
            }
            t.join(5000);
        }
    }

    /** Shaped toward the server: the client's upload is limited and counted; the relay dials from the given address. */
    @Test
    void shapesTheUploadAndDialsFromTheGivenAddress() throws Exception {
        byte[] payload = new byte[1_000_000];
        new Random(4).nextBytes(payload);
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            java.util.concurrent.CompletableFuture<byte[]> received = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<String> from = new java.util.concurrent.CompletableFuture<>();
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    from.complete(s.getInetAddress().getHostAddress());
                    received.complete(s.getInputStream().readNBytes(payload.length));
                } catch (Exception e) {
                    received.completeExceptionally(e);
                }
            });
            t.start();
            try (UplinkEmulator u = UplinkEmulator.start(new InetSocketAddress("127.0.0.1", 0),
                    (InetSocketAddress) server.getLocalSocketAddress(), 8_000_000L, Duration.ofMillis(20),
                    java.net.InetAddress.getByName("127.0.0.4"), true)) {
                long start = System.nanoTime();
                try (Socket c = new Socket("127.0.0.1", u.address().getPort())) {
                    c.getOutputStream().write(payload); // kept open: the relay ends a connection at its first EOF
                    assertArrayEquals(payload, received.get(60, java.util.concurrent.TimeUnit.SECONDS));
                }
                double secs = (System.nanoTime() - start) / 1e9;
                assertEquals("127.0.0.4", from.get());
                assertEquals(payload.length, u.bytesDown(), "the shaped direction is counted");
                assertTrue(secs >= 0.85, "1 MB up an 8 Mbit/s link took only " + secs + " s");
            }
            t.join(5000);
        }
    }
}
