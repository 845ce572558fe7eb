package io.layerswarm.nat.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import org.ice4j.socket.IceSocketWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries one QUIC connection over an ICE pair that ice4j holds (a pair through a TURN relay, whose
 * allocation and permissions live in ice4j's sockets): QUIC's UDP socket, bound to {@link #quicSide()} on
 * loopback, talks to this bridge's loopback socket ({@link #forwarder()}), which sends each datagram to the
 * peer through the pair's socket and hands each datagram from the peer back to QUIC. Datagrams from any other
 * local socket are dropped, so no other local process can use the relay.
 */
final class TurnBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TurnBridge.class);
    /** Larger than any QUIC datagram (QuicTransport sends at most 1452 bytes). */
    private static final int MAX_DATAGRAM = 2048;

    private final IceSocketWrapper ice;
    private final InetSocketAddress peer;
    private final DatagramSocket loop;
    private final InetSocketAddress quic;

    /**
     * @param ice the nominated pair's socket ({@link IceAgent#dataSocket()})
     * @param peer the peer's end of the pair
     */
    TurnBridge(IceSocketWrapper ice, InetSocketAddress peer) throws SocketException {
        this.ice = ice;
        this.peer = peer;
        InetAddress lo = InetAddress.getLoopbackAddress();
        loop = new DatagramSocket(new InetSocketAddress(lo, 0));
        // QUIC binds this port itself right after (a port taken meanwhile fails the bind, not the data path)
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(lo, 0))) {
            quic = new InetSocketAddress(lo, probe.getLocalPort());
        }
    }

    /** Where QUIC sends its datagrams. */
    InetSocketAddress forwarder() {
        return (InetSocketAddress) loop.getLocalSocketAddress();
    }

    /** The loopback address QUIC's socket must be bound to. */
    InetSocketAddress quicSide() {
        return quic;
    }

    /** Starts forwarding in both directions (two daemon threads, ending with {@link #close()}). */
    TurnBridge start() {
        thread("turn-bridge-out", this::outbound);
        thread("turn-bridge-in", this::inbound);
        return this;
    }

    private static void thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void outbound() {
        byte[] buf = new byte[MAX_DATAGRAM];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            while (true) {
                p.setLength(buf.length);
                loop.receive(p);
                if (!quic.equals(p.getSocketAddress())) {
                    continue;
                }
                ice.send(new DatagramPacket(buf, p.getLength(), peer));
            }
        } catch (IOException e) {
            ended("out", e);
        }
    }

    private void inbound() {
        byte[] buf = new byte[MAX_DATAGRAM];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            while (true) {
                p.setLength(buf.length);
                ice.receive(p);
                // QUIC v1 packets have the fixed bit (0x40) set, STUN's first two bits are 0: checks stay with ice4j
                if (p.getLength() == 0 || (buf[0] & 0xC0) == 0) {
                    continue;
                }
                loop.send(new DatagramPacket(buf, p.getLength(), quic));
            }
        } catch (IOException e) {
            ended("in", e);
        }
    }

    private void ended(String direction, IOException e) {
        if (!loop.isClosed()) {
            LOG.info("event=turn_bridge_ended direction={} peer={} reason=\"{}\"", direction, peer, e.toString());
            loop.close();
        }
    }

    @Override
    public void close() {
        loop.close();
    }
}
