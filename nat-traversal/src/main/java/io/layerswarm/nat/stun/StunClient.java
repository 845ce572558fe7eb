package io.layerswarm.nat.stun;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * STUN binding client (RFC 5389 section 7.2.1): learns the server-reflexive address of a UDP socket,
 * i.e. the public address and port a NAT maps it to. Retransmits with a doubling timeout starting at
 * {@code rto}; datagrams that are not the matching response (garbage, other transactions, other
 * senders) are ignored.
 */
public final class StunClient {
    private static final Logger LOG = LoggerFactory.getLogger(StunClient.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Duration rto;
    private final int attempts;

    /** RFC 5389 defaults shortened for interactive use: 250 ms initial RTO, 5 sends (about 7.75 s). */
    public StunClient() {
        this(Duration.ofMillis(250), 5);
    }

    /** With another initial retransmission timeout and number of sends. */
    public StunClient(Duration rto, int attempts) {
        if (rto.isNegative() || rto.isZero() || attempts < 1) {
            throw new IllegalArgumentException("rto must be positive and attempts >= 1");
        }
        this.rto = rto;
        this.attempts = attempts;
    }

    /**
     * Asks {@code server} what address {@code socket}'s packets arrive from. Blocks; the socket's
     * timeout is changed while it runs.
     *
     * @throws StunException when no valid answer came back or the server answered with an error
     */
    public InetSocketAddress mappedAddress(DatagramSocket socket, InetSocketAddress server) throws IOException {
        byte[] txid = new byte[12];
        RANDOM.nextBytes(txid);
        byte[] request = StunCodec.bindingRequest(txid);
        byte[] buf = new byte[StunCodec.MAX_MESSAGE_SIZE];
        long wait = rto.toMillis();
        int oldTimeout = socket.getSoTimeout();
        try {
            for (int i = 0; i < attempts; i++, wait *= 2) {
                socket.send(new DatagramPacket(request, request.length, server));
                long deadline = System.nanoTime() + wait * 1_000_000;
                while (true) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        break;
                    }
                    socket.setSoTimeout((int) left);
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        socket.receive(p);
                    } catch (SocketTimeoutException e) {
                        break;
                    }
                    if (!server.equals(p.getSocketAddress())) {
                        continue;
                    }
                    StunMessage m;
                    try {
                        m = StunCodec.decode(p.getData(), p.getLength());
                    } catch (StunException e) {
                        LOG.debug("event=stun_garbage from={} reason=\"{}\"", p.getSocketAddress(), e.getMessage());
                        continue;
                    }
                    if (!m.sameTransaction(txid)) {
                        continue;
                    }
                    if (m.type() == StunMessage.BINDING_ERROR) {
                        throw new StunException("STUN server " + server + " answered with an error");
                    }
                    if (m.type() == StunMessage.BINDING_SUCCESS && m.mappedAddress() != null) {
                        LOG.debug("event=stun_mapped server={} local={} mapped={}", server, socket.getLocalSocketAddress(),
                                m.mappedAddress());
                        return m.mappedAddress();
                    }
                }
            }
        } finally {
            socket.setSoTimeout(oldTimeout);
        }
        throw new StunException("no STUN binding response from " + server + " after " + attempts + " attempts");
    }
}
