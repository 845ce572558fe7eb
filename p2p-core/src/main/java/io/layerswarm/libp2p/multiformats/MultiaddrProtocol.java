package io.layerswarm.libp2p.multiformats;

/**
 * Multiaddr protocols LayerSwarm understands, with their multicodec code and value size
 * ({@code > 0}: fixed bytes, {@code 0}: no value, {@link #VARIABLE}: varint-length-prefixed).
 */
public enum MultiaddrProtocol {
    /** IPv4 address. */
    IP4(0x04, "ip4", 4),
    /** TCP port. */
    TCP(0x06, "tcp", 2),
    /** UDP port. */
    UDP(0x0111, "udp", 2),
    /** IPv6 address. */
    IP6(0x29, "ip6", 16),
    /** DNS name resolving to any address family. */
    DNS(0x35, "dns", MultiaddrProtocol.VARIABLE),
    /** DNS name resolving to IPv4. */
    DNS4(0x36, "dns4", MultiaddrProtocol.VARIABLE),
    /** DNS name resolving to IPv6. */
    DNS6(0x37, "dns6", MultiaddrProtocol.VARIABLE),
    /** Circuit relay marker. */
    P2P_CIRCUIT(0x0122, "p2p-circuit", 0),
    /** Peer id (binary: multihash). */
    P2P(0x01A5, "p2p", MultiaddrProtocol.VARIABLE),
    /** QUIC draft-29 (recognised so addresses parse; not dialled). */
    QUIC(0x01CC, "quic", 0),
    /** QUIC v1 (RFC 9000). */
    QUIC_V1(0x01CD, "quic-v1", 0);

    /** Marker for varint-length-prefixed values. */
    public static final int VARIABLE = -1;

    private final int code;
    private final String label;
    private final int size;

    MultiaddrProtocol(int code, String label, int size) {
        this.code = code;
        this.label = label;
        this.size = size;
    }

    /** The multicodec code. */
    public int code() {
        return code;
    }

    /** The text name, e.g. {@code tcp}. */
    public String label() {
        return label;
    }

    /** Value size in bytes, 0 for none, {@link #VARIABLE} for length-prefixed. */
    public int size() {
        return size;
    }

    /** Looks a protocol up by text name ({@code ipfs} is accepted as the old name of {@code p2p}). */
    public static MultiaddrProtocol byLabel(String label) {
        if ("ipfs".equals(label)) {
            return P2P;
        }
        for (MultiaddrProtocol p : values()) {
            if (p.label.equals(label)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unsupported multiaddr protocol '" + label + "'");
    }

    /** Looks a protocol up by code. */
    public static MultiaddrProtocol byCode(long code) {
        for (MultiaddrProtocol p : values()) {
            if (p.code == code) {
                return p;
            }
        }
        throw new IllegalArgumentException("unsupported multiaddr protocol code 0x" + Long.toHexString(code));
    }
}
