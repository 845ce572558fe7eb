package io.layerswarm.nat.netns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A third party's UDP ports that count what arrives: all datagrams, and those that are STUN Binding requests
 * carrying USERNAME and MESSAGE-INTEGRITY (ICE connectivity checks signed with a session's credentials).
 */
final class StunSink implements AutoCloseable {
    private final List<DatagramSocket> sockets = new ArrayList<>();
    private final AtomicInteger datagrams = new AtomicInteger();
    private final AtomicInteger signedChecks = new AtomicInteger();

    /** Binds {@code count} ports from {@code first} on {@code ip}. */
    StunSink(String ip, int first, int count) throws SocketException {
        for (int i = 0; i < count; i++) {
            DatagramSocket s = new DatagramSocket(new InetSocketAddress(ip, first + i));
            sockets.add(s);
            Thread t = new Thread(() -> receive(s), "stun-sink-" + (first + i));
            t.setDaemon(true);
            t.start();
        }
    }

    private void receive(DatagramSocket s) {
        byte[] buf = new byte[2048];
        try {
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                s.receive(p);
                datagrams.incrementAndGet();
                if (isSignedBindingRequest(buf, p.getLength())) {
                    signedChecks.incrementAndGet();
                }
            }
        } catch (IOException closed) {
            // the sink closed
        }
    }

    /** A Binding request (0x0001, magic cookie) whose attributes include USERNAME (6) and MESSAGE-INTEGRITY (8). */
    static boolean isSignedBindingRequest(byte[] b, int n) {
        if (n < 20 || b[0] != 0 || b[1] != 1 || (b[4] & 0xff) != 0x21 || (b[5] & 0xff) != 0x12) {
            return false;
        }
        boolean user = false;
        boolean integrity = false;
        for (int i = 20; i + 4 <= n; ) {
            int type = (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
            int len = (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
            user |= type == 0x0006;
            integrity |= type == 0x0008;
            i += 4 + (len + 3) / 4 * 4;
        }
        return user && integrity;
    }

    /** "DATAGRAMS SIGNED-CHECKS" so far. */
    String counts() {
        return datagrams.get() + " " + signedChecks.get();
    }

    @Override
    public void close() {
        sockets.forEach(DatagramSocket::close);
    }
}
